import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/platform/clock.js';
import { ArmedFaults } from '../src/platform/faults.js';
import { freshDbName, ops, service, startTestApp, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, registerMember } from './helpers/ledger.js';

/**
 * A retried event (same eventId) after its first attempt died: the retry comes from a new instance over the same
 * database, with a clock past the dead attempt's 30 s idempotency lease, after ops changed the rule in between.
 */
const dbName = freshDbName('events_retry');
const START = new Date('2026-03-02T08:00:00Z');
const afterLease = () => new ManualClock(new Date(START.getTime() + 31_000));

/** 1 point per yuan and 1 growth per 10 yuan; `halved` pays half of both. */
const unitRule = (code: string, halved = false) => ({
  name: `${code}: per yuan`,
  eventType: 'order.paid',
  points: { kind: 'per-unit', property: 'amount', unit: halved ? 2 : 1, points: 1 },
  growth: { kind: 'per-unit', property: 'amount', unit: halved ? 20 : 10, points: 1 },
});
const putRule = (api: TestApp, code: string, body: unknown) => api.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body });
const send = (api: TestApp, event: unknown) => api.request('POST', '/v1/events', { token: service, body: event });
const orderPaid = (memberId: string, orderId: string, amount: number, eventId = `paid-${orderId}`) => ({
  eventId,
  memberId,
  type: 'order.paid',
  occurredAt: START.toISOString(),
  properties: { orderId, amount },
});
const orderRefunded = (memberId: string, orderId: string, amount: number) => ({
  eventId: `refund-${orderId}`,
  memberId,
  type: 'order.refunded',
  occurredAt: START.toISOString(),
  properties: { orderId, amount },
});
const growthOf = async (api: TestApp, memberId: string) => (await api.request('GET', `/v1/members/${memberId}`, { token: service })).body.summary.growth;

/** Seeds a member holding 30 points, the rule at full rate, and sends the order on an instance that dies at `point`. */
async function crashFirstAttempt(memberId: string, rule: string, orderId: string, point: string): Promise<void> {
  const faults = new ArmedFaults();
  const crashed = await startTestApp({ dbName, faults, clock: new ManualClock(START) });
  try {
    expect((await putRule(crashed, rule, unitRule(rule))).status).toBe(201);
    await registerMember(crashed, memberId);
    await earned(crashed, memberId, 30);
    faults.arm(point);
    expectError(await send(crashed, orderPaid(memberId, orderId, 100)), 500, 'INTERNAL');
  } finally {
    await crashed.close({ keepDatabase: true });
  }
}

let observer: TestApp;
beforeAll(async () => {
  observer = await startTestApp({ dbName });
});
afterAll(async () => {
  await observer.close();
});

describe('a retried event after the rules changed', () => {
  it('when the first attempt paid and died before linking the order, then the retry answers and links what landed, and a full refund takes all of it back', async () => {
    const m = 'retry-landed';
    await crashFirstAttempt(m, 'retry-unit', 'SO-R1', 'event:before-order-links');
    expect(await balanceOf(observer, m)).toMatchObject({ available: 130 });

    const restarted = await startTestApp({ dbName, clock: afterLease() });
    try {
      expect((await putRule(restarted, 'retry-unit', unitRule('retry-unit', true))).status).toBe(200); // would now pay 50
      const retried = await send(restarted, orderPaid(m, 'SO-R1', 100));
      expect(retried.status, retried.text).toBe(201);

      const landed = (await historyOf(restarted, m)).find((e) => e.ref?.type === 'event' && e.ref.id === 'paid-SO-R1');
      expect(landed).toMatchObject({ kind: 'earn', points: 100 });
      expect(retried.body.effects.points).toEqual([{ rule: 'retry-unit', points: 100, entryId: landed.id }]);
      expect(retried.body.effects.growth).toEqual([{ rule: 'retry-unit', growth: 10, entryId: expect.any(String) }]);
      expect(retried.body.effects.notFired).toEqual([]);
      expect(await balanceOf(restarted, m)).toMatchObject({ available: 130 });

      const dup = await send(restarted, orderPaid(m, 'SO-R1', 100, 'another-id-for-SO-R1'));
      expectError(dup, 409, 'ORDER_ALREADY_PROCESSED');

      const refund = await send(restarted, orderRefunded(m, 'SO-R1', 100));
      expect(refund.status, refund.text).toBe(201);
      expect(refund.body.effects.reversed.map((r: { ledger: string; amount: number }) => [r.ledger, r.amount]).sort()).toEqual([['growth', 10], ['points', 100]]);
      expect(await balanceOf(restarted, m)).toMatchObject({ available: 30 });
      expect(await growthOf(restarted, m)).toMatchObject({ value: 0 });
      await expectLedgerClean([restarted]);
    } finally {
      await putRule(restarted, 'retry-unit', { ...unitRule('retry-unit'), active: false });
      await restarted.close({ keepDatabase: true });
    }
  });

  it('when the first attempt died after taking caps but before deciding what to pay, then the retry pays the rule as it is now, and a full refund takes all of it back', async () => {
    const m = 'retry-undecided';
    await crashFirstAttempt(m, 'retry-fresh', 'SO-R2', 'event:before-decision');
    expect(await balanceOf(observer, m)).toMatchObject({ available: 30 });

    const restarted = await startTestApp({ dbName, clock: afterLease() });
    try {
      expect((await putRule(restarted, 'retry-fresh', unitRule('retry-fresh', true))).status).toBe(200);
      const retried = await send(restarted, orderPaid(m, 'SO-R2', 100));
      expect(retried.status, retried.text).toBe(201);
      const landed = (await historyOf(restarted, m)).find((e) => e.ref?.type === 'event' && e.ref.id === 'paid-SO-R2');
      expect(retried.body.effects.points).toEqual([{ rule: 'retry-fresh', points: 50, entryId: landed.id }]);
      expect(await balanceOf(restarted, m)).toMatchObject({ available: 80 });

      const refund = await send(restarted, orderRefunded(m, 'SO-R2', 100));
      expect(refund.status, refund.text).toBe(201);
      expect(await balanceOf(restarted, m)).toMatchObject({ available: 30 });
      await expectLedgerClean([restarted]);
    } finally {
      await putRule(restarted, 'retry-fresh', { ...unitRule('retry-fresh'), active: false });
      await restarted.close({ keepDatabase: true });
    }
  });
  it('when the first attempt decided and died before paying, then the retry pays what it decided, not the rule as it is now', async () => {
    const m = 'retry-decided';
    await crashFirstAttempt(m, 'retry-decided', 'SO-R3', 'earn:before-insert');
    expect(await balanceOf(observer, m)).toMatchObject({ available: 30 });

    const restarted = await startTestApp({ dbName, clock: afterLease() });
    try {
      expect((await putRule(restarted, 'retry-decided', unitRule('retry-decided', true))).status).toBe(200);
      const retried = await send(restarted, orderPaid(m, 'SO-R3', 100));
      expect(retried.status, retried.text).toBe(201);
      const landed = (await historyOf(restarted, m)).find((e) => e.ref?.type === 'event' && e.ref.id === 'paid-SO-R3');
      expect(landed).toMatchObject({ kind: 'earn', points: 100 });
      expect(retried.body.effects.points).toEqual([{ rule: 'retry-decided', points: 100, entryId: landed.id }]);
      expect(retried.body.effects.growth).toEqual([{ rule: 'retry-decided', growth: 10, entryId: expect.any(String) }]);

      const refund = await send(restarted, orderRefunded(m, 'SO-R3', 100));
      expect(refund.status, refund.text).toBe(201);
      expect(await balanceOf(restarted, m)).toMatchObject({ available: 30 });
      expect(await growthOf(restarted, m)).toMatchObject({ value: 0 });
      await expectLedgerClean([restarted]);
    } finally {
      await putRule(restarted, 'retry-decided', { ...unitRule('retry-decided'), active: false });
      await restarted.close({ keepDatabase: true });
    }
  });
});
