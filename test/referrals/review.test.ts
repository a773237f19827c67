import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, startTestApp, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { expectLedgerClean } from '../helpers/ledger.js';
import { available, basicProgram, bind, codeOf, decide, invite, order, putProgram, referralEffect, referralOf, register } from './helpers.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
});
afterAll(async () => {
  await api.close();
});

/** Registers a referrer and answers its code. */
async function referrer(memberId: string, extra: Record<string, unknown> = {}): Promise<string> {
  await register(api, memberId, extra);
  return codeOf(api, memberId);
}

describe('fraud guards put a referral in review instead of paying', () => {
  it('when two invitees of one referrer come from one device, then the second waits for review with device_reuse', async () => {
    await putProgram(api, basicProgram());
    const code = await referrer('dev-ref');
    await invite(api, code, 'dev-1', { device: { id: 'phone-A' } });
    await invite(api, code, 'dev-2', { device: { id: 'phone-A' } });
    await invite(api, code, 'dev-3', { device: { id: 'phone-B' } });
    expect(referralEffect(await order(api, 'dev-1', 'SO-d1', 100))).toMatchObject({ outcome: 'qualified', state: 'rewarded', reviewReasons: [] });
    const flagged = referralEffect(await order(api, 'dev-2', 'SO-d2', 100));
    expect(flagged).toMatchObject({ outcome: 'qualified', state: 'review', reviewReasons: ['device_reuse'], rewards: null });
    expect(referralEffect(await order(api, 'dev-3', 'SO-d3', 100)).state).toBe('rewarded');
    expect(await referralOf(api, 'dev-2')).toMatchObject({ state: 'review', reviewReasons: ['device_reuse'], rewards: null });
    expect([await available(api, 'dev-ref'), await available(api, 'dev-1'), await available(api, 'dev-2')]).toEqual([200, 50, 0]);
  });

  it('when more binds than allowed come from one IP in a day, then the extra ones wait for review with ip_burst; the next day is a new count', async () => {
    await putProgram(api, basicProgram({ fraud: { maxBindsPerIpPerDay: 2 } }));
    const codes = [await referrer('ip-ref1'), await referrer('ip-ref2')];
    for (const i of [1, 2, 3]) await invite(api, codes[i % 2]!, `ip-${i}`, { device: { ip: '198.51.100.7' } });
    api.clock.advance({ days: 1 });
    await invite(api, codes[0]!, 'ip-4', { device: { ip: '198.51.100.7' } });
    const states = [];
    for (const i of [1, 2, 3, 4]) states.push(referralEffect(await order(api, `ip-${i}`, `SO-ip${i}`, 100)));
    expect(states.map((e) => [e.state, e.reviewReasons])).toEqual([['rewarded', []], ['rewarded', []], ['review', ['ip_burst']], ['rewarded', []]]);
  });

  it('when the invitee binds from the device its referrer registered with, then it waits for review with shared_device', async () => {
    await putProgram(api, basicProgram());
    const code = await referrer('sd-ref', { device: { id: 'family-tablet', ip: '192.0.2.10' } });
    await register(api, 'sd-inv', { device: { id: 'own-phone' } });
    expect((await bind(api, 'sd-inv', code, { id: 'family-tablet' })).status).toBe(201);
    expect(referralEffect(await order(api, 'sd-inv', 'SO-sd', 100))).toMatchObject({ state: 'review', reviewReasons: ['shared_device'] });
  });

  it('when a referrer’s rewarded invites reach the monthly cap, then the next one waits for review with monthly_cap', async () => {
    await putProgram(api, basicProgram({ monthlyCap: 1 }));
    const code = await referrer('cap-ref');
    await invite(api, code, 'cap-1');
    await invite(api, code, 'cap-2');
    expect(referralEffect(await order(api, 'cap-1', 'SO-cap1', 100)).state).toBe('rewarded');
    expect(referralEffect(await order(api, 'cap-2', 'SO-cap2', 100))).toMatchObject({ state: 'review', reviewReasons: ['monthly_cap'] });
    expect(await available(api, 'cap-ref')).toBe(100);
  });

  it('when the cap is full late on the last day of a month in the program’s zone, then an order minutes later, in the next month there, pays again', async () => {
    await putProgram(api, basicProgram({ monthlyCap: 1 }));
    api.clock.set('2026-04-30T10:00:00Z');
    const code = await referrer('mb-ref');
    for (const m of ['mb-1', 'mb-2', 'mb-3']) await invite(api, code, m);
    api.clock.set('2026-04-30T15:30:00Z'); // 23:30 on 30 April in Shanghai
    expect(referralEffect(await order(api, 'mb-1', 'SO-mb1', 100)).state).toBe('rewarded');
    api.clock.set('2026-04-30T15:55:00Z'); // 23:55, still April there
    expect(referralEffect(await order(api, 'mb-2', 'SO-mb2', 100))).toMatchObject({ state: 'review', reviewReasons: ['monthly_cap'] });
    api.clock.set('2026-04-30T16:05:00Z'); // 00:05 on 1 May there, still April in UTC
    expect(referralEffect(await order(api, 'mb-3', 'SO-mb3', 100))).toMatchObject({ state: 'rewarded', reviewReasons: [] });
    expect(await available(api, 'mb-ref')).toBe(200);
  });
});

describe('ops decide, once', () => {
  /** A referral in review (over a cap of 1), answering its invitee. */
  async function inReview(prefix: string): Promise<{ ref: string; inv: string }> {
    await putProgram(api, basicProgram({ monthlyCap: 1 }));
    const ref = `${prefix}-ref`;
    const code = await referrer(ref);
    await invite(api, code, `${prefix}-first`);
    await invite(api, code, `${prefix}-inv`);
    await order(api, `${prefix}-first`, `SO-${prefix}-1`, 100);
    expect(referralEffect(await order(api, `${prefix}-inv`, `SO-${prefix}-2`, 100)).state).toBe('review');
    return { ref, inv: `${prefix}-inv` };
  }

  it('when ops list the review queue, then it holds the referrals in review with their reasons, page by page', async () => {
    const res = await api.request('GET', '/v1/admin/referrals?state=review&limit=2', { token: ops });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items.every((i: { state: string; reviewReasons: string[] }) => i.state === 'review' && i.reviewReasons.length > 0)).toBe(true);
    const rest = await api.request('GET', `/v1/admin/referrals?state=review&limit=100&cursor=${res.body.nextCursor}`, { token: ops });
    const all = [...res.body.items, ...rest.body.items].map((i: { invitee: string }) => i.invitee).sort();
    expect(all).toEqual(['cap-2', 'dev-2', 'ip-3', 'mb-2', 'sd-inv']);
    expect(rest.body.nextCursor).toBeNull();
    const mine = await api.request('GET', '/v1/admin/referrals?referrer=dev-ref', { token: ops });
    expect(mine.body.items.map((i: { invitee: string; state: string }) => [i.invitee, i.state])).toEqual([['dev-3', 'rewarded'], ['dev-2', 'review'], ['dev-1', 'rewarded']]);
  });

  it('when ops approve, then both sides are paid once, the decision is audited, a repeat answers it and a rejection is refused', async () => {
    const { ref, inv } = await inReview('ok');
    const approved = await decide(api, inv, 'approve', 'known customer');
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body.referral).toMatchObject({ state: 'rewarded', decision: { outcome: 'approved', note: 'known customer', by: 'ops:ops-1' }, rewards: { referrer: { points: 100 }, invitee: { points: 50 } } });
    expect((await decide(api, inv, 'approve')).status).toBe(200);
    expectError(await decide(api, inv, 'reject'), 409, 'REFERRAL_ALREADY_DECIDED');
    expect([await available(api, ref), await available(api, inv)]).toEqual([200, 50]);
    const audit = await api.request('GET', `/v1/admin/audit?targetId=${inv}`, { token: ops });
    expect(audit.body.items.map((i: { action: string }) => i.action)).toEqual(['referral.approve']);
  });

  it('when ops reject, then nothing is paid and the referral stays rejected', async () => {
    const { ref, inv } = await inReview('no');
    const rejected = await decide(api, inv, 'reject', 'same household');
    expect(rejected.body.referral).toMatchObject({ state: 'rejected', decision: { outcome: 'rejected', note: 'same household' }, rewards: null });
    expectError(await decide(api, inv, 'approve'), 409, 'REFERRAL_ALREADY_DECIDED');
    expect([await available(api, ref), await available(api, inv)]).toEqual([100, 0]);
  });

  it('when approvals and rejections race, then exactly one outcome lands and pays accordingly', async () => {
    for (const round of [1, 2, 3]) {
      const { ref, inv } = await inReview(`race${round}`);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => decide(api, inv, i % 2 ? 'approve' : 'reject')));
      const outcome = (await referralOf(api, inv)).decision.outcome as 'approved' | 'rejected';
      const verb = outcome === 'approved' ? 'approve' : 'reject';
      results.forEach((res, i) => {
        if ((i % 2 ? 'approve' : 'reject') === verb) expect(res.status, res.text).toBe(200);
        else expectError(res, 409, 'REFERRAL_ALREADY_DECIDED');
      });
      const paid = outcome === 'approved';
      expect([await available(api, ref), await available(api, inv)]).toEqual([paid ? 200 : 100, paid ? 50 : 0]);
    }
    await expectLedgerClean([api]);
  });

  it('when a referral is not in review or does not exist, then approving it is refused', async () => {
    expectError(await decide(api, 'dev-1', 'approve'), 409, 'REFERRAL_NOT_IN_REVIEW');
    expectError(await decide(api, 'nobody-here', 'approve'), 404, 'NOT_FOUND');
  });
});
