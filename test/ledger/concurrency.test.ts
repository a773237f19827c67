import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { freshDbName, startTestApp, type ApiResponse, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, points, registerMember } from '../helpers/ledger.js';

/** Three app instances (three processes, as far as the ledger can tell) over one database, on one clock. */
const clock = new ManualClock('2026-03-01T08:00:00Z');
const instances: TestApp[] = [];
const on = (i: number) => instances[i % instances.length] as TestApp;
let first: TestApp;

beforeAll(async () => {
  const dbName = freshDbName('ledger_conc');
  for (let i = 0; i < 3; i++) instances.push(await startTestApp({ dbName, clock }));
  first = on(0);
});
afterAll(async () => {
  for (const [i, api] of instances.entries()) await api.close({ keepDatabase: i < instances.length - 1 });
});

const statuses = (results: ApiResponse[]) =>
  results.reduce<Record<string, number>>((acc, r) => {
    const k = r.status >= 400 ? `${r.status} ${r.body.error.code}` : String(r.status);
    acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});

describe('ledger under concurrency, three instances over one database', () => {
  it('when 200 spends of 10 race for a balance of 1,000 across three instances, then exactly 100 land and 100 get 409 INSUFFICIENT_POINTS', async () => {
    await registerMember(first, 'spender');
    await earned(first, 'spender', 1000);

    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => points.spend(on(i), 'spender', { amount: 10, code: 'redemption' })));

    expect(statuses(results)).toEqual({ '201': 100, '409 INSUFFICIENT_POINTS': 100 });
    for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'INSUFFICIENT_POINTS');
    const landed = results.filter((r) => r.status === 201);
    // Each spend was decided on the state its seq follows: seqs 2..101, and each one's balance after is 10 lower.
    const bySeq = landed.map((r) => r.body.entry).sort((a, b) => a.seq - b.seq);
    expect(bySeq.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(bySeq.map((e) => e.balanceAfter.available)).toEqual(Array.from({ length: 100 }, (_, i) => 990 - 10 * i));

    for (const api of instances) {
      const balance = await balanceOf(api, 'spender');
      expect(balance).toMatchObject({ available: 0, held: 0, debt: 0, seq: 101 });
      expect(balance.lifetime).toMatchObject({ earned: 1000, spent: 1000 });
    }
    const history = await historyOf(first, 'spender');
    expect(history).toHaveLength(101);
    expect(history.filter((e) => e.kind === 'spend')).toHaveLength(100);
    await expectLedgerClean(instances);
  });

  it('when 60 earns race across three instances, then every one lands once, the sum is exact and seq runs 1..60', async () => {
    await registerMember(first, 'earner');
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => points.earn(on(i), 'earner', { amount: i + 1, code: 'order' })));
    expect(statuses(results)).toEqual({ '201': 60 });

    const sum = (60 * 61) / 2;
    for (const api of instances) {
      const balance = await balanceOf(api, 'earner');
      expect(balance).toMatchObject({ available: sum, held: 0, seq: 60 });
      expect(balance.lifetime.earned).toBe(sum);
    }
    const history = await historyOf(on(1), 'earner');
    expect(history.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => 60 - i));
    expect(history.map((e) => e.amount).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    await expectLedgerClean(instances);
  });
});

describe('one hold, resolved concurrently', () => {
  /** A member with 100 points and one open hold of 60 (ttl in seconds). */
  async function memberWithHold(memberId: string, ttlSeconds = 900): Promise<string> {
    await registerMember(first, memberId);
    await earned(first, memberId, 100);
    const hold = await points.hold(first, memberId, { amount: 60, code: 'redemption', ttlSeconds });
    expect(hold.status, hold.text).toBe(201);
    expect(hold.body.hold).toMatchObject({ amount: 60, status: 'active' });
    return hold.body.hold.id as string;
  }

  const resolutionsOf = async (memberId: string, holdId: string) =>
    (await historyOf(first, memberId)).filter((e) => e.holdId === holdId && e.kind !== 'hold');

  it('when captures and releases of one live hold race from three instances, then exactly one lands and the rest get 409 HOLD_NOT_ACTIVE', async () => {
    for (let round = 0; round < 5; round++) {
      const memberId = `racer-${round}`;
      const holdId = await memberWithHold(memberId);
      const attempts = [
        () => points.capture(on(0), holdId, { amount: 60 }),
        () => points.release(on(1), holdId),
        () => points.capture(on(2), holdId, { amount: 25 }),
        () => points.release(on(0), holdId),
        () => points.capture(on(1), holdId),
        () => points.release(on(2), holdId),
      ];
      const results = await Promise.all(attempts.map((attempt) => attempt()));

      expect(statuses(results)).toEqual({ '201': 1, '409 HOLD_NOT_ACTIVE': 5 });
      const winner = results.find((r) => r.status === 201) as ApiResponse;
      const resolutions = await resolutionsOf(memberId, holdId);
      expect(resolutions).toHaveLength(1);
      expect(resolutions[0].id).toBe(winner.body.entry.id);
      const captured = winner.body.hold.captured as number;
      expect(winner.body.hold.status).toBe(captured > 0 ? 'captured' : 'released');
      const balance = await balanceOf(on(round), memberId);
      expect(balance).toMatchObject({ available: 100 - captured, held: 0, debt: 0, seq: 3 });
    }
    await expectLedgerClean(instances);
  });

  it('when a capture, a release and a sweep race on a hold past its time, then only the time-out lands and both requests get 409 HOLD_NOT_ACTIVE', async () => {
    for (let round = 0; round < 3; round++) {
      const memberId = `late-${round}`;
      const holdId = await memberWithHold(memberId, 60);
      for (const api of instances) await api.built.flush(); // the sweep finds due accounts through the account caches
      clock.advance({ seconds: 61 });

      const [capture, release] = await Promise.all([
        points.capture(on(round), holdId, { amount: 60 }),
        points.release(on(round + 1), holdId),
        on(round + 2).built.services.ledger.sweep(),
      ]);
      expectError(capture, 409, 'HOLD_NOT_ACTIVE');
      expectError(release, 409, 'HOLD_NOT_ACTIVE');

      const resolutions = await resolutionsOf(memberId, holdId);
      expect(resolutions).toHaveLength(1);
      expect(resolutions[0]).toMatchObject({ kind: 'release', code: 'hold_timeout', points: 0 });
      const balance = await balanceOf(first, memberId);
      expect(balance).toMatchObject({ available: 100, held: 0, seq: 3 });
    }
    await expectLedgerClean(instances);
  });
});
