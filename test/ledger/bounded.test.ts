import { calculateObjectSize } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operation } from '../../src/modules/ledger/index.js';
import { entryId } from '../../src/modules/ledger/ledger.model.js';
import * as rules from '../../src/modules/ledger/ledger.state.js';
import type { AccountState, Draft } from '../../src/modules/ledger/ledger.state.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, points, registerMember } from '../helpers/ledger.js';

/**
 * Every entry carries the account's state after it, so that state must stay bounded whatever the account's history:
 * the stated bound (docs/LEDGER.md) is 12 KiB per entry for an account with no open holds, however many reversals and
 * distinct expiry dates it has seen.
 */
const ENTRY_BOUND_BYTES = 12 * 1024;
let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});

const op = (id: string): Operation => ({ opId: `bounded:${id}`, actor: { role: 'service', sub: 'bounded-test' } });
const entries = () => api.db.collection('points_entries');
async function largestEntry(memberId: string): Promise<number> {
  let max = 0;
  for await (const e of entries().find({ memberId })) max = Math.max(max, calculateObjectSize(e));
  return max;
}

/** The entry document the service writes for a draft (ledger.service.ts `commit`), to weigh it as stored. */
function entryDoc(memberId: string, seq: number, d: Draft, at: Date) {
  return {
    _id: entryId(memberId, seq), memberId, seq, opId: 'x'.repeat(43), fingerprint: 'y'.repeat(43), kind: d.kind, amount: d.amount,
    points: d.points, code: 'order_refund', ref: { type: 'order', id: 'SO-0000000001' }, lots: d.lots ?? [], holdId: d.holdId ?? null,
    reverses: d.reverses ?? null, expired: d.expired ?? 0, expiresAt: d.expiresAt ?? null, actor: { role: 'service', sub: 'orders' },
    createdAt: at, state: d.state,
  };
}

describe('the state carried in every entry stays bounded', () => {
  it('when one account sees 1,000 distinct expiry dates and 10,000 reversals, then every entry stays under the bound, no point expires sooner than promised, and the books balance', () => {
    const m = 'long-lived';
    let state = rules.emptyState();
    let seq = 0;
    let sum = 0;
    let largest = 0;
    const now = new Date('2026-03-01T08:00:00Z');
    const reversalsOf = new Map<string, number>(); // what the ledger's lookup sums from reversal entries
    const apply = (make: (s: AccountState, id: string) => Draft): Draft => {
      const d = make(state, entryId(m, seq + 1));
      seq++;
      sum += d.amount;
      state = d.state;
      expect(rules.stateProblems(state)).toEqual([]);
      expect(state.available + state.held).toBe(sum);
      largest = Math.max(largest, calculateObjectSize(entryDoc(m, seq, d, now)));
      return d;
    };
    const reverse = (target: { id: string; lots: Array<{ lot: string; amount: number }> }, amount: number) => {
      const soFar = rules.reversalsUnlisted(state, target.id) ? (reversalsOf.get(target.id) ?? 0) : undefined;
      apply((s) => rules.reverse(s, { id: target.id, kind: 'earn', points: 10, lots: target.lots }, amount, now, soFar));
      reversalsOf.set(target.id, (reversalsOf.get(target.id) ?? 0) + amount);
    };

    const earns: Array<{ id: string; lots: Array<{ lot: string; amount: number }> }> = [];
    for (let i = 0; i < 1000; i++) {
      const promised = new Date(now.getTime() + 86_400_000 + i * 3_600_000); // a new expiry instant every earn
      const id = entryId(m, seq + 1);
      const e = apply((s) => rules.earn(s, 10, promised, now));
      expect((e.expiresAt as Date).getTime()).toBeGreaterThanOrEqual(promised.getTime());
      earns.push({ id, lots: e.lots ?? [] });
      if (i % 100 === 99) {
        // A hold over many lots, released after more merges: what it drew comes back where the merges put it.
        const hold = apply((s, holdId) => rules.hold(s, holdId, 500, new Date(now.getTime() + 600_000), 'redemption', now));
        apply((s) => rules.earn(s, 10, new Date(promised.getTime() + 1800_000), now));
        earns.push({ id: entryId(m, seq), lots: [] });
        apply((s) => rules.resolveHold(s, hold.holdId as string, 0, now));
      }
    }
    expect(state.lots.length).toBeLessThanOrEqual(rules.MAX_LOTS);
    let reversals = 0;
    for (const [i, target] of earns.entries()) {
      for (let k = 0; k < 9; k++, reversals++) reverse(target, 1);
      // Every 50 targets, finish one reversed long ago: the state no longer lists it, so its reversals are summed.
      if (i % 50 === 49) {
        const old = earns[i - 45] as (typeof earns)[number];
        expect(rules.reversalsUnlisted(state, old.id)).toBe(true);
        reverse(old, 1);
        reversals++;
      }
    }
    for (const target of earns) {
      if ((reversalsOf.get(target.id) ?? 0) >= 10 || reversals >= 10_000) continue;
      reverse(target, 1);
      reversals++;
    }
    expect(reversals).toBeGreaterThanOrEqual(10_000);
    expect(state.reversed.length).toBeLessThanOrEqual(rules.MAX_REVERSED);
    expect(largest).toBeLessThan(ENTRY_BOUND_BYTES);
  });

  it('when the service writes an account with 100 distinct expiry dates and 305 reversals, then every stored entry stays under the bound and the ledger is clean', async () => {
    const ledger = api.built.services.ledger;
    const m = 'long-lived-stored';
    await registerMember(api, m);
    const start = api.clock.now().getTime();
    const earns: string[] = [];
    for (let i = 0; i < 100; i++) {
      const expiresAt = new Date(start + 86_400_000 + i * 3_600_000);
      const { entry } = await ledger.earnPoints(m, { amount: 10, code: 'order', expiresAt }, op(`earn-${i}`));
      earns.push(entry._id);
    }
    let n = 0;
    for (const [i, target] of earns.entries()) {
      for (let k = 0; k < 3; k++) await ledger.reverseEntry(target, { amount: 1, code: 'order_refund' }, op(`rev-${n++}`));
      if (i % 12 === 11 && i >= 40) await ledger.reverseEntry(earns[i - 40] as string, { amount: 1, code: 'order_refund' }, op(`rev-${n++}`)); // an old one
    }
    expect(n).toBe(305);
    const balance = await balanceOf(api, m);
    expect(balance).toMatchObject({ available: 1000 - 305, held: 0, debt: 0, seq: 405 });
    expect(await largestEntry(m)).toBeLessThan(ENTRY_BOUND_BYTES);
    const head = await entries().findOne({ _id: entryId(m, 405) as never });
    expect(head?.state.lots.length).toBeLessThanOrEqual(rules.MAX_LOTS);
    expect(head?.state.reversed.length).toBeLessThanOrEqual(rules.MAX_REVERSED);
    await expectLedgerClean([api]);
  });

  it('when an entry reversed long ago is reversed again, then what was reversed of it then still counts', async () => {
    // Its own database: on FerretDB v1 the lookup of an old entry's reversals is a scan of the entries collection.
    const api = await startTestApp();
    const entries = () => api.db.collection('points_entries');
    const m = 'old-reversal';
    await registerMember(api, m);
    const old = await earned(api, m, 100);
    expect((await points.reverse(api, old.body.entry.id, { amount: 60, code: 'order_refund' })).status).toBe(201);
    // Many later entries reversed since, so the old one is no longer among those the state lists.
    for (let i = 0; i < 40; i++) {
      const e = await earned(api, m, 5);
      expect((await points.reverse(api, e.body.entry.id, { amount: 5, code: 'order_refund' })).status).toBe(201);
    }
    const head = await entries().find({ memberId: m }).sort({ seq: -1 }).limit(1).next();
    expect(head?.state.reversed.map((r: { entry: string }) => r.entry)).not.toContain(old.body.entry.id);

    const tooMuch = await points.reverse(api, old.body.entry.id, { amount: 41, code: 'order_refund' });
    expectError(tooMuch, 409, 'REVERSAL_EXCEEDS_ENTRY');
    expect(tooMuch.body.error.details).toEqual({ left: 40, requested: 41 });
    expect((await points.reverse(api, old.body.entry.id, { amount: 40, code: 'order_refund' })).status).toBe(201);
    expectError(await points.reverse(api, old.body.entry.id, { amount: 1, code: 'order_refund' }), 409, 'ALREADY_REVERSED');
    expect(await balanceOf(api, m)).toMatchObject({ available: 0, debt: 0 });
    await expectLedgerClean([api]);
    await api.close();
  });
});
