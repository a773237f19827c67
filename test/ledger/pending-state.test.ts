import { calculateObjectSize } from 'bson';
import { describe, expect, it } from 'vitest';
import * as rules from '../../src/modules/ledger/ledger.state.js';
import { memoryAccount } from '../helpers/ledger-state.js';
import type { AccountState, Draft } from '../../src/modules/ledger/ledger.state.js';

/**
 * Pending points in the ledger's arithmetic (docs/LEDGER.md): an earn with an availability is in the balance but not
 * spendable until then, pays no debt until then, never expires before then, and a reversal takes it back cleanly.
 */
const T0 = new Date('2026-03-01T08:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * 86_400_000);
const EXPIRY = new Date('2027-03-31T23:59:59.999Z');

const earnTarget = (id: string, d: Draft) => ({ id, kind: 'earn' as const, points: d.points, lots: d.lots, availableAt: d.availableAt ?? null });

describe('ledger state: pending points', () => {
  it('when an earn is pending, then it is in the balance but neither spendable nor holdable until its time, and then it is with no entry', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 40, EXPIRY, T0));
    const e = a.apply((s) => rules.earn(s, 100, EXPIRY, T0, at(14)));
    expect(e.availableAt).toEqual(at(14));
    expect(e.lots).toEqual([{ lot: rules.lotId(EXPIRY, at(14)), amount: 100 }]);
    expect(a.state).toMatchObject({ available: 40, pending: 100, held: 0 });
    expect(rules.spendable(a.state, at(13))).toBe(40);

    const refused = a.rejects((s) => rules.spend(s, 41, at(13)), 'INSUFFICIENT_POINTS');
    expect(refused.details).toMatchObject({ available: 40, pending: 100, requested: 41 });
    a.rejects((s) => rules.hold(s, 'h', 41, at(14), 'redemption', at(13)), 'INSUFFICIENT_POINTS');

    // Fourteen days on: the same state, with no entry in between, spends 140 from the one available lot of its expiry.
    expect(rules.spendable(a.state, at(14))).toBe(140);
    expect(rules.ripenedAt(a.state, at(14))).toMatchObject({ available: 140, pending: 0 });
    const spent = a.apply((s) => rules.spend(s, 140, at(14)));
    expect(spent.lots).toEqual([{ lot: rules.lotId(EXPIRY), amount: 140 }]);
    expect(a.state).toMatchObject({ available: 0, pending: 0, lots: [] });
  });

  it('when a debt is open, then a pending earn leaves it open until the points become available, and pays it then', () => {
    const a = memoryAccount();
    const e = a.apply((s) => rules.earn(s, 50, EXPIRY, T0));
    a.apply((s) => rules.spend(s, 50, T0));
    a.apply((s) => rules.reverse(s, earnTarget('m:000000000001', e), undefined, T0));
    expect(a.state).toMatchObject({ available: -50, debt: 50 });
    a.apply((s) => rules.earn(s, 80, EXPIRY, T0, at(7)));
    expect(a.state).toMatchObject({ available: -50, debt: 50, pending: 80 });
    expect(rules.spendable(a.state, at(6))).toBe(-50);
    expect(rules.spendable(a.state, at(7))).toBe(30);
    const after = a.apply((s) => rules.spend(s, 30, at(7)));
    expect(after.state).toMatchObject({ available: 0, debt: 0, pending: 0 });
  });

  it('when a pending earn is reversed in part and then in full, then only its pending points go and the available balance never moves', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 70, EXPIRY, T0));
    const e = a.apply((s) => rules.earn(s, 100, EXPIRY, T0, at(14)));
    const target = earnTarget('m:000000000002', e);
    const part = a.apply((s) => rules.reverse(s, target, 30, at(1)));
    expect(part.lots).toEqual([{ lot: rules.lotId(EXPIRY, at(14)), amount: 30 }]);
    expect(a.state).toMatchObject({ available: 70, pending: 70, debt: 0 });
    a.apply((s) => rules.reverse(s, target, undefined, at(2)));
    expect(a.state).toMatchObject({ available: 70, pending: 0, debt: 0 });
    a.rejects((s) => rules.reverse(s, target, 1, at(3)), 'ALREADY_REVERSED');
  });

  it('when an available earn is reversed after its points were spent, then the debt waits for pending points rather than taking them', () => {
    const a = memoryAccount();
    const e = a.apply((s) => rules.earn(s, 50, EXPIRY, T0));
    a.apply((s) => rules.spend(s, 50, T0));
    a.apply((s) => rules.earn(s, 100, EXPIRY, T0, at(14)));
    a.apply((s) => rules.reverse(s, earnTarget('m:000000000001', e), undefined, at(1)));
    expect(a.state).toMatchObject({ available: -50, debt: 50, pending: 100 });
    expect(rules.spendable(a.state, at(14))).toBe(50);
  });

  it('when a pending earn is reversed after its time, then it is taken back from the available lot its points went to', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 20, new Date('2026-12-31T23:59:59.999Z'), T0));
    const e = a.apply((s) => rules.earn(s, 100, EXPIRY, T0, at(14)));
    const r = a.apply((s) => rules.reverse(s, earnTarget('m:000000000002', e), 60, at(20)));
    expect(r.lots).toEqual([{ lot: rules.lotId(EXPIRY), amount: 60 }]);
    expect(a.state).toMatchObject({ available: 60, pending: 0 });
  });

  it('when a pending lot is swept at its expiry, then it expires only what is left after it became available, never while pending', () => {
    const a = memoryAccount();
    const expiry = at(30);
    a.apply((s) => rules.earn(s, 100, expiry, T0, at(10)));
    expect(rules.dueItems(a.state)).toEqual([{ item: `lot:${rules.lotId(expiry, at(10))}`, dueAt: expiry }]);
    expect(rules.dueWork(a.state, at(29))).toEqual({ lots: [], holds: [] });
    a.apply((s) => rules.spend(s, 30, at(12)));
    expect(rules.dueWork(a.state, expiry)).toEqual({ lots: [rules.lotId(expiry)], holds: [] });
    const x = a.apply((s) => rules.expireLot(s, rules.lotId(expiry), expiry) as Draft);
    expect(x).toMatchObject({ kind: 'expire', amount: -70 });
  });

  it('when more lots than the bound are pending, then the two closest merge into the later availability and expiry, and none is available or expires sooner than promised', () => {
    const a = memoryAccount();
    const promised = new Map<string, { availableAt: Date; expiresAt: Date }>();
    for (let i = 0; i < rules.MAX_LOTS + 10; i++) {
      const availableAt = new Date(at(1).getTime() + i * 3_600_000 + (i % 3) * 60_000);
      const expiresAt = new Date(EXPIRY.getTime() + (i % 4) * 86_400_000);
      const e = a.apply((s) => rules.earn(s, 10, expiresAt, T0, availableAt));
      promised.set(`e${i}`, { availableAt, expiresAt });
      expect((e.availableAt as Date).getTime()).toBeGreaterThanOrEqual(availableAt.getTime());
      expect((e.expiresAt as Date).getTime()).toBeGreaterThanOrEqual(expiresAt.getTime());
    }
    expect(a.state.lots.length).toBeLessThanOrEqual(rules.MAX_LOTS);
    expect(a.state).toMatchObject({ pending: (rules.MAX_LOTS + 10) * 10, available: 0 });
    // Whatever merged, no point is spendable before the earliest availability any earn was promised, and all of it after the last.
    const earliest = Math.min(...[...promised.values()].map((p) => p.availableAt.getTime()));
    expect(rules.spendable(a.state, new Date(earliest - 1))).toBe(0);
    const last = Math.max(...a.state.lots.map((l) => (l.availableAt as Date).getTime()));
    expect(rules.spendable(a.state, new Date(last))).toBe((rules.MAX_LOTS + 10) * 10);
  });

  it('when both available and pending lots crowd an account, then available lots never merge into pending ones, and the state stays within the entry bound', () => {
    const a = memoryAccount();
    const earns: Array<ReturnType<typeof earnTarget>> = [];
    const earn = (expiresAt: Date, availableAt?: Date) => {
      const id = `m:${String(earns.length + 1).padStart(12, '0')}`;
      earns.push(earnTarget(id, a.apply((s) => rules.earn(s, 10, expiresAt, T0, availableAt ?? null))));
    };
    for (let i = 0; i < 30; i++) earn(new Date(EXPIRY.getTime() + i * 86_400_000));
    for (let i = 0; i < 30; i++) earn(EXPIRY, new Date(at(1).getTime() + i * 86_400_000));
    // One point back from each of the last 32 earns, the pending ones among them: the state lists 32 reversed entries.
    for (const target of earns.slice(-rules.MAX_REVERSED)) a.apply((s) => rules.reverse(s, target, 1, T0));
    expect(a.state.lots.length).toBeLessThanOrEqual(rules.MAX_LOTS);
    expect(a.state.reversed).toHaveLength(rules.MAX_REVERSED);
    expect(a.state).toMatchObject({ available: 300 - 2, pending: 300 - 30, debt: 0 });
    for (const l of a.state.lots) if (l.availableAt) expect(l.held).toBe(0);
    // An entry carries this state: 48 lots, pending ones with their availability, stay within the 12 KiB bound.
    expect(calculateObjectSize({ state: a.state })).toBeLessThan(12 * 1024);
  });

  it('when a state breaks a pending invariant, then stateProblems names it', () => {
    const lot = { id: rules.lotId(at(5), at(10)), expiresAt: at(5), availableAt: at(10), remaining: 10, held: 0 };
    const bad: AccountState = { ...rules.emptyState(), pending: 10, lots: [lot] };
    expect(rules.stateProblems(bad)).toEqual([`pending lot ${lot.id} expires before it becomes available`]);
    const miscounted: AccountState = { ...rules.emptyState(), pending: 3, lots: [{ ...lot, id: rules.lotId(EXPIRY, at(10)), expiresAt: EXPIRY }] };
    expect(rules.stateProblems(miscounted)).toEqual(['pending 3 ≠ Σ pending lots 10']);
    const heldLot = { id: rules.lotId(EXPIRY, at(10)), expiresAt: EXPIRY, availableAt: at(10), remaining: 10, held: 4 };
    const held: AccountState = { ...rules.emptyState(), held: 4, pending: 10, lots: [heldLot], holds: [{ id: 'h', amount: 4, expiresAt: at(1), from: [{ lot: heldLot.id, amount: 4 }], code: 'redemption' }] };
    expect(rules.stateProblems(held)).toEqual([`pending lot ${heldLot.id} has 4 points held`, 'hold h draws from a pending lot']);
  });
});
