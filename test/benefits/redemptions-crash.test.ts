import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { catalogueItem, cleanStock, defineBenefit, memberWith, pointsOf, redeem, VOUCHER_CODE } from '../helpers/benefits.js';
import { expectError } from '../helpers/expect.js';
import { expectLedgerClean, historyOf } from '../helpers/ledger.js';

/**
 * A redemption's request dies at every step of its saga (an injected crash: nothing after the point runs, and its
 * idempotency claim is left without an answer). What is left is finished either by the caller's retry on another
 * instance or, with no retry, by the sweeper once the 60 s lease is over; either way the member ends with a complete
 * redemption (voucher issued, points captured, one unit and one limit slot taken) or with nothing, never half.
 */
const START = new Date('2026-03-01T08:00:00Z');
const at = (seconds: number) => new ManualClock(new Date(START.getTime() + seconds * 1000));
const COST = 100;
const STOCK = 5;
/**
 * `issuable`: nothing refuses, so the saga must end issued. `limit-used`: the member used their one-a-day limit
 * before, so the saga must end failed with LIMIT_REACHED and give back the hold and the unit it took on the way.
 */
type Scenario = 'issuable' | 'limit-used';
const points: Record<Scenario, string[]> = {
  issuable: [
    'redemption:after-record', 'redemption:after-hold', 'redemption:after-stock', 'redemption:after-limit', 'redemption:after-end',
    'redemption:after-capture', 'hold:after-insert', 'capture:after-insert', 'benefit_stock:after-insert', 'benefit_limits:after-insert',
    'idempotency:before-record',
  ],
  'limit-used': ['redemption:after-record', 'redemption:after-hold', 'redemption:after-stock', 'redemption:after-end', 'hold:after-insert', 'benefit_stock:after-insert', 'release:after-insert'],
};
const cases = (Object.keys(points) as Scenario[]).flatMap((scenario) => points[scenario].map((point) => ({ scenario, point })));

type Crashed = { dbName: string; memberId: string; code: string; key: string; body: { benefitCode: string; quantity: number } };
let n = 0;

/**
 * Seeds a member and a benefit in a database of the case's own (the engine scans on recovery paths, so cases that
 * shared one would slow each other down), then sends the redemption on an instance armed to die at `point`: a 500.
 */
async function crashAt(scenario: Scenario, point: string): Promise<Crashed> {
  const dbName = freshDbName('redeem_crash');
  const faults = new ArmedFaults();
  const a = await startTestApp({ dbName, faults, clock: at(0) });
  try {
    const code = `crash-${++n}`;
    const memberId = `crash-member-${n}`;
    await defineBenefit(a, code, { costPoints: COST, stock: STOCK, perMemberLimit: { count: 1, period: 'day' }, voucherValidDays: 30 });
    await memberWith(a, memberId, 1000);
    const body = { benefitCode: code, quantity: 1 };
    if (scenario === 'limit-used') expect((await redeem(a, memberId, body)).status).toBe(201);
    faults.arm(point);
    const key = `dies-${n}`;
    const res = await redeem(a, memberId, body, key);
    expectError(res, 500, 'INTERNAL');
    expect(res.body.error.message).toBe('internal error');
    return { dbName, memberId, code, key, body };
  } finally {
    await a.close({ keepDatabase: true });
  }
}

/** The whole outcome: the redemption, the points, the stock and the limit, all consistent with one another. */
async function expectOutcome(api: TestApp, scenario: Scenario, c: Crashed): Promise<void> {
  const res = await api.request('GET', '/v1/me/redemptions', { token: tokenFor('member', c.memberId) });
  const items = res.body.items as any[];
  const levels = await cleanStock(api, c.code);
  const item = await catalogueItem(api, c.code, c.memberId);
  const entries = await historyOf(api, c.memberId);
  const holds = entries.filter((e) => e.kind === 'hold');
  const captures = entries.filter((e) => e.kind === 'capture');
  if (scenario === 'issuable') {
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'issued', pointsSpent: COST, failure: null });
    expect(items[0].voucherCode).toMatch(VOUCHER_CODE);
    expect(await pointsOf(api, c.memberId)).toEqual({ available: 1000 - COST, held: 0 });
    expect([holds.length, captures.length]).toEqual([1, 1]);
    expect(levels).toMatchObject({ left: STOCK - 1 });
    expect(levels.taken - levels.returned).toBe(1);
  } else {
    expect(items.map((r) => r.status).sort()).toEqual(['failed', 'issued']);
    expect(items.find((r) => r.status === 'failed')).toMatchObject({ failure: 'LIMIT_REACHED', pointsSpent: 0, voucherCode: null });
    // The first redemption's hold and capture, and the crashed one's hold, released.
    expect(await pointsOf(api, c.memberId)).toEqual({ available: 1000 - COST, held: 0 });
    expect([holds.length, captures.length, entries.filter((e) => e.kind === 'release').length]).toEqual([2, 1, 1]);
    expect(levels).toMatchObject({ left: STOCK - 1 });
    expect(levels.taken - levels.returned).toBe(1);
  }
  expect(item.limitLeft).toBe(0);
  expect((await expectLedgerClean([api])).benefits.inFlight).toEqual([]);
}

/** What the crashed key answers once recovered: the voucher, or the refusal the saga ended with. */
async function expectAnswer(api: TestApp, scenario: Scenario, c: Crashed): Promise<void> {
  const res = await redeem(api, c.memberId, c.body, c.key);
  // A replay answers the recorded body, which names the request that first answered it: so no expectError here.
  if (scenario === 'limit-used') {
    expect(res.status, res.text).toBe(409);
    return expect(res.body.error.code).toBe('LIMIT_REACHED');
  }
  expect(res.status, res.text).toBe(201);
  expect(res.body.redemption).toMatchObject({ status: 'issued', pointsSpent: COST });
}

describe('a crashed redemption retried on another instance', () => {
  it.each(cases)('when the request dies at $point ($scenario) and the member retries the key elsewhere, then the retry settles it once', async ({ scenario, point }) => {
    const c = await crashAt(scenario, point);
    const b = await startTestApp({ dbName: c.dbName, clock: at(31) });
    try {
      await expectAnswer(b, scenario, c);
      await expectOutcome(b, scenario, c);
      // The lease ends and the sweeper comes by: nothing is left for it to do.
      b.clock.advance({ seconds: 60 });
      await b.built.sweep();
      await expectAnswer(b, scenario, c);
      await expectOutcome(b, scenario, c);
    } finally {
      await b.close();
    }
  });
});

describe('a crashed redemption never retried', () => {
  it.each(cases)('when the request dies at $point ($scenario) and nobody retries, then the sweeper settles it after the lease', async ({ scenario, point }) => {
    const c = await crashAt(scenario, point);
    const b = await startTestApp({ dbName: c.dbName, clock: at(61) });
    try {
      await b.built.sweep();
      await expectOutcome(b, scenario, c);
      await b.built.sweep();
      await expectOutcome(b, scenario, c);
      // The member's app retries much later: the same outcome, nothing moves again.
      await expectAnswer(b, scenario, c);
      await expectOutcome(b, scenario, c);
    } finally {
      await b.close();
    }
  });

  it('when a request dies and its retry and the sweeper run at once on two instances, then they settle it once between them', async () => {
    for (const point of ['redemption:after-hold', 'redemption:after-stock', 'redemption:after-end']) {
      const c = await crashAt('issuable', point);
      const b = await startTestApp({ dbName: c.dbName, clock: at(61) });
      const s = await startTestApp({ dbName: c.dbName, clock: at(61) });
      try {
        const [retried] = await Promise.all([redeem(b, c.memberId, c.body, c.key), s.built.sweep()]);
        expect(retried.status, retried.text).toBe(201);
      } finally {
        await s.close({ keepDatabase: true });
      }
      try {
        await expectOutcome(b, 'issuable', c);
      } finally {
        await b.close();
      }
    }
  });
});
