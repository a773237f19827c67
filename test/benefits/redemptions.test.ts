import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type ApiResponse, type TestApp } from '../helpers/app.js';
import { catalogueItem, cleanStock, defineBenefit, memberWith, pointsOf, redeem, redeemFor, VOUCHER_CODE } from '../helpers/benefits.js';
import { expectError, issuePaths } from '../helpers/expect.js';
import { expectLedgerClean } from '../helpers/ledger.js';

/** Redeeming a benefit over HTTP (PRODUCT.md §8): the voucher, the points, the stock, and every refusal leaving nothing behind. */
let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api.close();
});

let n = 0;
const member = (points: number) => memberWith(api, `rdm-${++n}`, points);
const mine = async (memberId: string) => {
  const res = await api.request('GET', '/v1/me/redemptions', { token: tokenFor('member', memberId) });
  expect(res.status, res.text).toBe(200);
  return res.body.items as any[];
};

/** Everything a refusal must leave as it was: the member's points, their limit and the stock. */
async function snapshot(memberId: string, code: string) {
  const item = await catalogueItem(api, code, memberId);
  return { points: await pointsOf(api, memberId), stockLeft: item.stockLeft, limitLeft: item.limitLeft };
}

describe('a redemption that succeeds', () => {
  it('when a member redeems two units, then 201 issues a voucher, the points are captured and the stock is down by two', async () => {
    await defineBenefit(api, 'coffee', { stock: 10, voucherValidDays: 30 });
    const m = await member(1000);
    const res = await redeem(api, m, { benefitCode: 'coffee', quantity: 2 });
    expect(res.status, res.text).toBe(201);
    const r = res.body.redemption;
    expect(r).toMatchObject({ benefitCode: 'coffee', memberId: m, quantity: 2, status: 'issued', pointsSpent: 200, usedAt: null, cancelledAt: null, failure: null });
    expect(r.voucherCode).toMatch(VOUCHER_CODE);
    expect(r.expiresAt).toBe(new Date(api.clock.now().getTime() + 30 * 86_400_000).toISOString());
    expect(await pointsOf(api, m)).toEqual({ available: 800, held: 0 });
    expect((await cleanStock(api, 'coffee')).left).toBe(8);
    expect((await catalogueItem(api, 'coffee', m)).stockLeft).toBe(8);

    const read = await api.request('GET', `/v1/redemptions/${encodeURIComponent(r.id)}`, { token: tokenFor('member', m) });
    expect(read.status).toBe(200);
    expect(read.body.redemption).toEqual(r);
    expect(await mine(m)).toEqual([r]);
    await expectLedgerClean([api]);
  });

  it('when the same request is sent again with its key, then it answers the same body, replayed, and nothing moves twice', async () => {
    await defineBenefit(api, 'tea', { stock: 5 });
    const m = await member(500);
    const first = await redeem(api, m, { benefitCode: 'tea', quantity: 1 }, 'tap-1');
    expect(first.status, first.text).toBe(201);
    const again = await redeem(api, m, { benefitCode: 'tea', quantity: 1 }, 'tap-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await pointsOf(api, m)).toEqual({ available: 400, held: 0 });
    expect((await cleanStock(api, 'tea')).left).toBe(4);
    expect(await mine(m)).toHaveLength(1);
  });

  it('when a key is reused for another body, then 409 IDEMPOTENCY_KEY_REUSED; without a key, 400; and nothing moves', async () => {
    await defineBenefit(api, 'cake', { stock: 5 });
    const m = await member(500);
    expect((await redeem(api, m, { benefitCode: 'cake', quantity: 1 }, 'tap-2')).status).toBe(201);
    expectError(await redeem(api, m, { benefitCode: 'cake', quantity: 2 }, 'tap-2'), 409, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await redeem(api, m, { benefitCode: 'tea', quantity: 1 }, 'tap-2'), 409, 'IDEMPOTENCY_KEY_REUSED');
    const keyless = await api.request('POST', '/v1/me/redemptions', { token: tokenFor('member', m), body: { benefitCode: 'cake', quantity: 1 } });
    expectError(keyless, 400, 'IDEMPOTENCY_KEY_REQUIRED');
    expect(await pointsOf(api, m)).toEqual({ available: 400, held: 0 });
    expect((await cleanStock(api, 'cake')).left).toBe(4);
    expect(await mine(m)).toHaveLength(1);
  });

  it('when the business backend redeems for a member, then the member sees the voucher, and a member may not use that route', async () => {
    await defineBenefit(api, 'scarf', { kind: 'gift', costPoints: 300, stock: null, voucherValidDays: undefined });
    const m = await member(300);
    const res = await redeemFor(api, m, { benefitCode: 'scarf' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.redemption).toMatchObject({ status: 'issued', quantity: 1, pointsSpent: 300, expiresAt: null });
    expect(await pointsOf(api, m)).toEqual({ available: 0, held: 0 });
    expect((await mine(m)).map((r) => r.id)).toEqual([res.body.redemption.id]);
    const asMember = await api.request('POST', `/v1/members/${m}/redemptions`, { token: tokenFor('member', m), body: { benefitCode: 'scarf' }, headers: { 'Idempotency-Key': 'x' } });
    expect(asMember.status).toBe(403);
  });
});

describe('refusals leave nothing behind', () => {
  /** Redeems, expects the refusal, and expects points, stock and limit as they were; answers the member's redemptions. */
  async function refused(m: string, code: string, body: unknown, status: number, errorCode: string): Promise<any[]> {
    const before = await snapshot(m, code);
    const res = await redeem(api, m, body);
    expectError(res, status, errorCode);
    expect(await snapshot(m, code)).toEqual(before);
    expect(await api.built.services.stock.check(code)).toEqual([]);
    return mine(m);
  }
  const failedWith = (items: any[], code: string) => items.filter((r) => r.status === 'failed' && r.failure === code && r.pointsSpent === 0 && r.voucherCode === null);

  it('when the member lacks the points, then 409 INSUFFICIENT_POINTS and the redemption is recorded as failed', async () => {
    await defineBenefit(api, 'pricey', { costPoints: 100, stock: 3, perMemberLimit: { count: 2, period: 'day' } });
    const m = await member(150);
    const items = await refused(m, 'pricey', { benefitCode: 'pricey', quantity: 2 }, 409, 'INSUFFICIENT_POINTS');
    expect(failedWith(items, 'INSUFFICIENT_POINTS')).toHaveLength(1);
    expect(await pointsOf(api, m)).toEqual({ available: 150, held: 0 });
  });

  it('when the stock has fewer units than asked, then 409 OUT_OF_STOCK with what is left and the points are released', async () => {
    await defineBenefit(api, 'last-one', { stock: 1, perMemberLimit: { count: 5, period: 'day' } });
    const m = await member(1000);
    const items = await refused(m, 'last-one', { benefitCode: 'last-one', quantity: 2 }, 409, 'OUT_OF_STOCK');
    expect(failedWith(items, 'OUT_OF_STOCK')).toHaveLength(1);
    expect((await api.built.services.stock.levels('last-one')).left).toBe(1);
    expect((await redeem(api, m, { benefitCode: 'last-one', quantity: 1 })).status).toBe(201);
    const gone = await refused(m, 'last-one', { benefitCode: 'last-one', quantity: 1 }, 409, 'OUT_OF_STOCK');
    expect(failedWith(gone, 'OUT_OF_STOCK')).toHaveLength(2);
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
  });

  it('when the member’s limit is used up, then 409 LIMIT_REACHED, and the stock and points of the refused one come back', async () => {
    await defineBenefit(api, 'daily', { stock: 10, perMemberLimit: { count: 2, period: 'day' } });
    const m = await member(1000);
    expect((await redeem(api, m, { benefitCode: 'daily', quantity: 1 })).status).toBe(201);
    const items = await refused(m, 'daily', { benefitCode: 'daily', quantity: 2 }, 409, 'LIMIT_REACHED');
    expect(failedWith(items, 'LIMIT_REACHED')).toHaveLength(1);
    expect((await redeem(api, m, { benefitCode: 'daily', quantity: 1 })).status).toBe(201);
    await refused(m, 'daily', { benefitCode: 'daily', quantity: 1 }, 409, 'LIMIT_REACHED');
    expect(await snapshot(m, 'daily')).toEqual({ points: { available: 800, held: 0 }, stockLeft: 8, limitLeft: 0 });
    await expectLedgerClean([api]);
  });

  it('when the benefit is for other tiers, then 403 TIER_NOT_ELIGIBLE and nothing is recorded', async () => {
    await defineBenefit(api, 'gold-lounge', { tiers: ['GOLD'], stock: 5 });
    const m = await member(1000);
    expect(await refused(m, 'gold-lounge', { benefitCode: 'gold-lounge' }, 403, 'TIER_NOT_ELIGIBLE')).toEqual([]);
  });

  it('when the benefit is outside its window, then 409 NOT_IN_WINDOW and nothing is recorded', async () => {
    const now = api.clock.now().getTime();
    await defineBenefit(api, 'soon', { validFrom: new Date(now + 3_600_000).toISOString(), stock: 5 });
    await defineBenefit(api, 'over', { validFrom: new Date(now - 7_200_000).toISOString(), validTo: new Date(now).toISOString(), stock: 5 });
    const m = await member(1000);
    expect(await refused(m, 'soon', { benefitCode: 'soon' }, 409, 'NOT_IN_WINDOW')).toEqual([]);
    expect(await refused(m, 'over', { benefitCode: 'over' }, 409, 'NOT_IN_WINDOW')).toEqual([]);
  });

  it('when the benefit is inactive or unknown, then 404 and nothing moves', async () => {
    await defineBenefit(api, 'retired', { stock: 5, active: false });
    const m = await member(1000);
    expectError(await redeem(api, m, { benefitCode: 'retired' }), 404, 'NOT_FOUND');
    expectError(await redeem(api, m, { benefitCode: 'no-such-benefit' }), 404, 'NOT_FOUND');
    expect((await api.built.services.stock.levels('retired')).left).toBe(5);
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect(await mine(m)).toEqual([]);
  });

  it('when the member is frozen, then 409 MEMBER_FROZEN and nothing moves', async () => {
    await defineBenefit(api, 'frozen-test', { stock: 5 });
    const m = await member(1000);
    expect((await api.request('PATCH', `/v1/members/${m}`, { token: ops, body: { status: 'frozen' } })).status).toBe(200);
    expect(await refused(m, 'frozen-test', { benefitCode: 'frozen-test' }, 409, 'MEMBER_FROZEN')).toEqual([]);
  });

  it('when the quantity would cost more than MAX_POINTS_AMOUNT, then 400 on body.quantity and nothing moves', async () => {
    await defineBenefit(api, 'jet', { costPoints: api.config.maxPointsAmount, stock: 5 });
    const m = await member(1000);
    const before = await snapshot(m, 'jet');
    const res = await redeem(api, m, { benefitCode: 'jet', quantity: 2 });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(issuePaths(res)).toEqual(['body.quantity']);
    expect(await snapshot(m, 'jet')).toEqual(before);
    expect(await mine(m)).toEqual([]);
  });
});

describe('hostile bodies', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['an operator for the code', { benefitCode: { $gt: '' } }, ['body.benefitCode']],
    ['an operator for the quantity', { benefitCode: 'hostile', quantity: { $gt: 0 } }, ['body.quantity']],
    ['a string for the quantity', { benefitCode: 'hostile', quantity: '1' }, ['body.quantity']],
    ['quantity 0', { benefitCode: 'hostile', quantity: 0 }, ['body.quantity']],
    ['quantity 11', { benefitCode: 'hostile', quantity: 11 }, ['body.quantity']],
    ['quantity 1.5', { benefitCode: 'hostile', quantity: 1.5 }, ['body.quantity']],
    ['a negative quantity', { benefitCode: 'hostile', quantity: -1 }, ['body.quantity']],
    ['an unknown key', { benefitCode: 'hostile', quantity: 1, memberId: 'someone-else' }, ['body']],
    ['a price of the caller’s own', { benefitCode: 'hostile', pointsSpent: 0 }, ['body']],
    ['no code', { quantity: 1 }, ['body.benefitCode']],
    ['a code that is not one', { benefitCode: 'DROP TABLE' }, ['body.benefitCode']],
  ];

  it.each(cases)('when the body has %s, then 400 VALIDATION_FAILED on its path and nothing moves', async (_what, body, paths) => {
    await defineBenefit(api, 'hostile', { stock: 5 });
    const m = await member(1000);
    const res = await redeem(api, m, body);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(issuePaths(res)).toEqual(paths);
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect((await api.built.services.stock.levels('hostile')).left).toBe(5);
    expect(await mine(m)).toEqual([]);
  });

  it('when the body is not JSON, an array or a bare value, then 4xx, never a 500', async () => {
    const m = await member(0);
    const raw = (body: string): Promise<ApiResponse> =>
      api.request('POST', '/v1/me/redemptions', { token: tokenFor('member', m), body, headers: { 'Idempotency-Key': `raw-${body.length}-${body}` } });
    for (const body of ['{"benefitCode":', '[{"benefitCode":"hostile"}]', '"hostile"', '42', 'null']) {
      const res = await raw(body);
      expect(res.status, `${body}: ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${body}: ${res.text}`).toBeLessThan(500);
    }
    expect(await mine(m)).toEqual([]);
  });

  it('when a service token or no token calls the member route, then it is refused', async () => {
    const body = { benefitCode: 'hostile' };
    expect((await api.request('POST', '/v1/me/redemptions', { token: service, body, headers: { 'Idempotency-Key': 'svc' } })).status).toBe(403);
    expect((await api.request('POST', '/v1/me/redemptions', { body, headers: { 'Idempotency-Key': 'anon' } })).status).toBe(401);
  });
});
