import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { catalogueItem, defineBenefit, memberWith, pointsOf, redeem } from '../helpers/benefits.js';
import { expectError } from '../helpers/expect.js';
import { earned } from '../helpers/ledger.js';

/**
 * Who may redeem, and when: a per-member limit comes back at the member's own local midnight (not UTC's), and a
 * benefit kept for a tier follows the member's tier as it is now, downgrades included; a tier privilege is free.
 */

describe('limits at the member’s period boundary', () => {
  let api: TestApp;
  beforeAll(async () => {
    api = await startTestApp();
    await defineBenefit(api, 'daily-treat', { costPoints: 10, stock: null, perMemberLimit: { count: 1, period: 'day' } });
    await defineBenefit(api, 'monthly-treat', { costPoints: 10, stock: null, perMemberLimit: { count: 1, period: 'month' } });
  });
  afterAll(async () => {
    await api.close();
  });

  /** Redeems one unit of `code` at the instant `at` (the clock only moves forward in this file). */
  const redeemAt = (m: string, code: string, at: string) => {
    api.clock.set(at);
    return redeem(api, m, { benefitCode: code });
  };
  const allowed = async (m: string, code: string, at: string) => {
    const res = await redeemAt(m, code, at);
    expect(res.status, `${at}: ${res.text}`).toBe(201);
  };
  const refused = async (m: string, code: string, at: string) => expectError(await redeemAt(m, code, at), 409, 'LIMIT_REACHED');

  it('when a member in Honolulu (UTC−10) used a daily limit, then it is still used after UTC midnight and comes back at their local midnight', async () => {
    api.clock.set('2026-03-03T20:00:00Z');
    const m = await memberWith(api, 'honolulu-day', 1000, 'Pacific/Honolulu');
    await allowed(m, 'daily-treat', '2026-03-03T23:30:00Z'); // 13:30 on 3 March in Honolulu
    await refused(m, 'daily-treat', '2026-03-04T00:00:01Z'); // UTC's new day: still 3 March there
    const item = await catalogueItem(api, 'daily-treat', m);
    expect(item).toMatchObject({ eligible: false, reasons: ['LIMIT_REACHED'], limitLeft: 0, limitResetsAt: '2026-03-04T10:00:00.000Z' });
    await refused(m, 'daily-treat', '2026-03-04T09:59:59Z'); // 23:59:59 on 3 March
    await allowed(m, 'daily-treat', '2026-03-04T10:00:01Z'); // 00:00:01 on 4 March
    await refused(m, 'daily-treat', '2026-03-04T10:00:02Z');
    expect(await pointsOf(api, m)).toEqual({ available: 980, held: 0 });
  });

  it('when a member in Kiritimati (UTC+14) used a daily limit, then it is still used after UTC midnight and comes back at their local midnight', async () => {
    api.clock.set('2026-03-04T20:00:00Z');
    const m = await memberWith(api, 'kiritimati-day', 1000, 'Pacific/Kiritimati');
    await allowed(m, 'daily-treat', '2026-03-04T23:30:00Z'); // 13:30 on 5 March in Kiritimati
    await refused(m, 'daily-treat', '2026-03-05T00:00:01Z'); // UTC's new day: still 5 March there
    expect((await catalogueItem(api, 'daily-treat', m)).limitResetsAt).toBe('2026-03-05T10:00:00.000Z');
    await refused(m, 'daily-treat', '2026-03-05T09:59:59Z'); // 23:59:59 on 5 March
    await allowed(m, 'daily-treat', '2026-03-05T10:00:01Z'); // 00:00:01 on 6 March, still 5 March in UTC
    await refused(m, 'daily-treat', '2026-03-05T23:59:59Z');
    expect(await pointsOf(api, m)).toEqual({ available: 980, held: 0 });
  });

  it('when both members redeem at the same UTC instant either side of 10:00, then each is judged by their own calendar day', async () => {
    api.clock.set('2026-03-06T09:00:00Z');
    const east = await memberWith(api, 'kiritimati-pair', 1000, 'Pacific/Kiritimati');
    const west = await memberWith(api, 'honolulu-pair', 1000, 'Pacific/Honolulu');
    // 09:59:59Z is 23:59:59 on 6 March in Kiritimati and on 5 March in Honolulu: both the last second of a local day.
    await allowed(east, 'daily-treat', '2026-03-06T09:59:59Z');
    await allowed(west, 'daily-treat', '2026-03-06T09:59:59Z');
    await refused(east, 'daily-treat', '2026-03-06T09:59:59Z');
    await refused(west, 'daily-treat', '2026-03-06T09:59:59Z');
    await allowed(east, 'daily-treat', '2026-03-06T10:00:00Z');
    await allowed(west, 'daily-treat', '2026-03-06T10:00:00Z');
  });

  it('when a member in Honolulu used a monthly limit on their 31 March, then 1 April in UTC does not give it back; their 1 April does', async () => {
    api.clock.set('2026-03-31T12:00:00Z');
    const m = await memberWith(api, 'honolulu-month', 1000, 'Pacific/Honolulu');
    await allowed(m, 'monthly-treat', '2026-03-31T20:00:00Z'); // 10:00 on 31 March
    await refused(m, 'monthly-treat', '2026-04-01T00:30:00Z'); // April in UTC, 14:30 on 31 March there
    await refused(m, 'monthly-treat', '2026-04-01T09:59:59Z');
    await allowed(m, 'monthly-treat', '2026-04-01T10:00:00Z');
  });

  it('when a member in Kiritimati used a monthly limit on their 1 April, then it is used for the whole of their April, though UTC still says 31 March', async () => {
    api.clock.set('2026-03-31T10:00:01Z'); // 00:00:01 on 1 April in Kiritimati
    const m = await memberWith(api, 'kiritimati-month', 1000, 'Pacific/Kiritimati');
    await allowed(m, 'monthly-treat', '2026-03-31T10:00:02Z');
    await refused(m, 'monthly-treat', '2026-04-30T09:59:59Z'); // 23:59:59 on 30 April there
    await allowed(m, 'monthly-treat', '2026-04-30T10:00:00Z');
  });
});

describe('eligibility by tier, after a downgrade, and tier privileges', () => {
  let api: TestApp;
  const ladder = {
    tiers: [
      { code: 'BASE', name: 'Member', threshold: 0 },
      { code: 'SILVER', name: 'Silver', threshold: 100 },
      { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400, benefitCodes: ['gold-gift', 'shipping'] },
    ],
    policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 0 },
  };

  beforeAll(async () => {
    api = await startTestApp();
    const rule = { name: 'growth per order', eventType: 'order.paid', growth: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } };
    expect((await api.request('PUT', '/v1/admin/earning-rules/growth', { token: ops, body: rule })).status).toBe(201);
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
    await defineBenefit(api, 'gold-lounge', { costPoints: 100, stock: 20, tiers: ['GOLD'] });
    await defineBenefit(api, 'gold-gift', { kind: 'gift', costPoints: 200, stock: 20, tiers: ['GOLD'], perMemberLimit: { count: 1, period: 'month' } });
    await defineBenefit(api, 'shipping', { kind: 'privilege', costPoints: 50, stock: null });
  });
  afterAll(async () => {
    await api.close();
  });

  const tierOf = async (m: string) => (await api.request('GET', `/v1/members/${m}/tier-history`, { token: ops })).body.items[0]?.to;
  async function goldMember(m: string): Promise<string> {
    await memberWith(api, m, 1000);
    const orderId = `o-${m}`;
    const paid = await api.request('POST', '/v1/events', {
      token: service,
      body: { eventId: orderId, memberId: m, type: 'order.paid', occurredAt: api.clock.now().toISOString(), properties: { orderId, amount: 500 } },
    });
    expect(paid.status, paid.text).toBe(201);
    expect(await tierOf(m)).toBe('GOLD');
    return m;
  }
  const mine = async (m: string) => (await api.request('GET', '/v1/me/redemptions', { token: tokenFor('member', m) })).body.items;

  it('when a GOLD member redeems a GOLD benefit, then it is issued at its price; a member of another tier is refused 403', async () => {
    const gold = await goldMember('gold-1');
    const res = await redeem(api, gold, { benefitCode: 'gold-lounge' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.redemption.pointsSpent).toBe(100);
    expect(await pointsOf(api, gold)).toEqual({ available: 900, held: 0 });

    const base = await memberWith(api, 'base-1', 1000);
    expectError(await redeem(api, base, { benefitCode: 'gold-lounge' }), 403, 'TIER_NOT_ELIGIBLE');
    expect((await catalogueItem(api, 'gold-lounge', base)).reasons).toEqual(['TIER_NOT_ELIGIBLE']);
    expect(await mine(base)).toEqual([]);
  });

  it('when a tier’s benefitCodes include a benefit, then its members redeem it free within their limit, and others pay its price', async () => {
    const gold = await goldMember('gold-2');
    const free = await redeem(api, gold, { benefitCode: 'shipping', quantity: 2 });
    expect(free.status, free.text).toBe(201);
    expect(free.body.redemption).toMatchObject({ status: 'issued', pointsSpent: 0 });
    const gift = await redeem(api, gold, { benefitCode: 'gold-gift' });
    expect(gift.status, gift.text).toBe(201);
    expect(gift.body.redemption.pointsSpent).toBe(0);
    expect(await pointsOf(api, gold)).toEqual({ available: 1000, held: 0 });
    // Free, but still within the member's limit.
    expectError(await redeem(api, gold, { benefitCode: 'gold-gift' }), 409, 'LIMIT_REACHED');
    expect((await api.built.services.stock.levels('gold-gift')).left).toBe(19);

    const base = await memberWith(api, 'base-2', 1000);
    const paid = await redeem(api, base, { benefitCode: 'shipping' });
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body.redemption.pointsSpent).toBe(50);
    expect(await pointsOf(api, base)).toEqual({ available: 950, held: 0 });
  });

  it('when a GOLD member is downgraded at period end, then GOLD benefits are refused TIER_NOT_ELIGIBLE with nothing recorded, and privileges cost again', async () => {
    const m = await goldMember('gold-3');
    expect((await redeem(api, m, { benefitCode: 'gold-lounge' })).status).toBe(201);
    const before = await mine(m);

    api.clock.advance({ days: 366 }); // the growth has left the window, and GOLD's year is over
    const run = await api.built.services.tiers.runEvaluation('after-a-year');
    expect(run.ran).toBe(true);
    expect(await tierOf(m)).toBe('SILVER');
    await earned(api, m, 1000);
    const points = await pointsOf(api, m);

    expectError(await redeem(api, m, { benefitCode: 'gold-lounge' }), 403, 'TIER_NOT_ELIGIBLE');
    expectError(await redeem(api, m, { benefitCode: 'gold-gift' }), 403, 'TIER_NOT_ELIGIBLE');
    expect((await catalogueItem(api, 'gold-lounge', m)).reasons).toEqual(['TIER_NOT_ELIGIBLE']);
    expect(await pointsOf(api, m)).toEqual(points);
    expect(await mine(m)).toEqual(before);

    const shipping = await redeem(api, m, { benefitCode: 'shipping' });
    expect(shipping.status, shipping.text).toBe(201);
    expect(shipping.body.redemption.pointsSpent).toBe(50);
    expect(await pointsOf(api, m)).toEqual({ available: points.available - 50, held: 0 });
  });
});
