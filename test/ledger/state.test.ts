import { describe, expect, it } from 'vitest';
import * as rules from '../../src/modules/ledger/ledger.state.js';
import { memoryAccount } from '../helpers/ledger-state.js';
import type { AccountState, Draft } from '../../src/modules/ledger/ledger.state.js';

const FEB = new Date('2026-02-28T23:59:59.999Z');
const MAR = new Date('2026-03-31T23:59:59.999Z');
const APR = new Date('2026-04-30T23:59:59.999Z');
const JAN_10 = new Date('2026-01-10T08:00:00Z');
const MAR_10 = new Date('2026-03-10T08:00:00Z');

const lots = (s: AccountState) => s.lots.map((l) => ({ id: l.id, remaining: l.remaining, held: l.held }));

describe('ledger state: earning and spending', () => {
  it('when lots expire at different times, then a spend takes the soonest-expiring first and never-expiring points last', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 50, MAR));
    a.apply((s) => rules.earn(s, 20, null));
    a.apply((s) => rules.earn(s, 30, FEB));
    expect(a.state.lots.map((l) => l.id)).toEqual([FEB.toISOString(), MAR.toISOString(), 'never']);

    const spent = a.apply((s) => rules.spend(s, 60, JAN_10));
    expect(spent).toMatchObject({ kind: 'spend', amount: -60, points: 60 });
    expect(spent.lots).toEqual([
      { lot: FEB.toISOString(), amount: 30 },
      { lot: MAR.toISOString(), amount: 30 },
    ]);
    expect(lots(a.state)).toEqual([
      { id: MAR.toISOString(), remaining: 20, held: 0 },
      { id: 'never', remaining: 20, held: 0 },
    ]);
    expect(a.state.available).toBe(40);

    const rest = a.apply((s) => rules.spend(s, 40, JAN_10));
    expect(rest.lots).toEqual([
      { lot: MAR.toISOString(), amount: 20 },
      { lot: 'never', amount: 20 },
    ]);
    expect(a.state.lots).toEqual([]);
    expect(a.state.totals).toMatchObject({ earned: 100, spent: 100 });
    a.rejects((s) => rules.spend(s, 1, JAN_10), 'INSUFFICIENT_POINTS');
  });

  it('when two earns share an expiry, then they merge into one lot', () => {
    const a = memoryAccount();
    const first = a.apply((s) => rules.earn(s, 10, MAR));
    const second = a.apply((s) => rules.earn(s, 15, new Date(MAR.getTime())));
    expect(first.lots).toEqual([{ lot: MAR.toISOString(), amount: 10 }]);
    expect(second.lots).toEqual([{ lot: MAR.toISOString(), amount: 15 }]);
    expect(lots(a.state)).toEqual([{ id: MAR.toISOString(), remaining: 25, held: 0 }]);
    expect(a.state.available).toBe(25);
  });

  it('when an earn would make one lot too many, then the two closest lots merge, the earlier into the later, and a hold drawing from the merged one draws from the later', () => {
    const a = memoryAccount();
    const day = (n: number) => new Date(Date.UTC(2026, 3, 1) + n * 86_400_000);
    for (let i = 0; i < rules.MAX_LOTS; i++) a.apply((s) => rules.earn(s, 10, day(i * 2), JAN_10));
    // Lots 10 and 12 days out are the closest pair once a lot 11 days out arrives: the new one joins the later.
    const hold = a.apply((s, id) => rules.hold(s, id, 25, new Date('2026-01-10T09:00:00Z'), 'redemption', JAN_10));
    expect(hold.lots).toEqual([
      { lot: day(0).toISOString(), amount: 10 },
      { lot: day(2).toISOString(), amount: 10 },
      { lot: day(4).toISOString(), amount: 5 },
    ]);
    const fresh = a.apply((s) => rules.earn(s, 7, day(3), JAN_10));
    expect(a.state.lots).toHaveLength(rules.MAX_LOTS);
    // day 3 sits 1 day from day 2 and from day 4: the first closest pair (day 2, day 3) merges into day 3.
    expect(fresh.lots).toEqual([{ lot: day(3).toISOString(), amount: 7 }]);
    expect(fresh.expiresAt).toEqual(day(3));
    expect(a.state.lots.find((l) => l.id === day(2).toISOString())).toBeUndefined();
    expect(lots(a.state).find((l) => l.id === day(3).toISOString())).toEqual({ id: day(3).toISOString(), remaining: 17, held: 10 });
    expect(a.state.holds[0]?.from).toEqual([
      { lot: day(0).toISOString(), amount: 10 },
      { lot: day(4).toISOString(), amount: 5 },
      { lot: day(3).toISOString(), amount: 10 },
    ]);
    const released = a.apply((s) => rules.resolveHold(s, hold.holdId as string, 0, JAN_10));
    expect(released.expired ?? 0).toBe(0);
    expect(a.state.available).toBe(10 * rules.MAX_LOTS + 7);
    // A lot past every other one merges the latest pair: the new points never expire sooner than asked.
    const late = a.apply((s) => rules.earn(s, 1, day(200), JAN_10));
    expect((late.expiresAt as Date).getTime()).toBeGreaterThanOrEqual(day(200).getTime());
    expect(a.state.lots).toHaveLength(rules.MAX_LOTS);
  });

  it('when an account has as many open holds as allowed, then one more is refused with LIMIT_REACHED until one ends', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 1000, MAR));
    const holds: string[] = [];
    for (let i = 0; i < rules.MAX_OPEN_HOLDS; i++) holds.push(a.apply((s, id) => rules.hold(s, id, 1, MAR, 'redemption', JAN_10)).holdId as string);
    const err = a.rejects((s) => rules.hold(s, 'm:x', 1, MAR, 'redemption', JAN_10), 'LIMIT_REACHED');
    expect(err.details).toEqual({ openHolds: rules.MAX_OPEN_HOLDS, max: rules.MAX_OPEN_HOLDS });
    a.apply((s) => rules.resolveHold(s, holds[0] as string, 1, JAN_10));
    a.apply((s, id) => rules.hold(s, id, 1, MAR, 'redemption', JAN_10));
  });

  it('when a spend asks for more than is free, then 409 INSUFFICIENT_POINTS says how much is available', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 30, MAR));
    const err = a.rejects((s) => rules.spend(s, 31, JAN_10), 'INSUFFICIENT_POINTS');
    expect(err.status).toBe(409);
    expect(err.details).toEqual({ available: 30, requested: 31 });
  });

  it('when a lot is due, then its points are not spendable, and the expiry takes only its free part', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 40, FEB));
    a.apply((s) => rules.earn(s, 100, APR));
    const holdDraft = a.apply((s, id) => rules.hold(s, id, 110, new Date('2026-02-20T00:00:00Z'), 'redemption', JAN_10));
    expect(holdDraft.lots).toEqual([
      { lot: FEB.toISOString(), amount: 40 },
      { lot: APR.toISOString(), amount: 70 },
    ]);
    a.apply((s) => rules.resolveHold(s, holdDraft.holdId as string, 0, JAN_10));

    expect(rules.spendable(a.state, MAR_10)).toBe(100);
    a.rejects((s) => rules.spend(s, 101, MAR_10), 'INSUFFICIENT_POINTS');
    expect(rules.expireLot(a.state, FEB.toISOString(), JAN_10)).toBeUndefined();
    expect(rules.dueWork(a.state, MAR_10)).toEqual({ lots: [FEB.toISOString()], holds: [] });

    const expired = a.apply((s) => rules.expireLot(s, FEB.toISOString(), MAR_10) as Draft);
    expect(expired).toMatchObject({ kind: 'expire', amount: -40, points: 40, lots: [{ lot: FEB.toISOString(), amount: 40 }] });
    expect(rules.expireLot(a.state, FEB.toISOString(), MAR_10)).toBeUndefined();
    expect(rules.dueWork(a.state, MAR_10)).toEqual({ lots: [], holds: [] });
    expect(a.state.totals.expired).toBe(40);
    expect(a.state.available).toBe(100);
  });
});

describe('ledger state: holds', () => {
  it('when a hold is placed and captured in full, then the points move from available to held and then out', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 100, MAR));
    const h = a.apply((s, id) => rules.hold(s, id, 40, new Date('2026-01-10T08:15:00Z'), 'redemption', JAN_10));
    expect(h).toMatchObject({ kind: 'hold', amount: 0, points: 40, holdId: 'm:000000000002' });
    expect(a.state).toMatchObject({ available: 60, held: 40 });
    expect(lots(a.state)).toEqual([{ id: MAR.toISOString(), remaining: 100, held: 40 }]);
    a.rejects((s) => rules.spend(s, 61, JAN_10), 'INSUFFICIENT_POINTS');

    const c = a.apply((s) => rules.resolveHold(s, 'm:000000000002', 40, JAN_10));
    expect(c).toMatchObject({ kind: 'capture', amount: -40, points: 40, lots: [{ lot: MAR.toISOString(), amount: 40 }] });
    expect(a.state).toMatchObject({ available: 60, held: 0, holds: [] });
    expect(a.state.totals.spent).toBe(40);
    a.rejects((s) => rules.resolveHold(s, 'm:000000000002', 40, JAN_10), 'HOLD_NOT_ACTIVE');
    a.rejects((s) => rules.resolveHold(s, 'm:000000000002', 0, JAN_10), 'HOLD_NOT_ACTIVE');
  });

  it('when part of a hold is captured, then the rest goes back to the lots it came from', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 30, FEB));
    a.apply((s) => rules.earn(s, 70, MAR));
    const h = a.apply((s, id) => rules.hold(s, id, 50, new Date('2026-01-10T09:00:00Z'), 'redemption', JAN_10));
    expect(h.lots).toEqual([
      { lot: FEB.toISOString(), amount: 30 },
      { lot: MAR.toISOString(), amount: 20 },
    ]);
    const c = a.apply((s) => rules.resolveHold(s, h.holdId as string, 35, JAN_10));
    expect(c).toMatchObject({ kind: 'capture', amount: -35, points: 35 });
    expect(c.lots).toEqual([
      { lot: FEB.toISOString(), amount: 30 },
      { lot: MAR.toISOString(), amount: 5 },
    ]);
    expect(lots(a.state)).toEqual([{ id: MAR.toISOString(), remaining: 65, held: 0 }]);
    expect(a.state).toMatchObject({ available: 65, held: 0 });
  });

  it('when a hold is released, then every point is available again; a capture beyond the hold is refused', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 100, MAR));
    const h = a.apply((s, id) => rules.hold(s, id, 60, new Date('2026-01-10T09:00:00Z'), 'redemption', JAN_10));
    const err = a.rejects((s) => rules.resolveHold(s, h.holdId as string, 61, JAN_10), 'CAPTURE_EXCEEDS_HOLD');
    expect(err.details).toEqual({ held: 60, requested: 61 });
    a.rejects((s) => rules.hold(s, 'm:000000000003', 41, new Date('2026-01-10T09:00:00Z'), 'redemption', JAN_10), 'INSUFFICIENT_POINTS');

    const r = a.apply((s) => rules.resolveHold(s, h.holdId as string, 0, JAN_10));
    expect(r).toMatchObject({ kind: 'release', points: 0, lots: [] });
    expect(r.amount === 0).toBe(true); // -0 from the arithmetic, 0 on the wire
    expect(a.state).toMatchObject({ available: 100, held: 0, holds: [] });
    expect(lots(a.state)).toEqual([{ id: MAR.toISOString(), remaining: 100, held: 0 }]);
  });

  it('when a hold past its time is found, then dueWork names it, and releasing it into a due lot expires that part', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 20, FEB));
    a.apply((s) => rules.earn(s, 80, APR));
    const h = a.apply((s, id) => rules.hold(s, id, 50, new Date('2026-03-01T00:00:00Z'), 'redemption', JAN_10));
    expect(rules.dueWork(a.state, new Date('2026-02-28T00:00:00Z')).holds).toEqual([]);
    // After the FEB lot is due: the expiry can take nothing from it (all of it is held), the hold is due.
    expect(rules.dueWork(a.state, MAR_10)).toEqual({ lots: [], holds: [h.holdId] });
    expect(rules.expireLot(a.state, FEB.toISOString(), MAR_10)).toBeUndefined();

    const r = a.apply((s) => rules.resolveHold(s, h.holdId as string, 0, MAR_10));
    expect(r).toMatchObject({ kind: 'release', amount: -20, points: 0, expired: 20 });
    expect(a.state).toMatchObject({ available: 80, held: 0 });
    expect(a.state.totals.expired).toBe(20);
    expect(lots(a.state)).toEqual([{ id: APR.toISOString(), remaining: 80, held: 0 }]);
  });
});

describe('ledger state: reversals', () => {
  it('when a partly spent earn is reversed, then what was spent becomes a debt that the next earns pay first', () => {
    const a = memoryAccount();
    const e = a.apply((s) => rules.earn(s, 100, MAR));
    a.apply((s) => rules.spend(s, 70, JAN_10));
    const r = a.apply((s) => rules.reverse(s, { id: 'm:000000000001', kind: 'earn', points: 100, lots: e.lots }, undefined, JAN_10));
    expect(r).toMatchObject({ kind: 'reverse', amount: -100, points: 100, reverses: 'm:000000000001', lots: [{ lot: MAR.toISOString(), amount: 30 }] });
    expect(a.state).toMatchObject({ available: -70, debt: 70, held: 0, lots: [] });
    expect(rules.spendable(a.state, JAN_10)).toBe(-70);
    const refused = a.rejects((s) => rules.spend(s, 1, JAN_10), 'INSUFFICIENT_POINTS');
    expect(refused.details).toEqual({ available: -70, requested: 1, debt: 70 });
    a.rejects((s) => rules.hold(s, 'm:000000000004', 1, MAR, 'redemption', JAN_10), 'INSUFFICIENT_POINTS');

    const pay = a.apply((s) => rules.earn(s, 50, APR));
    expect(pay.lots).toEqual([]);
    expect(a.state).toMatchObject({ available: -20, debt: 20, lots: [] });
    const more = a.apply((s) => rules.earn(s, 30, APR));
    expect(more.lots).toEqual([{ lot: APR.toISOString(), amount: 10 }]);
    expect(a.state).toMatchObject({ available: 10, debt: 0 });
    a.apply((s) => rules.spend(s, 10, JAN_10));
    expect(a.state.totals).toEqual({ earned: 180, spent: 80, expired: 0, reversed: 100, adjusted: 0 });
  });

  it('when an earn is reversed, then its own lot gives back first, then the soonest-expiring', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 40, FEB));
    const e = a.apply((s) => rules.earn(s, 30, APR));
    const r = a.apply((s) => rules.reverse(s, { id: 'm:000000000002', kind: 'earn', points: 30, lots: e.lots }, 30, JAN_10));
    expect(r.lots).toEqual([{ lot: APR.toISOString(), amount: 30 }]);
    expect(lots(a.state)).toEqual([{ id: FEB.toISOString(), remaining: 40, held: 0 }]);
  });

  it('when a spend is reversed, then its points go back to their lots, and what returns to a due lot expires at once', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 50, FEB));
    a.apply((s) => rules.earn(s, 50, APR));
    const sp = a.apply((s) => rules.spend(s, 80, JAN_10));
    expect(sp.lots).toEqual([
      { lot: FEB.toISOString(), amount: 50 },
      { lot: APR.toISOString(), amount: 30 },
    ]);
    const target = { id: 'm:000000000003', kind: 'spend' as const, points: 80, lots: sp.lots };

    // Before February ends: the latest-expiring part comes back first.
    const first = a.apply((s) => rules.reverse(s, target, 40, JAN_10));
    expect(first).toMatchObject({ kind: 'reverse', amount: 40, points: 40 });
    expect(first.lots).toEqual([
      { lot: APR.toISOString(), amount: 30 },
      { lot: FEB.toISOString(), amount: 10 },
    ]);
    expect(first.expired).toBeUndefined();
    expect(lots(a.state)).toEqual([
      { id: FEB.toISOString(), remaining: 10, held: 0 },
      { id: APR.toISOString(), remaining: 50, held: 0 },
    ]);

    // After February ends: the rest belongs to the FEB lot, which is due, so it expires inside the reversal.
    const second = a.apply((s) => rules.reverse(s, target, undefined, MAR_10));
    expect(second).toMatchObject({ kind: 'reverse', amount: 0, points: 40, expired: 40, lots: [{ lot: FEB.toISOString(), amount: 40 }] });
    expect(a.state.totals).toMatchObject({ spent: 80, reversed: 80, expired: 40 });
    expect(lots(a.state)).toEqual([
      { id: FEB.toISOString(), remaining: 10, held: 0 },
      { id: APR.toISOString(), remaining: 50, held: 0 },
    ]);
    expect(rules.spendable(a.state, MAR_10)).toBe(50);
  });

  it('when a reversal is partial, repeated, too large or of a fully reversed entry, then only what is left can be reversed', () => {
    const a = memoryAccount();
    const e = a.apply((s) => rules.earn(s, 100, MAR));
    const target = { id: 'm:000000000001', kind: 'earn' as const, points: 100, lots: e.lots };
    a.apply((s) => rules.reverse(s, target, 30, JAN_10));
    a.apply((s) => rules.reverse(s, target, 30, JAN_10));
    expect(a.state.available).toBe(40);
    const tooMuch = a.rejects((s) => rules.reverse(s, target, 41, JAN_10), 'REVERSAL_EXCEEDS_ENTRY');
    expect(tooMuch.details).toEqual({ left: 40, requested: 41 });
    const rest = a.apply((s) => rules.reverse(s, target, undefined, JAN_10));
    expect(rest.points).toBe(40);
    expect(a.state).toMatchObject({ available: 0, debt: 0, reversed: [{ entry: 'm:000000000001', amount: 100 }] });
    const again = a.rejects((s) => rules.reverse(s, target, 1, JAN_10), 'ALREADY_REVERSED');
    expect(again.details).toEqual({ reversed: 100 });
    a.rejects((s) => rules.reverse(s, target, undefined, JAN_10), 'ALREADY_REVERSED');
  });

  it('when the entry is a hold, release, expiry, adjustment or reversal, then it is not reversible', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 10, MAR));
    for (const kind of ['hold', 'release', 'expire', 'adjust', 'reverse'] as const) {
      a.rejects((s) => rules.reverse(s, { id: 'm:000000000001', kind, points: 10, lots: [] }, undefined, JAN_10), 'NOT_REVERSIBLE');
    }
  });

  it('when a capture is reversed, then its points come back', () => {
    const a = memoryAccount();
    a.apply((s) => rules.earn(s, 100, MAR));
    const h = a.apply((s, id) => rules.hold(s, id, 60, MAR, 'redemption', JAN_10));
    const c = a.apply((s) => rules.resolveHold(s, h.holdId as string, 60, JAN_10));
    a.apply((s) => rules.reverse(s, { id: 'm:000000000003', kind: 'capture', points: 60, lots: c.lots }, 60, JAN_10));
    expect(a.state).toMatchObject({ available: 100, held: 0 });
  });
});

describe('ledger state: adjustments', () => {
  it('when ops credit and debit, then a credit pays debt first and a debit is refused beyond what is spendable', () => {
    const a = memoryAccount();
    const e = a.apply((s) => rules.earn(s, 20, MAR));
    a.apply((s) => rules.spend(s, 20, JAN_10));
    a.apply((s) => rules.reverse(s, { id: 'm:000000000001', kind: 'earn', points: 20, lots: e.lots }, undefined, JAN_10));
    expect(a.state.debt).toBe(20);
    const credit = a.apply((s) => rules.adjust(s, 50, APR, JAN_10));
    expect(credit).toMatchObject({ kind: 'adjust', amount: 50, lots: [{ lot: APR.toISOString(), amount: 30 }] });
    expect(a.state).toMatchObject({ available: 30, debt: 0 });
    a.rejects((s) => rules.adjust(s, -31, null, JAN_10), 'INSUFFICIENT_POINTS');
    const debit = a.apply((s) => rules.adjust(s, -30, null, JAN_10));
    expect(debit).toMatchObject({ kind: 'adjust', amount: -30, points: 30 });
    expect(a.state.totals.adjusted).toBe(20);
    expect(a.state.available).toBe(0);
  });
});
