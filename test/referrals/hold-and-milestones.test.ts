import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmedFaults } from '../../src/platform/faults.js';
import { ops, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { expectLedgerClean, historyOf } from '../helpers/ledger.js';
import { available, pending, basicProgram, codeOf, decide, invite, myReferral, order, putProgram, referralEffect, referralOf, refund, register } from './helpers.js';

const faults = new ArmedFaults();
let api: TestApp;
beforeAll(async () => {
  api = await startTestApp({ faults });
});
afterAll(async () => {
  await api.close();
});

let n = 0;
async function pair(prefix: string): Promise<{ ref: string; inv: string }> {
  const ref = `${prefix}-ref-${++n}`;
  const inv = `${prefix}-inv-${n}`;
  await register(api, ref);
  await invite(api, await codeOf(api, ref), inv);
  return { ref, inv };
}
const balances = async (p: { ref: string; inv: string }) => [await available(api, p.ref), await available(api, p.inv)];
const pendings = async (p: { ref: string; inv: string }) => [await pending(api, p.ref), await pending(api, p.inv)];

describe('the hold period', () => {
  it('when the qualifying order is refunded inside holdDays, then both rewards are taken back once, however many refunds follow', async () => {
    await putProgram(api, basicProgram({ holdDays: 7, qualifying: { minAmount: 100 } }));
    const p = await pair('rev');
    const paid = referralEffect(await order(api, p.inv, 'SO-rev', 200));
    expect(paid).toMatchObject({ state: 'rewarded', rewards: { availableAt: new Date(api.clock.now().getTime() + 7 * 86_400_000).toISOString() } });
    // Inside the hold period the rewards are pending: shown, not spendable.
    expect(await pendings(p)).toEqual([100, 50]);
    expect(await balances(p)).toEqual([0, 0]);
    const spend = await api.request('POST', `/v1/members/${p.ref}/points/spend`, { token: tokenFor('service', 'orders'), body: { amount: 10, code: 'order' }, headers: { 'Idempotency-Key': `spend-${p.ref}` } });
    expectError(spend, 409, 'INSUFFICIENT_POINTS');
    api.clock.advance({ days: 6, hours: 23 });
    expect(await pendings(p)).toEqual([100, 50]);
    const reversed = referralEffect(await refund(api, p.inv, 'SO-rev', 200));
    expect(reversed).toMatchObject({ outcome: 'reversed', state: 'reversed', reason: null, rewards: { referrer: { points: 100 }, invitee: { points: 50 } } });
    expect(await balances(p)).toEqual([0, 0]);
    expect(await pendings(p)).toEqual([0, 0]);
    expect(referralEffect(await refund(api, p.inv, 'SO-rev', 200)).outcome).toBe('reversed');
    expect(await balances(p)).toEqual([0, 0]);
    const reversals = (await historyOf(api, p.ref)).filter((e) => e.kind === 'reverse');
    expect(reversals.map((e) => e.amount)).toEqual([-100]);
    expect((await referralOf(api, p.inv)).state).toBe('reversed');
    api.clock.advance({ days: 1 });
    await api.built.sweep();
    expect((await referralOf(api, p.inv)).state).toBe('reversed');
    expect((await myReferral(api, p.ref)).rewards).toEqual({ points: 0, count: 0 });
  });

  it('when the order is refunded after holdDays, then the rewards are kept, whether or not the sweep settled them first', async () => {
    const unswept = await pair('kept');
    const swept = await pair('kept');
    await order(api, unswept.inv, 'SO-k1', 150);
    await order(api, swept.inv, 'SO-k2', 150);
    api.clock.advance({ days: 7 });
    await api.built.sweep();
    expect((await myReferral(api, swept.ref)).rewards).toEqual({ points: 100, count: 1 });
    expect(referralEffect(await refund(api, swept.inv, 'SO-k2', 150))).toMatchObject({ outcome: 'kept', state: 'rewarded', reason: 'the hold period was over before the refund' });
    expect(referralEffect(await refund(api, unswept.inv, 'SO-k1', 150))).toMatchObject({ outcome: 'kept', state: 'rewarded' });
    expect([...(await balances(unswept)), ...(await balances(swept))]).toEqual([100, 50, 100, 50]);
  });

  it('when a partial refund leaves the order at the minimum, then the referral stands; the refund that takes it below reverses it', async () => {
    const p = await pair('part');
    await order(api, p.inv, 'SO-part', 300);
    expect(referralEffect(await refund(api, p.inv, 'SO-part', 200))).toMatchObject({ outcome: 'kept', state: 'rewarded', reason: 'the order still reaches the minimum after this refund' });
    expect(referralEffect(await refund(api, p.inv, 'SO-part', 1))).toMatchObject({ outcome: 'reversed', state: 'reversed' });
    expect(await balances(p)).toEqual([0, 0]);
    expect(referralEffect(await refund(api, p.inv, 'SO-other', 10))).toBeUndefined();
  });

  it('when a refund arrives while a side cannot be paid (its member frozen since the routing), then the referral is reversed and nothing is paid later', async () => {
    const p = await pair('blocked');
    faults.arm('referral:after-routed');
    expect((await order(api, p.inv, 'SO-blocked', 100)).status).toBe(500);
    expect((await api.request('PATCH', `/v1/members/${p.ref}`, { token: ops, body: { status: 'frozen' } })).status).toBe(200);
    expect(referralEffect(await refund(api, p.inv, 'SO-blocked', 100))).toMatchObject({ outcome: 'reversed', state: 'reversed', rewards: null });
    await api.request('PATCH', `/v1/members/${p.ref}`, { token: ops, body: { status: 'active' } });
    api.clock.advance({ minutes: 2 });
    await api.built.sweep();
    expect(await balances(p)).toEqual([0, 0]);
    expect((await referralOf(api, p.inv)).state).toBe('reversed');
  });

  it('when the qualifying order is refunded while the referral waits for review, then it is rejected, and ops can no longer approve it', async () => {
    await putProgram(api, basicProgram({ holdDays: 7, qualifying: { minAmount: 100 }, monthlyCap: 1 }));
    const ref = 'rv-ref';
    await register(api, ref);
    const code = await codeOf(api, ref);
    await invite(api, code, 'rv-a');
    await invite(api, code, 'rv-b');
    await order(api, 'rv-a', 'SO-rva', 100);
    expect(referralEffect(await order(api, 'rv-b', 'SO-rvb', 100)).state).toBe('review');
    expect(referralEffect(await refund(api, 'rv-b', 'SO-rvb', 100))).toMatchObject({ outcome: 'rejected', state: 'rejected' });
    expectError(await decide(api, 'rv-b', 'approve'), 409, 'REFERRAL_ALREADY_DECIDED');
    expect((await referralOf(api, 'rv-b')).decision).toMatchObject({ outcome: 'rejected', by: 'system' });
    expect(await available(api, 'rv-b')).toBe(0);
    await putProgram(api, basicProgram({ holdDays: 7, qualifying: { minAmount: 100 } }));
  });

  it('when a side is rewarded with a benefit, then it gets the voucher once, and a refund inside holdDays cancels it', async () => {
    const benefit = { name: 'Welcome tea', kind: 'coupon', costPoints: 300, stock: 5, active: true };
    expect((await api.request('PUT', '/v1/admin/benefits/welcome-tea', { token: ops, body: benefit })).status).toBe(201);
    await putProgram(api, basicProgram({ holdDays: 7, rewards: { referrer: { points: 100 }, invitee: { benefitCode: 'welcome-tea' } } }));
    const p = await pair('gift');
    const eff = referralEffect(await order(api, p.inv, 'SO-gift', 100));
    expect(eff.rewards).toMatchObject({ referrer: { points: 100, benefitCode: null }, invitee: { points: 0, benefitCode: 'welcome-tea' } });
    await api.built.sweep();
    const vouchers = async () => (await api.request('GET', '/v1/me/redemptions', { token: tokenFor('member', p.inv) })).body.items;
    expect(await vouchers()).toMatchObject([{ benefitCode: 'welcome-tea', status: 'issued', pointsSpent: 0 }]);
    expect(referralEffect(await refund(api, p.inv, 'SO-gift', 100)).outcome).toBe('reversed');
    expect(await vouchers()).toMatchObject([{ benefitCode: 'welcome-tea', status: 'cancelled' }]);
    expect(await balances(p)).toEqual([0, 0]);
  });
});

describe('milestones', () => {
  it('when ten invitees of one referrer qualify at once, then the milestones at 5 and 10 pay once each', async () => {
    await putProgram(api, basicProgram({ rewards: { referrer: { points: 10 }, invitee: { points: 5 } }, milestones: [{ count: 5, points: 500 }, { count: 10, points: 1000 }] }));
    await register(api, 'ms-ref');
    const code = await codeOf(api, 'ms-ref');
    const invitees = Array.from({ length: 10 }, (_, i) => `ms-inv-${i}`);
    for (const m of invitees) await invite(api, code, m);
    const effects = (await Promise.all(invitees.map((m) => order(api, m, `SO-${m}`, 100)))).map(referralEffect);
    expect(effects.every((e) => e.state === 'rewarded')).toBe(true);
    expect(effects.flatMap((e) => e.milestones).sort((x, y) => x.count - y.count)).toEqual([{ count: 5, points: 500 }, { count: 10, points: 1000 }]);
    expect(await available(api, 'ms-ref')).toBe(10 * 10 + 500 + 1000);
    expect((await myReferral(api, 'ms-ref')).rewards).toEqual({ points: 1600, count: 10 });
    await api.built.sweep();
    expect(await available(api, 'ms-ref')).toBe(1600);
  });

  it('when rewards are held, then an invite counts towards milestones only once kept, and a crash while counting is finished by the sweep', async () => {
    await putProgram(api, basicProgram({ holdDays: 2, milestones: [{ count: 1, points: 70 }] }));
    const p = await pair('msh');
    expect(referralEffect(await order(api, p.inv, 'SO-msh', 100)).milestones).toEqual([]);
    expect(await available(api, p.ref)).toBe(0);
    expect(await pending(api, p.ref)).toBe(100);
    api.clock.advance({ days: 2 });
    await api.built.flush(); // the qualifying request's own due record is gone, so only the settlement meets the crash
    faults.arm('referral:after-settled');
    await api.built.sweep();
    expect(await available(api, p.ref)).toBe(100);
    await api.built.sweep();
    expect(await available(api, p.ref)).toBe(170);
    expect((await myReferral(api, p.ref)).rewards).toEqual({ points: 170, count: 1 });
    await api.built.sweep();
    expect(await available(api, p.ref)).toBe(170);
    await expectLedgerClean([api]);
  });
});
