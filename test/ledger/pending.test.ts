import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { expectError, issuePaths } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, points, registerMember } from '../helpers/ledger.js';

/**
 * Pending points through the API (PRODUCT.md §4): an earn with `availableAt` is in the balance as `pending`, is not
 * spendable until then, becomes spendable by time alone, never expires before it is available, and is reversed cleanly.
 * Points expire 30 days after they become available, at the end of that day (program time zone: UTC).
 */
let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ env: { POINTS_EXPIRY: 'rolling:30:day-end' } });
});
afterAll(async () => {
  await api?.close();
});

const START = '2026-03-01T08:00:00.000Z';
const IN_14_DAYS = '2026-03-15T08:00:00.000Z';
const in14DaysExpiry = '2026-04-14T23:59:59.999Z'; // 30 days after availability, day-end

/** A member with 40 available points and 100 pending until 14 days from now. */
async function memberWithPending(memberId: string) {
  api.clock.set(START);
  await registerMember(api, memberId);
  await earned(api, memberId, 40);
  return earned(api, memberId, 100, { availableAt: IN_14_DAYS });
}

describe('pending points', () => {
  it('when an earn carries availableAt, then the balance, the member views and the entry show it pending, and its expiry counts from availability', async () => {
    const res = await memberWithPending('shown');
    expect(res.body.entry).toMatchObject({ kind: 'earn', amount: 100, availableAt: IN_14_DAYS, expiresAt: in14DaysExpiry });
    expect(res.body.entry.balanceAfter).toEqual({ available: 40, held: 0, pending: 100 });
    const balance = await balanceOf(api, 'shown');
    expect(balance).toMatchObject({
      available: 40,
      held: 0,
      pending: 100,
      becomingAvailable: [{ availableAt: IN_14_DAYS, points: 100 }],
      expiring: [
        { expiresAt: '2026-03-31T23:59:59.999Z', points: 40 },
        { expiresAt: in14DaysExpiry, points: 100 },
      ],
    });
    const member = tokenFor('member', 'shown');
    const mine = await api.request('GET', '/v1/me/points', { token: member });
    expect(mine.body).toEqual(balance);
    const me = await api.request('GET', '/v1/me', { token: member });
    expect(me.body.summary.points).toEqual({ available: 40, held: 0, pending: 100, nextAvailableAt: IN_14_DAYS, expiringIn30Days: 0 });
    await expectLedgerClean([api]);
  });

  it('when only pending points would cover a spend or a hold, then both are refused, and once availableAt passes they land with no entry in between', async () => {
    await memberWithPending('waits');
    const spend = await points.spend(api, 'waits', { amount: 41, code: 'redemption' });
    expectError(spend, 409, 'INSUFFICIENT_POINTS');
    expect(spend.body.error.details).toMatchObject({ available: 40, pending: 100, requested: 41 });
    expectError(await points.hold(api, 'waits', { amount: 41, code: 'redemption' }), 409, 'INSUFFICIENT_POINTS');

    api.clock.set('2026-03-15T07:59:59.999Z');
    expectError(await points.spend(api, 'waits', { amount: 41, code: 'redemption' }), 409, 'INSUFFICIENT_POINTS');
    api.clock.set(IN_14_DAYS);
    expect(await balanceOf(api, 'waits')).toMatchObject({ available: 140, pending: 0, becomingAvailable: [], seq: 2 });
    const hold = await points.hold(api, 'waits', { amount: 120, code: 'redemption' });
    expect(hold.status, hold.text).toBe(201);
    expect(hold.body.entry.seq).toBe(3);
    const spent = await points.spend(api, 'waits', { amount: 20, code: 'redemption' });
    expect(spent.status, spent.text).toBe(201);
    expect(spent.body.balance).toMatchObject({ available: 0, held: 120, pending: 0 });
    await expectLedgerClean([api]);
  });

  it('when the sweep runs past where the points would have expired had they counted from the earn, then pending points are untouched and expire only after their own time', async () => {
    api.clock.set(START);
    await registerMember(api, 'late-expiry');
    const earn = await earned(api, 'late-expiry', 100, { availableAt: '2026-04-20T00:00:00.000Z' });
    expect(earn.body.entry.expiresAt).toBe('2026-05-20T23:59:59.999Z');
    api.clock.set('2026-04-10T00:00:00Z'); // past 30 days after the earn, still pending
    await api.built.services.ledger.sweep();
    expect(await balanceOf(api, 'late-expiry')).toMatchObject({ available: 0, pending: 100, seq: 1, lifetime: { expired: 0 } });
    api.clock.set('2026-05-21T00:00:00Z');
    await api.built.services.ledger.sweep();
    expect(await balanceOf(api, 'late-expiry')).toMatchObject({ available: 0, pending: 0, lifetime: { expired: 100 } });
    await expectLedgerClean([api]);
  });

  it('when a pending earn is reversed in part and then in full, then its pending points go back exactly and the available balance never moves', async () => {
    const res = await memberWithPending('reversed');
    const entryId = res.body.entry.id;
    const part = await points.reverse(api, entryId, { amount: 30, code: 'order_refund' });
    expect(part.status, part.text).toBe(201);
    expect(part.body.balance).toMatchObject({ available: 40, pending: 70, debt: 0, becomingAvailable: [{ availableAt: IN_14_DAYS, points: 70 }] });
    expectError(await points.reverse(api, entryId, { amount: 71, code: 'order_refund' }), 409, 'REVERSAL_EXCEEDS_ENTRY');
    const rest = await points.reverse(api, entryId, { code: 'order_refund' });
    expect(rest.status, rest.text).toBe(201);
    expect(rest.body.entry.amount).toBe(-70);
    expect(rest.body.balance).toMatchObject({ available: 40, pending: 0, debt: 0, becomingAvailable: [], lifetime: { earned: 140, reversed: 100 } });
    api.clock.set('2026-03-20T00:00:00Z');
    expect(await balanceOf(api, 'reversed')).toMatchObject({ available: 40, pending: 0 });
    expect((await historyOf(api, 'reversed')).map((e) => [e.kind, e.amount])).toEqual([['reverse', -70], ['reverse', -30], ['earn', 100], ['earn', 40]]);
    await expectLedgerClean([api]);
  });

  it('when availableAt is hostile, then the earn is refused with 400 naming it, and nothing lands', async () => {
    api.clock.set(START);
    await registerMember(api, 'hostile');
    for (const availableAt of [START, '2026-02-28T08:00:00.000Z', '2027-03-03T08:00:00.001Z', 'tomorrow', '', 1_773_000_000_000, null, '2026-02-30T00:00:00Z', '2026-03-05T00:00:00+08:00', '+275760-09-13T00:00:00.000Z', { $gt: '' }]) {
      const res = await points.earn(api, 'hostile', { amount: 10, code: 'order', availableAt });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res), JSON.stringify(availableAt)).toEqual(['body.availableAt']);
    }
    const early = await points.earn(api, 'hostile', { amount: 10, code: 'order', availableAt: IN_14_DAYS, expiresAt: '2026-03-15T08:00:00.000Z' });
    expectError(early, 400, 'VALIDATION_FAILED');
    expect(issuePaths(early)).toEqual(['body.expiresAt']);
    expect(await balanceOf(api, 'hostile')).toMatchObject({ available: 0, pending: 0, seq: 0 });
    const yearAhead = await points.earn(api, 'hostile', { amount: 10, code: 'order', availableAt: '2027-03-02T08:00:00.000Z' });
    expect(yearAhead.status, yearAhead.text).toBe(201);
  });

  it('when the service earns with an availability already passed, then the points are available at once', async () => {
    api.clock.set(START);
    await registerMember(api, 'passed');
    const { entry } = await api.built.services.ledger.earnPoints(
      'passed',
      { amount: 25, code: 'order', availableAt: new Date('2026-02-20T00:00:00Z') },
      { opId: 'pending-test:passed', actor: { role: 'service', sub: 'test' } },
    );
    expect(entry.availableAt).toBeUndefined();
    expect(await balanceOf(api, 'passed')).toMatchObject({ available: 25, pending: 0 });
    await expect(
      api.built.services.ledger.earnPoints('passed', { amount: 1, code: 'order', availableAt: new Date('2027-03-03T08:00:00Z') }, { opId: 'pending-test:far', actor: { role: 'service', sub: 'test' } }),
    ).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});
