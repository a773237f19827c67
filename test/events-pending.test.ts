import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';
import { expectError, issuePaths } from './helpers/expect.js';
import { balanceOf, expectLedgerClean, points } from './helpers/ledger.js';

/**
 * Earning rules with `pendingDays` (Open Loyalty's pending points, Voucherify's pending days): the points an order
 * earns stay pending through the return window, and a refund inside it takes the pending points back.
 */
let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
  api.clock.set('2026-03-01T08:00:00Z');
  const rules: Array<[string, Record<string, unknown>]> = [
    ['order-window', { name: '1 point per yuan after the 14-day return window', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, growth: { kind: 'per-unit', property: 'amount', unit: 10, points: 1 }, pendingDays: 14 }],
    ['vip-bonus', { name: '50 for VIP orders, pending 3 days', eventType: 'order.paid', points: { kind: 'fixed', amount: 50 }, conditions: { categories: ['vip'] }, pendingDays: 3 }],
  ];
  for (const [code, body] of rules) expect((await putRule(code, body)).status).toBe(201);
});
afterAll(async () => {
  await api?.close();
});

const DAY = 86_400_000;
const putRule = (code: string, body: Record<string, unknown>) => api.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body });
const send = (event: Record<string, unknown>) => api.request('POST', '/v1/events', { token: service, body: event });
const daysFrom = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY).toISOString();
let members = 0;
async function newMember(): Promise<string> {
  const memberId = `pend-${++members}`;
  expect((await api.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);
  return memberId;
}
const order = (memberId: string, type: 'order.paid' | 'order.refunded', orderId: string, amount: number, n = 1, extra: Record<string, unknown> = {}) => ({
  eventId: `${type}-${orderId}-${n}`,
  memberId,
  type,
  occurredAt: api.clock.now().toISOString(),
  properties: { orderId, amount, ...extra },
});
const growthOf = async (memberId: string) => (await api.request('GET', '/v1/me', { token: tokenFor('member', memberId) })).body.summary.growth.value;

describe('earning rules with pending days', () => {
  it('when an order pays through a rule with pendingDays, then its points are pending through the window, a refund inside it takes pending points back, and the rest becomes spendable after', async () => {
    api.clock.set('2026-03-01T08:00:00Z');
    const m = await newMember();
    const paidAt = api.clock.now().toISOString();
    const windowEnds = daysFrom(paidAt, 14);
    const paid = await send(order(m, 'order.paid', 'SO-1', 300));
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body.effects.points).toEqual([{ rule: 'order-window', points: 300, entryId: expect.any(String), availableAt: windowEnds }]);
    expect(await balanceOf(api, m)).toMatchObject({ available: 0, pending: 300, becomingAvailable: [{ availableAt: windowEnds, points: 300 }] });
    expect(await growthOf(m)).toBe(30); // growth is never pending
    expectError(await points.spend(api, m, { amount: 1, code: 'redemption' }), 409, 'INSUFFICIENT_POINTS');

    api.clock.set(daysFrom(paidAt, 5));
    const refund = await send(order(m, 'order.refunded', 'SO-1', 100));
    expect(refund.status, refund.text).toBe(201);
    expect(refund.body.effects.reversed).toEqual(expect.arrayContaining([expect.objectContaining({ ledger: 'points', amount: 100 })]));
    expect(await balanceOf(api, m)).toMatchObject({ available: 0, pending: 200, debt: 0 });

    api.clock.set(windowEnds);
    expect(await balanceOf(api, m)).toMatchObject({ available: 200, pending: 0 });
    api.clock.set(daysFrom(paidAt, 20));
    const rest = await send(order(m, 'order.refunded', 'SO-1', 200, 2));
    expect(rest.body.effects.reversed).toEqual(expect.arrayContaining([expect.objectContaining({ ledger: 'points', amount: 200 })]));
    expect(await balanceOf(api, m)).toMatchObject({ available: 0, pending: 0, debt: 0, lifetime: { earned: 300, reversed: 300 } });
    expect(await growthOf(m)).toBe(0);
    await expectLedgerClean([api]);
  });

  it('when rules with different pendingDays fire on one event, then one entry pays them all, pending until the latest window', async () => {
    api.clock.set('2026-03-01T08:00:00Z');
    const m = await newMember();
    const windowEnds = daysFrom(api.clock.now().toISOString(), 14);
    const paid = await send(order(m, 'order.paid', 'SO-VIP', 100, 1, { category: 'vip' }));
    expect(paid.body.effects.points).toEqual([
      { rule: 'order-window', points: 100, entryId: expect.any(String), availableAt: windowEnds },
      { rule: 'vip-bonus', points: 50, entryId: paid.body.effects.points[0].entryId, availableAt: windowEnds },
    ]);
    api.clock.set(daysFrom(api.clock.now().toISOString(), 3)); // the bonus's own window is over, the order's is not
    expect(await balanceOf(api, m)).toMatchObject({ available: 0, pending: 150 });
    api.clock.set(windowEnds);
    expect(await balanceOf(api, m)).toMatchObject({ available: 150, pending: 0 });
  });

  it('when an order is reported after its window is over, then its points are available at once', async () => {
    api.clock.set('2026-04-01T08:00:00Z');
    const m = await newMember();
    const late = { ...order(m, 'order.paid', 'SO-LATE', 80), occurredAt: '2026-03-10T08:00:00.000Z' };
    const paid = await send(late);
    expect(paid.body.effects.points).toEqual([{ rule: 'order-window', points: 80, entryId: expect.any(String) }]);
    expect(await balanceOf(api, m)).toMatchObject({ available: 80, pending: 0 });
  });

  it('when a rule asks for pendingDays out of range or on growth alone, then it is refused naming pendingDays, and a dry run shows the days', async () => {
    const base = { name: 'x', eventType: 'order.paid', points: { kind: 'fixed', amount: 1 } };
    for (const pendingDays of [366, -1, 1.5, '14', null]) {
      const res = await putRule('bad-pending', { ...base, pendingDays });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res), JSON.stringify(pendingDays)).toEqual(['body.pendingDays']);
    }
    const growthOnly = await putRule('bad-pending', { name: 'x', eventType: 'order.paid', growth: { kind: 'fixed', amount: 1 }, pendingDays: 5 });
    expectError(growthOnly, 400, 'VALIDATION_FAILED');
    expect(issuePaths(growthOnly)).toEqual(['body.pendingDays']);

    const m = await newMember();
    const dry = await api.request('POST', '/v1/admin/earning-rules/dry-run', { token: ops, body: { event: order(m, 'order.paid', 'SO-DRY', 10) } });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body.evaluations).toContainEqual(expect.objectContaining({ rule: 'order-window', fired: true, points: 10, pendingDays: 14 }));
    await expectLedgerClean([api]);
  });
});
