import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { freshDbName, startTestApp, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, newKey, points, registerMember } from '../helpers/ledger.js';

/**
 * Three app instances over one database stand for three processes behind a load balancer: each remembers the heads
 * of the accounts it has seen, and those memories go stale whenever another instance writes.
 */
const clock = new ManualClock('2026-03-01T08:00:00Z');
const instances: TestApp[] = [];
let a: TestApp;
let b: TestApp;
let c: TestApp;

beforeAll(async () => {
  const dbName = freshDbName('ledger_proc');
  for (let i = 0; i < 3; i++) instances.push(await startTestApp({ dbName, clock }));
  [a, b, c] = instances as [TestApp, TestApp, TestApp];
});
afterAll(async () => {
  for (const [i, api] of instances.entries()) await api.close({ keepDatabase: i < instances.length - 1 });
});

describe('refusals rest on the database, not on what a process remembers', () => {
  it('when B read a balance before A earned, then a spend on B is decided on the new balance, and its key replays the success', async () => {
    await registerMember(a, 'stale-spend');
    expect((await balanceOf(b, 'stale-spend')).available).toBe(0); // B now remembers an empty account
    await earned(a, 'stale-spend', 100);

    const key = newKey();
    const spent = await points.spend(b, 'stale-spend', { amount: 50, code: 'redemption' }, { key });
    expect(spent.status, spent.text).toBe(201);
    expect(spent.body.balance).toMatchObject({ available: 50, seq: 2 });
    const again = await points.spend(b, 'stale-spend', { amount: 50, code: 'redemption' }, { key });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.entry.id).toBe(spent.body.entry.id);
    await expectLedgerClean(instances);
  });

  it('when B knew the account before A placed a hold, then a capture and a release on B find the hold', async () => {
    await registerMember(a, 'stale-hold');
    await earned(a, 'stale-hold', 100);
    expect((await balanceOf(b, 'stale-hold')).seq).toBe(1);
    expect((await balanceOf(c, 'stale-hold')).seq).toBe(1);
    const first = await points.hold(a, 'stale-hold', { amount: 40, code: 'redemption' });
    const second = await points.hold(a, 'stale-hold', { amount: 30, code: 'redemption' });
    expect([first.status, second.status]).toEqual([201, 201]);

    const captured = await points.capture(b, first.body.hold.id, { amount: 25 });
    expect(captured.status, captured.text).toBe(201);
    expect(captured.body.hold).toMatchObject({ status: 'captured', captured: 25 });
    const released = await points.release(c, second.body.hold.id);
    expect(released.status, released.text).toBe(201);
    expect(await balanceOf(a, 'stale-hold')).toMatchObject({ available: 75, held: 0, seq: 5 });
    await expectLedgerClean(instances);
  });

  it('when B knew the account before A earned, then a reversal and a negative adjustment on B are decided on the new state', async () => {
    await registerMember(a, 'stale-reverse');
    const first = await earned(a, 'stale-reverse', 10);
    expect((await balanceOf(b, 'stale-reverse')).seq).toBe(1);
    const second = await earned(a, 'stale-reverse', 90);

    const reversed = await points.reverse(b, second.body.entry.id, { amount: 90, code: 'order_refund' });
    expect(reversed.status, reversed.text).toBe(201);
    expect((await balanceOf(c, 'stale-reverse')).seq).toBe(3);
    await earned(a, 'stale-reverse', 50);
    const adjusted = await points.adjust(c, 'stale-reverse', { delta: -60, reason: 'goodwill correction' });
    expect(adjusted.status, adjusted.text).toBe(201);
    expect(await balanceOf(a, 'stale-reverse')).toMatchObject({ available: 0, seq: 5 });
    expect(first.status).toBe(201);
    await expectLedgerClean(instances);
  });

  it('when a spend is refused on the true balance, then its key replays the refusal even after points arrive', async () => {
    await registerMember(a, 'true-refusal');
    await earned(a, 'true-refusal', 10);
    const key = newKey();
    expectError(await points.spend(b, 'true-refusal', { amount: 50, code: 'redemption' }, { key }), 409, 'INSUFFICIENT_POINTS');
    await earned(a, 'true-refusal', 100);
    const again = await points.spend(c, 'true-refusal', { amount: 50, code: 'redemption' }, { key });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INSUFFICIENT_POINTS');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await balanceOf(a, 'true-refusal')).available).toBe(110);
  });
});

describe('a request re-sent after its idempotency record was purged', () => {
  const purge = async () => {
    for (const name of ['idempotency_claims', 'idempotency_results']) await a.db.collection(name).deleteMany({});
  };

  it('when a spend is re-sent with its key after the purge, then it answers the entry it landed, not a refusal', async () => {
    await registerMember(a, 'purged-spend');
    await earned(a, 'purged-spend', 100);
    const key = newKey();
    const spent = await points.spend(a, 'purged-spend', { amount: 80, code: 'redemption' }, { key });
    expect(spent.status, spent.text).toBe(201);
    await purge();

    for (const api of [a, b]) {
      const again = await points.spend(api, 'purged-spend', { amount: 80, code: 'redemption' }, { key });
      expect(again.status, again.text).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.entry.id).toBe(spent.body.entry.id);
    }
    expect(await balanceOf(a, 'purged-spend')).toMatchObject({ available: 20, seq: 2 });
  });

  it('when a capture and a reversal are re-sent after the purge, then each answers what it landed', async () => {
    await registerMember(a, 'purged-resolve');
    const earn = await earned(a, 'purged-resolve', 100);
    const hold = await points.hold(a, 'purged-resolve', { amount: 40, code: 'redemption' });
    const captureKey = newKey();
    const captured = await points.capture(a, hold.body.hold.id, { amount: 40 }, { key: captureKey });
    const reverseKey = newKey();
    const reversed = await points.reverse(a, earn.body.entry.id, { amount: 60, code: 'order_refund' }, { key: reverseKey });
    expect([hold.status, captured.status, reversed.status]).toEqual([201, 201, 201]);
    await purge();

    const captureAgain = await points.capture(b, hold.body.hold.id, { amount: 40 }, { key: captureKey });
    expect(captureAgain.status, captureAgain.text).toBe(201);
    expect(captureAgain.body.entry.id).toBe(captured.body.entry.id);
    const reverseAgain = await points.reverse(b, earn.body.entry.id, { amount: 60, code: 'order_refund' }, { key: reverseKey });
    expect(reverseAgain.status, reverseAgain.text).toBe(201);
    expect(reverseAgain.body.entry.id).toBe(reversed.body.entry.id);
    // Another request under the capture's hold is still refused.
    expectError(await points.release(b, hold.body.hold.id), 409, 'HOLD_NOT_ACTIVE');
    expect(await balanceOf(a, 'purged-resolve')).toMatchObject({ available: 0, seq: 4 });
  });
});

describe('clocks that disagree between processes', () => {
  it('when a hold is released by a process whose clock is behind, after another expired the lot, then the returned points expire too', async () => {
    const T = new Date('2026-03-01T12:00:00Z');
    const ahead = new ManualClock(new Date(T.getTime() - 60_000));
    const behind = new ManualClock(new Date(T.getTime() - 60_000));
    const dbName = freshDbName('ledger_skew');
    const p = await startTestApp({ dbName, clock: ahead });
    const q = await startTestApp({ dbName, clock: behind });
    try {
      await registerMember(p, 'skewed');
      await earned(p, 'skewed', 100, { expiresAt: T.toISOString() });
      const hold = await points.hold(p, 'skewed', { amount: 40, code: 'redemption', ttlSeconds: 3600 });
      expect(hold.status, hold.text).toBe(201);
      expect((await balanceOf(q, 'skewed')).held).toBe(40);

      ahead.set(new Date(T.getTime() + 1000)); // 2 s of skew: p is a second past the lot's expiry, q a second before it
      behind.set(new Date(T.getTime() - 1000));
      await p.built.services.ledger.sweepAccounts(['skewed']);
      const released = await points.release(q, hold.body.hold.id);
      expect(released.status, released.text).toBe(201);

      ahead.advance({ hours: 1 });
      behind.advance({ hours: 1 });
      await p.built.services.ledger.sweepAccounts(['skewed']);
      await q.built.services.ledger.sweepAccounts(['skewed']);
      const balance = await balanceOf(q, 'skewed');
      expect(balance).toMatchObject({ available: 0, held: 0 });
      expect(balance.lifetime.expired).toBe(100);
      const { entries } = await expectLedgerClean([p, q]);
      expect(entries).toBeGreaterThan(0);
      const head = await p.db.collection('points_entries').find({ memberId: 'skewed' }).sort({ seq: -1 }).limit(1).next();
      expect(head?.state.lots).toEqual([]);
    } finally {
      await q.close({ keepDatabase: true });
      await p.close();
    }
  });
});

describe('reversals of an entry older than the state lists', () => {
  it('when reversals of one old entry race on three instances, then exactly what was left of it is taken back', async () => {
    await registerMember(a, 'old-race');
    const old = await earned(a, 'old-race', 100);
    expect((await points.reverse(a, old.body.entry.id, { amount: 10, code: 'order_refund' })).status).toBe(201);
    for (let i = 0; i < 35; i++) {
      const e = await earned(a, 'old-race', 1);
      expect((await points.reverse(a, e.body.entry.id, { amount: 1, code: 'order_refund' })).status).toBe(201);
    }
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => points.reverse(instances[i % 3] as TestApp, old.body.entry.id, { amount: 10, code: 'order_refund' })),
    );
    const landed = results.filter((r) => r.status === 201);
    expect(landed).toHaveLength(9);
    for (const r of results.filter((x) => x.status !== 201)) expect(['ALREADY_REVERSED', 'REVERSAL_EXCEEDS_ENTRY']).toContain(r.body.error.code);
    expect(await balanceOf(a, 'old-race')).toMatchObject({ available: 0, debt: 0 });
    await expectLedgerClean(instances);
  });
});
