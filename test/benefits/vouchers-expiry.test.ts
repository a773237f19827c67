import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, ops, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { cancelVoucher, cleanStock, defineBenefit, issued, memberWith, pointsOf, redemptionById, useVoucher } from '../helpers/benefits.js';
import { expectError } from '../helpers/expect.js';
import { expectLedgerClean, historyOf } from '../helpers/ledger.js';

/**
 * Vouchers that are never used expire at expiresAt (a sweep): their points are kept by default, or refunded with
 * BENEFIT_EXPIRED_VOUCHER_POINTS=refund; the unit stays spent either way. Expiry and cancellation are one `close`.
 */
const DAY = 86_400_000;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
const asMember = (m: string) => tokenFor('member', m);
let n = 0;

describe('expiry, points kept (the default)', () => {
  let api: TestApp;
  beforeAll(async () => {
    api = await startTestApp();
    await defineBenefit(api, 'weekly', { costPoints: 100, stock: 100, voucherValidDays: 7 });
    await defineBenefit(api, 'forever', { costPoints: 100, stock: 100, voucherValidDays: undefined });
  });
  afterAll(async () => {
    await api.close();
  });

  it('when a voucher is unused at expiresAt and the sweeper runs, then it is expired, its points and unit stay spent, and use and cancel are refused', async () => {
    const m = await memberWith(api, `exp-${++n}`, 1000);
    const r = await issued(api, m, 'weekly');
    api.clock.set(plus(r.expiresAt, -1000));
    await api.built.sweep();
    expect((await redemptionById(api, r.id)).status).toBe('issued');

    api.clock.set(plus(r.expiresAt, 1000));
    await api.built.sweep();
    expect(await redemptionById(api, r.id)).toMatchObject({ status: 'expired', pointsSpent: 100, usedAt: null, cancelledAt: null });
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
    expectError(await useVoucher(api, r.id), 409, 'VOUCHER_EXPIRED');
    expectError(await cancelVoucher(api, r.id, asMember(m)), 409, 'VOUCHER_EXPIRED');
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
    expect((await cleanStock(api, 'weekly')).left).toBe(99);
  });

  it('when a voucher is past expiresAt and the sweeper has not come by, then a cancellation is refused VOUCHER_EXPIRED and refunds nothing', async () => {
    const m = await memberWith(api, `exp-${++n}`, 1000);
    const r = await issued(api, m, 'weekly');
    const left = (await cleanStock(api, 'weekly')).left;
    api.clock.set(plus(r.expiresAt, 1000));
    expectError(await cancelVoucher(api, r.id, asMember(m)), 409, 'VOUCHER_EXPIRED');
    expectError(await cancelVoucher(api, r.id, ops), 409, 'VOUCHER_EXPIRED');
    expect((await redemptionById(api, r.id)).status).toBe('expired');
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
    expect((await cleanStock(api, 'weekly')).left).toBe(left);
    await api.built.sweep();
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
  });

  it('when a voucher is past expiresAt and the sweeper has not come by, then use is refused VOUCHER_EXPIRED and it reads expired', async () => {
    const m = await memberWith(api, `exp-${++n}`, 1000);
    const r = await issued(api, m, 'weekly');
    api.clock.set(plus(r.expiresAt, 1));
    expectError(await useVoucher(api, r.id), 409, 'VOUCHER_EXPIRED');
    expect((await redemptionById(api, r.id)).status).toBe('expired');
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
  });

  it('when a benefit gives vouchers without voucherValidDays, then they never expire', async () => {
    const m = await memberWith(api, `exp-${++n}`, 1000);
    const r = await issued(api, m, 'forever');
    expect(r.expiresAt).toBeNull();
    api.clock.advance({ days: 800 });
    await api.built.sweep();
    expect((await redemptionById(api, r.id)).status).toBe('issued');
    expect((await useVoucher(api, r.id)).status).toBe(200);
    await expectLedgerClean([api]);
  });
});

describe('cancel against expiry', () => {
  it('when a member cancels just before expiresAt while another instance’s sweeper expires it, then one of them wins, 10 times out of 10', async () => {
    const dbName = freshDbName('cancel_expiry');
    const api = await startTestApp({ dbName });
    const before = await startTestApp({ dbName, clock: new ManualClock(api.clock.now()) });
    const after = await startTestApp({ dbName, clock: new ManualClock(api.clock.now()) });
    try {
      await defineBenefit(api, 'race', { costPoints: 100, stock: 100, voucherValidDays: 7 });
      const outcomes: string[] = [];
      for (let round = 0; round < 10; round++) {
        api.clock.set(new Date(Date.parse('2026-03-01T08:00:00Z') + round * 10 * DAY));
        const m = await memberWith(api, `race-${round}`, 1000);
        const r = await issued(api, m, 'race');
        before.clock.set(plus(r.expiresAt, -1000));
        after.clock.set(plus(r.expiresAt, 1000));
        const [cancelled] = await Promise.all([cancelVoucher(before, r.id, asMember(m)), after.built.sweep()]);
        const status = (await redemptionById(api, r.id)).status;
        outcomes.push(status);
        if (status === 'cancelled') {
          expect(cancelled.status, cancelled.text).toBe(200);
          expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
        } else {
          expect(status).toBe('expired');
          expectError(cancelled, 409, 'VOUCHER_EXPIRED');
          expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
        }
        expect((await historyOf(api, m)).filter((e) => e.code === 'redemption_cancelled')).toHaveLength(status === 'cancelled' ? 1 : 0);
      }
      const cancelledCount = outcomes.filter((o) => o === 'cancelled').length;
      const levels = await cleanStock(api, 'race');
      expect(levels.taken - levels.returned).toBe(10 - cancelledCount);
      await expectLedgerClean([api, before, after]);
    } finally {
      await before.close({ keepDatabase: true });
      await after.close({ keepDatabase: true });
      await api.close();
    }
  });
});

describe('expiry, points refunded (BENEFIT_EXPIRED_VOUCHER_POINTS=refund)', () => {
  const env = { BENEFIT_EXPIRED_VOUCHER_POINTS: 'refund' };
  const dbName = freshDbName('expiry_refund');
  let api: TestApp;
  beforeAll(async () => {
    api = await startTestApp({ dbName, env });
    await defineBenefit(api, 'weekly', { costPoints: 100, stock: 100, voucherValidDays: 7, perMemberLimit: { count: 1, period: 'lifetime' } });
  });
  afterAll(async () => {
    await api.close();
  });
  const refunds = async (m: string) => (await historyOf(api, m)).filter((e) => e.code === 'voucher_expired');

  it('when a voucher expires unused, then its points come back once, and it reads expired with nothing spent; the unit stays spent', async () => {
    const m = await memberWith(api, `ref-${++n}`, 1000);
    const r = await issued(api, m, 'weekly');
    api.clock.set(plus(r.expiresAt, 1000));
    await api.built.sweep();
    await api.built.sweep();
    expect(await redemptionById(api, r.id)).toMatchObject({ status: 'expired', pointsSpent: 0 });
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect(await refunds(m)).toHaveLength(1);
    expectError(await cancelVoucher(api, r.id, asMember(m)), 409, 'VOUCHER_EXPIRED');
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect((await cleanStock(api, 'weekly')).left).toBe(99);
    await expectLedgerClean([api]);
  });

  it('when the sweep that expires a voucher dies before the refund and a cancellation comes in, then the refund still lands, once', async () => {
    const m = await memberWith(api, `ref-${++n}`, 1000);
    const r = await issued(api, m, 'weekly');
    const faults = new ArmedFaults();
    const clock = new ManualClock(plus(r.expiresAt, 1000));
    const dying = await startTestApp({ dbName, env, faults, clock });
    try {
      faults.arm('redemption:after-expired');
      await dying.built.sweep(); // the expiry is recorded; its refund is not
    } finally {
      await dying.close({ keepDatabase: true });
    }
    api.clock.set(plus(r.expiresAt, 2000));
    expect((await redemptionById(api, r.id)).status).toBe('expired');
    expectError(await cancelVoucher(api, r.id, asMember(m)), 409, 'VOUCHER_EXPIRED');
    await api.built.sweep();
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect(await refunds(m)).toHaveLength(1);
    await api.built.sweep();
    expect(await refunds(m)).toHaveLength(1);
  });

  it('when a voucher is used before expiresAt, then the expiry sweep later leaves it used and refunds nothing', async () => {
    const m = await memberWith(api, `ref-${++n}`, 1000);
    const r = await issued(api, m, 'weekly');
    expect((await useVoucher(api, r.id)).status).toBe(200);
    api.clock.set(plus(r.expiresAt, 1000));
    await api.built.sweep();
    expect((await redemptionById(api, r.id)).status).toBe('used');
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
    expect(await refunds(m)).toHaveLength(0);
  });
});
