import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBenefits } from '../../src/modules/benefits/benefits.check.js';
import { benefitLimits } from '../../src/modules/benefits/limits.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { ops, service, startTestApp, type ApiResponse, type TestApp } from '../helpers/app.js';
import { earned, expectLedgerClean } from '../helpers/ledger.js';

/**
 * `checkBenefits` (npm run ledger:check, issue 12 item 6) over a store the real saga wrote: clean after redemptions,
 * cancellations, uses, expiries and failures; then each planted defect is named.
 */
const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function app(faults?: ArmedFaults): Promise<TestApp> {
  const api = await startTestApp(faults ? { faults } : {});
  apps.push(api);
  return api;
}

async function define(api: TestApp, code: string, body: Record<string, unknown>): Promise<void> {
  const res = await api.request('PUT', `/v1/admin/benefits/${code}`, { token: ops, body: { name: code, kind: 'gift', active: true, ...body } });
  expect(res.status, res.text).toBe(201);
}

async function member(api: TestApp, memberId: string, points: number): Promise<string> {
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId } });
  expect(res.status, res.text).toBe(201);
  if (points > 0) await earned(api, memberId, points);
  return memberId;
}

const redeem = (api: TestApp, memberId: string, benefitCode: string, quantity = 1): Promise<ApiResponse> =>
  api.request('POST', `/v1/members/${memberId}/redemptions`, { token: service, body: { benefitCode, quantity }, headers: { 'Idempotency-Key': randomUUID() } });

async function issued(api: TestApp, memberId: string, benefitCode: string, quantity = 1): Promise<string> {
  const res = await redeem(api, memberId, benefitCode, quantity);
  expect(res.status, res.text).toBe(201);
  return res.body.redemption.id;
}

/** A member's redemptions as ops list them (a crashed request answers no id). */
async function listOf(api: TestApp, memberId: string): Promise<Array<{ id: string; status: string }>> {
  const res = await api.request('GET', `/v1/admin/redemptions?memberId=${memberId}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.items;
}
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const check = (api: TestApp) => checkBenefits(api.db, { now: api.clock.now(), expiredPoints: api.config.benefits.expiredVoucherPoints });

describe('ledger:check for benefits', () => {
  it('when members redeem, cancel, use, let a voucher expire and fail, then every benefit and redemption checks clean', async () => {
    const api = await app();
    await define(api, 'mug', { costPoints: 100, stock: 5, perMemberLimit: { count: 2, period: 'month' }, voucherValidDays: 30 });
    await define(api, 'tea', { kind: 'coupon', costPoints: 50, stock: null });
    await define(api, 'lounge', { kind: 'privilege', costPoints: 0, stock: 3 });
    const ann = await member(api, 'chk-ann', 1000);
    const bo = await member(api, 'chk-bo', 120);
    const cy = await member(api, 'chk-cy', 0);

    const first = await issued(api, ann, 'mug');
    const second = await issued(api, ann, 'mug');
    // Refused at the limit step, after the stock step took a unit: the saga gives it back.
    const third = await redeem(api, ann, 'mug');
    expect(third.status, third.text).toBe(409);
    expect(third.body.error.code).toBe('LIMIT_REACHED');
    const cancelled = await api.request('POST', `/v1/redemptions/${encodeURIComponent(first)}/cancel`, { token: ops, headers: { 'Idempotency-Key': randomUUID() } });
    expect(cancelled.status, cancelled.text).toBe(200);
    const used = await api.request('POST', `/v1/redemptions/${encodeURIComponent(await issued(api, bo, 'mug'))}/use`, { token: service });
    expect(used.status, used.text).toBe(200);
    // Refused at the hold (20 points left): nothing was taken.
    expect((await redeem(api, bo, 'tea')).body.error.code).toBe('INSUFFICIENT_POINTS');
    await issued(api, cy, 'lounge');
    await issued(api, ann, 'tea', 2);

    api.clock.advance({ days: 31 });
    await api.built.sweep();
    const expired = await api.request('GET', `/v1/redemptions/${encodeURIComponent(second)}`, { token: ops });
    expect(expired.body.redemption.status).toBe('expired');

    const { benefits } = await expectLedgerClean([api]);
    expect(benefits).toEqual({ benefits: 3, redemptions: 7, violations: [], inFlight: [] });
    // What the invariant reconciles: mug has 2 units out (used, expired), lounge 1, the refused and cancelled none.
    expect(await api.built.services.stock.levels('mug')).toMatchObject({ left: 3, taken: 4, returned: 2 });
  });

  it('when a stock take and a limit take land under ops no redemption owns, then the check names both and the stock no longer adds up', async () => {
    const api = await app();
    await define(api, 'mug', { costPoints: 100, stock: 5 });
    await issued(api, await member(api, 'chk-dan', 500), 'mug');
    await api.built.services.stock.take('mug', 'rogue-op', 1);
    await benefitLimits(api.db).take('chk-dan', 'mug', 'rogue-period', 5, 'rogue-limit', 1);

    const report = await check(api);
    expect(report.violations).toEqual([
      'stock mug: op rogue-op took 1 unit (1 still out) for no redemption',
      'limit chk-dan|mug|rogue-period seq 1: a take of 1 under op rogue-limit, which no redemption owns',
      'stock mug: taken 2 − returned 0 = 2, but redemptions hold 1',
    ]);
  });

  it('when a failed redemption never gave its unit of stock back, then the check names the redemption once its sweep is gone', async () => {
    const faults = new ArmedFaults();
    const api = await app(faults);
    await define(api, 'mug', { costPoints: 100, stock: 5, perMemberLimit: { count: 1, period: 'lifetime' } });
    const eve = await member(api, 'chk-eve', 500);
    await issued(api, eve, 'mug');
    // The second takes a unit, is refused at the limit, commits `end: failed` and dies before undoing anything.
    faults.arm('redemption:after-end');
    expect((await redeem(api, eve, 'mug')).status).toBe(500);
    const failed = (await listOf(api, eve)).find((r) => r.status === 'failed') as { id: string };
    expect((await check(api)).inFlight).toEqual([`redemption ${failed.id} (failed): the sweeper is recorded to finish it`]);

    // The defect: the sweep that would undo it is lost, so nothing ever gives the unit (or the points) back.
    await api.db.collection('due_work').deleteOne({ _id: `benefits.redemption|${failed.id}` } as never);
    const report = await check(api);
    expect(report.inFlight).toEqual([]);
    expect(report.violations).toEqual([
      `redemption ${failed.id} (mug, failed): holds 1 unit of stock, failed (all given back) means 0`,
      expect.stringMatching(new RegExp(`^redemption ${escape(failed.id)} \\(mug, failed\\): failed, yet its hold \\S+ of 100 points was never released$`)),
      'stock mug: taken 2 − returned 0 = 2, but redemptions hold 1',
    ]);
  });

  it('when a request dies after issuing, then the redemption is in flight until the sweeper captures it; if its sweep is lost, the uncaptured hold is named', async () => {
    const faults = new ArmedFaults();
    const api = await app(faults);
    await define(api, 'mug', { costPoints: 100, stock: 5 });
    const fay = await member(api, 'chk-fay', 500);
    const gus = await member(api, 'chk-gus', 500);
    faults.arm('redemption:after-end');
    expect((await redeem(api, fay, 'mug')).status).toBe(500);
    const swept = (await listOf(api, fay))[0] as { id: string; status: string };
    expect(swept.status).toBe('issued');

    let report = await check(api);
    expect(report.violations).toEqual([]);
    expect(report.inFlight).toEqual([`redemption ${swept.id} (issued): the sweeper is recorded to finish it`]);
    api.clock.advance({ minutes: 2 });
    await api.built.sweep();
    report = (await expectLedgerClean([api])).benefits;
    expect(report.inFlight).toEqual([]);

    faults.arm('redemption:after-end');
    expect((await redeem(api, gus, 'mug')).status).toBe(500);
    const lost = (await listOf(api, gus))[0] as { id: string };
    // The defect: the sweep that would capture its hold is gone (the due record lost), and its lease is long over.
    await api.db.collection('due_work').deleteOne({ _id: `benefits.redemption|${lost.id}` } as never);
    api.clock.advance({ minutes: 2 });
    report = await check(api);
    expect(report.inFlight).toEqual([]);
    expect(report.violations).toHaveLength(1);
    expect(report.violations[0]).toMatch(new RegExp(`^redemption ${escape(lost.id)} \\(mug, issued\\): issued, but its hold \\S+ was never captured$`));
  });
});

/**
 * A defect of the saga the check found: a redemption that issued its voucher but whose request died before capturing,
 * swept only after the hold's 24 h, had its hold timed out under the capture's op id; the capture answered 409
 * HOLD_NOT_ACTIVE, the sweep ignored it and the member kept the points. Now the points are taken by a spend of their
 * own, or, if the member no longer has them, the voucher is voided with its stock given back.
 */
describe('an issued redemption whose hold timed out before its capture', () => {
  it('when an issued redemption is swept only after its hold timed out, then its points are still paid and the check is clean', async () => {
    const faults = new ArmedFaults();
    const api = await app(faults);
    await define(api, 'mug', { costPoints: 100, stock: 5 });
    const hal = await member(api, 'chk-hal', 500);
    faults.arm('redemption:after-end');
    expect((await redeem(api, hal, 'mug')).status).toBe(500);
    api.clock.advance({ hours: 25 });
    await api.built.sweep();
    await api.built.flush();

    const [redemption] = await listOf(api, hal);
    expect(redemption).toMatchObject({ status: 'issued', pointsSpent: 100 });
    const balance = await api.request('GET', `/v1/members/${hal}/points`, { token: service });
    expect(balance.body).toMatchObject({ available: 400, held: 0 });
    expect((await check(api)).violations).toEqual([]);
  });

  it('when the member spent the points the time-out gave back, then the voucher is voided, its stock returned, and the check is clean', async () => {
    const faults = new ArmedFaults();
    const api = await app(faults);
    await define(api, 'cup', { costPoints: 100, stock: 5 });
    const ivy = await member(api, 'chk-ivy', 150);
    faults.arm('redemption:after-end');
    expect((await redeem(api, ivy, 'cup')).status).toBe(500);
    api.clock.advance({ hours: 25 });
    // The spend first times the hold out (the points come back), then spends them before the saga's sweep pays.
    const spent = await api.request('POST', `/v1/members/${ivy}/points/spend`, { token: service, body: { amount: 150, code: 'order' }, headers: { 'Idempotency-Key': 'ivy-spend' } });
    expect(spent.status, spent.text).toBe(201);
    await api.built.sweep();
    await api.built.flush();

    const [redemption] = await listOf(api, ivy);
    expect(redemption).toMatchObject({ status: 'cancelled', pointsSpent: 0 });
    const balance = await api.request('GET', `/v1/members/${ivy}/points`, { token: service });
    expect(balance.body).toMatchObject({ available: 0, held: 0 });
    expect(await api.built.services.stock.levels('cup')).toMatchObject({ left: 5 });
    expect((await check(api)).violations).toEqual([]);
  });
});
