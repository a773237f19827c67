import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectError, issuePaths } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, points, registerMember } from '../helpers/ledger.js';

/** Points earned on day D expire at the end of the month D + 30 falls in (program time zone: UTC). */
let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ env: { POINTS_EXPIRY: 'rolling:30:month-end' } });
});
afterAll(async () => {
  await api?.close();
});

const END_OF_MARCH = '2026-03-31T23:59:59.999Z';
const END_OF_APRIL = '2026-04-30T23:59:59.999Z';
const sweep = () => api.built.services.ledger.sweep();
const expiriesOf = async (memberId: string) => (await historyOf(api, memberId)).filter((e) => e.kind === 'expire');

/** 100 points earned on 31 January (a lot due at the end of March) and 100 on 10 March (end of April). */
async function memberWithTwoLots(memberId: string): Promise<void> {
  api.clock.set('2026-01-31T10:00:00Z');
  await registerMember(api, memberId);
  const january = await earned(api, memberId, 100);
  expect(january.body.entry.expiresAt).toBe(END_OF_MARCH);
  api.clock.set('2026-03-10T10:00:00Z');
  const march = await earned(api, memberId, 100);
  expect(march.body.entry.expiresAt).toBe(END_OF_APRIL);
  expect((await balanceOf(api, memberId)).expiring).toEqual([
    { expiresAt: END_OF_MARCH, points: 100 },
    { expiresAt: END_OF_APRIL, points: 100 },
  ]);
}

describe('points expiry', () => {
  it('when a member spends, then the soonest-expiring lot goes first, and once it is used up the sweep has nothing to expire', async () => {
    await memberWithTwoLots('fifo');
    const spent = await points.spend(api, 'fifo', { amount: 120, code: 'redemption' });
    expect(spent.status, spent.text).toBe(201);
    expect(spent.body.entry.lots).toEqual([
      { lot: END_OF_MARCH, amount: 100 },
      { lot: END_OF_APRIL, amount: 20 },
    ]);
    expect(spent.body.balance).toMatchObject({ available: 80, expiring: [{ expiresAt: END_OF_APRIL, points: 80 }] });

    api.clock.set('2026-04-01T00:00:00Z');
    await sweep();
    expect(await expiriesOf('fifo')).toEqual([]);
    const balance = await balanceOf(api, 'fifo');
    expect(balance).toMatchObject({ available: 80, seq: 3, expiring: [{ expiresAt: END_OF_APRIL, points: 80 }] });
    expect(balance.lifetime.expired).toBe(0);
    await expectLedgerClean([api]);
  });

  it('when a lot with points left comes due, then the sweep expires exactly what is left of it, once, and leaves later lots alone', async () => {
    await memberWithTwoLots('leftover');
    const spent = await points.spend(api, 'leftover', { amount: 60, code: 'redemption' });
    expect(spent.body.entry.lots).toEqual([{ lot: END_OF_MARCH, amount: 60 }]);

    api.clock.set('2026-03-31T23:59:59.998Z');
    await sweep();
    expect(await expiriesOf('leftover')).toEqual([]);

    api.clock.set('2026-04-01T00:00:00Z');
    await sweep();
    await sweep();
    const expiries = await expiriesOf('leftover');
    expect(expiries).toHaveLength(1);
    expect(expiries[0]).toMatchObject({ amount: -40, points: 40, code: 'expiry', lots: [{ lot: END_OF_MARCH, amount: 40 }] });

    const balance = await balanceOf(api, 'leftover');
    expect(balance).toMatchObject({ available: 100, held: 0, seq: 4, expiring: [{ expiresAt: END_OF_APRIL, points: 100 }] });
    expect(balance.lifetime).toMatchObject({ earned: 200, spent: 60, expired: 40 });

    api.clock.set('2026-04-15T00:00:00Z');
    await sweep();
    expect(await expiriesOf('leftover')).toHaveLength(1);
    await expectLedgerClean([api]);
  });

  it('when a lot is due but no sweep has run yet, then its points are neither shown as available nor spendable', async () => {
    await memberWithTwoLots('unswept');
    await points.spend(api, 'unswept', { amount: 60, code: 'redemption' });
    api.clock.set('2026-04-01T00:00:00Z');

    const balance = await balanceOf(api, 'unswept');
    expect(balance).toMatchObject({ available: 100, expiring: [{ expiresAt: END_OF_APRIL, points: 100 }] });
    const refused = await points.spend(api, 'unswept', { amount: 101, code: 'redemption' });
    expectError(refused, 409, 'INSUFFICIENT_POINTS');
    expect(refused.body.error.details).toMatchObject({ available: 100, requested: 101 });
    expectError(await points.hold(api, 'unswept', { amount: 101, code: 'redemption' }), 409, 'INSUFFICIENT_POINTS');

    const all = await points.spend(api, 'unswept', { amount: 100, code: 'redemption' });
    expect(all.status).toBe(201);
    expect(all.body.entry.lots).toEqual([{ lot: END_OF_APRIL, amount: 100 }]);
    expect(all.body.balance).toMatchObject({ available: 0, held: 0 });
    // The spend settled the due lot first: its 40 expired before it, once.
    const history = await historyOf(api, 'unswept');
    expect(history.map((e) => e.kind)).toEqual(['spend', 'expire', 'spend', 'earn', 'earn']);
    await sweep();
    expect(await expiriesOf('unswept')).toHaveLength(1);
    await expectLedgerClean([api]);
  });

  it('when a hold outlives its TTL, then a capture gets 409 HOLD_NOT_ACTIVE and the points are available again', async () => {
    api.clock.set('2026-03-01T08:00:00Z');
    await registerMember(api, 'slow-checkout');
    await earned(api, 'slow-checkout', 100);
    const hold = await points.hold(api, 'slow-checkout', { amount: 30, code: 'redemption', ttlSeconds: 120 });
    expect(hold.body.hold).toMatchObject({ status: 'active', expiresAt: '2026-03-01T08:02:00.000Z' });
    expect(hold.body.balance).toMatchObject({ available: 70, held: 30 });

    api.clock.advance({ seconds: 120 });
    expectError(await points.capture(api, hold.body.hold.id, { amount: 30 }), 409, 'HOLD_NOT_ACTIVE');
    expectError(await points.release(api, hold.body.hold.id), 409, 'HOLD_NOT_ACTIVE');
    expect(await balanceOf(api, 'slow-checkout')).toMatchObject({ available: 100, held: 0, seq: 3 });
    const [timeout] = await historyOf(api, 'slow-checkout');
    expect(timeout).toMatchObject({ kind: 'release', code: 'hold_timeout', holdId: hold.body.hold.id, points: 0 });
    await expectLedgerClean([api]);
  });

  it('when a hold outlives its TTL and nobody asks, then the sweep releases it, once', async () => {
    api.clock.set('2026-03-01T08:00:00Z');
    await registerMember(api, 'abandoned-cart');
    await earned(api, 'abandoned-cart', 100);
    const hold = await points.hold(api, 'abandoned-cart', { amount: 100, code: 'redemption' });
    expect(hold.body.hold.expiresAt).toBe('2026-03-01T08:15:00.000Z'); // HOLD_TTL_SECONDS defaults to 900

    api.clock.advance({ seconds: 899 });
    await sweep();
    expect(await balanceOf(api, 'abandoned-cart')).toMatchObject({ available: 0, held: 100, seq: 2 });

    api.clock.advance({ seconds: 1 });
    await sweep();
    await sweep();
    expect(await balanceOf(api, 'abandoned-cart')).toMatchObject({ available: 100, held: 0, seq: 3 });
    expect((await historyOf(api, 'abandoned-cart')).filter((e) => e.kind === 'release')).toHaveLength(1);
    await expectLedgerClean([api]);
  });

  it('when a hold times out after its lot came due, then the released points expire with it', async () => {
    api.clock.set('2026-01-31T10:00:00Z');
    await registerMember(api, 'held-over');
    await earned(api, 'held-over', 50);
    api.clock.set('2026-03-31T23:50:00Z');
    const hold = await points.hold(api, 'held-over', { amount: 50, code: 'redemption', ttlSeconds: 3600 });
    expect(hold.status).toBe(201);

    api.clock.set('2026-04-01T01:00:00Z');
    await sweep();
    const [release] = await historyOf(api, 'held-over');
    expect(release).toMatchObject({ kind: 'release', code: 'hold_timeout', amount: -50, expired: 50 });
    const balance = await balanceOf(api, 'held-over');
    expect(balance).toMatchObject({ available: 0, held: 0, expiring: [] });
    expect(balance.lifetime.expired).toBe(50);
    await expectLedgerClean([api]);
  });

  it('when an earn names an expiry that is not in the future, then 400 and nothing is written; a future one is used as given', async () => {
    api.clock.set('2026-03-01T08:00:00Z');
    await registerMember(api, 'dated');
    for (const expiresAt of ['2026-03-01T07:59:59Z', '2026-03-01T08:00:00Z']) {
      const res = await points.earn(api, 'dated', { amount: 10, code: 'promotion', expiresAt });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res)).toEqual(['body.expiresAt']);
    }
    expectError(await points.earn(api, 'dated', { amount: 10, code: 'promotion', expiresAt: 'next week' }), 400, 'VALIDATION_FAILED');
    expect(await balanceOf(api, 'dated')).toMatchObject({ available: 0, seq: 0 });

    const promo = await points.earn(api, 'dated', { amount: 10, code: 'promotion', expiresAt: '2026-03-08T00:00:00Z' });
    expect(promo.status).toBe(201);
    expect(promo.body.entry.expiresAt).toBe('2026-03-08T00:00:00.000Z');
    expect(promo.body.balance).toMatchObject({ available: 10, expiringIn30Days: 10 });
  });
});

describe('points expiry in the program time zone', () => {
  it('when the program runs on Shanghai time, then an earn just after local midnight on 1 February rounds to another month-end than one just before', async () => {
    // rolling:28 — 31 January + 28 days is 28 February, 1 February + 28 days is 1 March (with 30 days both land in March).
    const shanghai = await startTestApp({ env: { POINTS_EXPIRY: 'rolling:28:month-end', PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
    const utc = await startTestApp({ env: { POINTS_EXPIRY: 'rolling:28:month-end' } });
    try {
      const expiriesAt = async (app: TestApp) => {
        await registerMember(app, 'tz');
        const out: string[] = [];
        for (const at of ['2026-01-31T15:00:00Z', '2026-01-31T17:00:00Z']) {
          app.clock.set(at);
          out.push((await earned(app, 'tz', 10)).body.entry.expiresAt);
        }
        return out;
      };
      // 23:00 on 31 January and 01:00 on 1 February in Shanghai; each expires at the end of a Shanghai month.
      expect(await expiriesAt(shanghai)).toEqual(['2026-02-28T15:59:59.999Z', '2026-03-31T15:59:59.999Z']);
      expect((await balanceOf(shanghai, 'tz')).expiring).toHaveLength(2);
      // Both instants are 31 January in UTC: one lot.
      expect(await expiriesAt(utc)).toEqual(['2026-02-28T23:59:59.999Z', '2026-02-28T23:59:59.999Z']);
      expect((await balanceOf(utc, 'tz')).expiring).toEqual([{ expiresAt: '2026-02-28T23:59:59.999Z', points: 20 }]);
    } finally {
      await shanghai.close();
      await utc.close();
    }
  });
});
