import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ops, service, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { expectError, issuePaths } from '../helpers/expect.js';
import { basicProgram, bind, codeOf, invite, myReferral, order, putProgram, register } from './helpers.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp({ env: { REFERRAL_BASE_URL: 'https://shop.example/i/' } });
});
afterAll(async () => {
  await api.close();
});

const CODE = /^[A-HJKMNP-Z2-9]{8}$/;

describe('the referral program', () => {
  it('when no program was saved, then it reads as version 0, inactive, and nobody can bind', async () => {
    const res = await api.request('GET', '/v1/admin/referral-program', { token: ops });
    expect(res.status).toBe(200);
    expect(res.body.program).toMatchObject({ version: 0, active: false, updatedAt: null, qualifying: { eventType: 'order.paid' } });
    await register(api, 'p-ref');
    await register(api, 'p-inv');
    expectError(await bind(api, 'p-inv', await codeOf(api, 'p-ref')), 409, 'REFERRAL_PROGRAM_INACTIVE');
  });

  it('when ops save the program twice, then each save is the next version with the defaults filled in, and both are audited', async () => {
    const first = await putProgram(api, basicProgram({ monthlyCap: 5, milestones: [{ count: 5, points: 500 }] }));
    expect(first).toMatchObject({
      version: 1, active: true, holdDays: 0, monthlyCap: 5,
      qualifying: { eventType: 'order.paid', minAmount: 0, withinDays: 30 },
      fraud: { maxInviteesPerDevice: 1, maxBindsPerIpPerDay: 3 },
      rewards: { referrer: { points: 100 }, invitee: { points: 50 } },
    });
    const second = await putProgram(api, basicProgram({ qualifying: { minAmount: 100 } }));
    expect(second.version).toBe(2);
    expect(second.qualifying).toEqual({ eventType: 'order.paid', minAmount: 100, withinDays: 30 });
    expect((await api.request('GET', '/v1/admin/referral-program', { token: ops })).body.program.version).toBe(2);
    const audit = await api.request('GET', '/v1/admin/audit?action=referral-program.update', { token: ops });
    expect(audit.body.items.map((i: { target: { id: string } }) => i.target.id).sort()).toEqual(['1', '2']);
    expect(audit.body.items[0].before.version).toBe(1);
  });

  it('when a program body is hostile or malformed, then it is 400 naming each path, and no version is added', async () => {
    const paths = async (body: unknown) => {
      const res = await api.request('PUT', '/v1/admin/referral-program', { token: ops, body });
      expectError(res, 400, 'VALIDATION_FAILED');
      return issuePaths(res);
    };
    expect(await paths({ rewards: {} })).toContain('body.rewards');
    expect(await paths(basicProgram({ rewards: { referrer: { points: 1.5 } } }))).toContain('body.rewards.referrer.points');
    expect(await paths(basicProgram({ rewards: { referrer: { points: '100' } } }))).toContain('body.rewards.referrer.points');
    expect(await paths(basicProgram({ rewards: { referrer: { points: { $gt: 0 } } } }))).toContain('body.rewards.referrer.points');
    expect(await paths(basicProgram({ rewards: { referrer: { points: -5 } } }))).toContain('body.rewards.referrer.points');
    expect(await paths(basicProgram({ holdDays: -1 }))).toContain('body.holdDays');
    expect(await paths(basicProgram({ monthlyCap: 0 }))).toContain('body.monthlyCap');
    expect(await paths(basicProgram({ milestones: [{ count: 5, points: 1 }, { count: 5, points: 2 }] }))).toContain('body.milestones');
    expect(await paths(basicProgram({ qualifying: { eventType: 'Order Paid' } }))).toContain('body.qualifying.eventType');
    expect(await paths(basicProgram({ fraud: { maxInviteesPerDevice: 0, sneaky: true } }))).toEqual(expect.arrayContaining(['body.fraud.maxInviteesPerDevice', 'body.fraud']));
    expect(await paths(basicProgram({ isAdmin: true }))).toEqual(['body']);
    expect(await paths(basicProgram({ rewards: { invitee: { benefitCode: 'no-such-benefit' } } }))).toEqual(['body.rewards.invitee.benefitCode']);
    expect(await paths('[]')).toEqual(['body']);
    expectError(await api.request('PUT', '/v1/admin/referral-program', { token: tokenFor('member', 'p-ref'), body: basicProgram() }), 403, 'FORBIDDEN');
    expect((await api.request('GET', '/v1/admin/referral-program', { token: ops })).body.program.version).toBe(2);
  });
});

describe('codes and the member’s page', () => {
  it('when a member asks for its page ten times at once, then one code is created, unambiguous, and everyone sees it', async () => {
    await register(api, 'c-racer');
    const pages = await Promise.all(Array.from({ length: 10 }, () => api.request('GET', '/v1/me/referral', { token: tokenFor('member', 'c-racer') })));
    const codes = new Set(pages.map((p) => p.body.code));
    expect(codes.size).toBe(1);
    const [code] = [...codes] as [string];
    expect(code).toMatch(CODE);
    expect(pages[0]?.body).toMatchObject({ shareLink: `https://shop.example/i/${code}`, invitedCount: 0, invitees: [], rewards: { points: 0, count: 0 }, referredBy: null });
    expect(await codeOf(api, 'c-racer')).toBe(code);
    const summary = await api.request('GET', '/v1/me', { token: tokenFor('member', 'c-racer') });
    expect(summary.body.summary.referral).toEqual({ code, invitedCount: 0 });
  });

  it('when a member has invitees, then its page masks their names and the backend sees ids and names', async () => {
    await register(api, 'm-ref', { displayName: 'Robin' });
    const code = await codeOf(api, 'm-ref');
    await invite(api, code.toLowerCase(), 'm-alice', { displayName: 'Alice' });
    await invite(api, code, 'm-zhang', { displayName: '张三' });
    await invite(api, code, 'm-noname');
    const page = await myReferral(api, 'm-ref');
    expect(page.invitedCount).toBe(3);
    expect(page.invitees).toEqual([
      { name: 'm-***', state: 'bound', boundAt: expect.any(String) },
      { name: '张***', state: 'bound', boundAt: expect.any(String) },
      { name: 'Al***', state: 'bound', boundAt: expect.any(String) },
    ]);
    expect(JSON.stringify(page)).not.toMatch(/Alice|张三|m-alice|m-noname/);
    const first = await myReferral(api, 'm-ref', '?limit=2');
    expect(first.invitees).toHaveLength(2);
    const rest = await myReferral(api, 'm-ref', `?limit=2&cursor=${first.nextCursor}`);
    expect(rest.invitees.map((i: { name: string }) => i.name)).toEqual(['Al***']);
    expect(rest.nextCursor).toBeNull();

    const staff = await api.request('GET', '/v1/members/m-ref/referral', { token: service });
    expect(staff.status).toBe(200);
    expect(staff.body.invitees.map((i: { memberId: string; name: string }) => [i.memberId, i.name])).toEqual([['m-noname', 'm-noname'], ['m-zhang', '张三'], ['m-alice', 'Alice']]);
    expect((await myReferral(api, 'm-alice')).referredBy).toMatchObject({ state: 'bound' });
    expectError(await api.request('GET', '/v1/members/m-ref/referral', { token: tokenFor('member', 'm-ref') }), 403, 'FORBIDDEN');
    expectError(await api.request('GET', '/v1/members/nobody/referral', { token: ops }), 404, 'NOT_FOUND');
  });

  it('when a registration carries a code that cannot bind, then the member is registered, unbound, and the answer says why', async () => {
    const unknown = await register(api, 'r-unknown', { referralCode: 'ZZZZ2222' });
    expect(unknown.body.member.memberId).toBe('r-unknown');
    expect(unknown.body.referral).toEqual({ code: 'ZZZZ2222', bound: false, refusal: { code: 'REFERRAL_CODE_NOT_FOUND', message: expect.any(String) } });
    expect((await myReferral(api, 'r-unknown')).referredBy).toBeNull();
    const plain = await register(api, 'r-plain');
    expect(plain.body.referral).toBeUndefined();
    expect(plain.body.member).not.toHaveProperty('referredByCode');
  });

  it('when bind bodies, queries and ids are hostile, then each is 400 and nothing binds', async () => {
    await register(api, 'h-inv');
    for (const code of [{ $gt: '' }, 'AB', 'ABCD-EFGH', 12345678, null, 'x'.repeat(17)]) {
      expectError(await bind(api, 'h-inv', code), 400, 'VALIDATION_FAILED');
    }
    expectError(await bind(api, 'h-inv', 'ABCDEFGH', { id: { $ne: null } }), 400, 'VALIDATION_FAILED');
    expectError(await bind(api, 'h-inv', 'ABCDEFGH', { ip: '999.1.1.1' }), 400, 'VALIDATION_FAILED');
    const extra = await api.request('POST', '/v1/me/referral/bind', { token: tokenFor('member', 'h-inv'), body: { code: 'ABCDEFGH', referrer: 'm-ref' } });
    expect(issuePaths(extra)).toEqual(['body']);
    for (const query of ['?limit=1000', '?limit=abc', '?cursor=garbage', '?cursor=WzFd&extra=1']) {
      expectError(await api.request('GET', `/v1/me/referral${query}`, { token: tokenFor('member', 'h-inv') }), 400, 'VALIDATION_FAILED');
    }
    for (const query of ['?state=paid', '?limit=0', '?cursor=bm9wZQ', '?referrer=a%20b']) {
      expectError(await api.request('GET', `/v1/admin/referrals${query}`, { token: ops }), 400, 'VALIDATION_FAILED');
    }
    expectError(await api.request('GET', '/v1/admin/referrals/bad%20id!', { token: ops }), 400, 'VALIDATION_FAILED');
    const decision = await api.request('POST', '/v1/admin/referrals/h-inv/reject', { token: ops, body: { note: 'x', outcome: 'approved' }, headers: { 'Idempotency-Key': 'k1' } });
    expect(issuePaths(decision)).toEqual(['body']);
    expectError(await api.request('POST', '/v1/admin/referrals/h-inv/approve', { token: ops, body: {} }), 400, 'IDEMPOTENCY_KEY_REQUIRED');
    expect((await myReferral(api, 'h-inv')).referredBy).toBeNull();
  });

  it('when an event of another member or type arrives, then it has no referral effect', async () => {
    const res = await order(api, 'c-racer', 'o-unbound', 500);
    expect(res.status, res.text).toBe(201);
    expect(res.body.effects.referral).toEqual([]);
  });
});

describe('the hash key', () => {
  it('when production has no REFERRAL_HASH_KEY or a short one, then the configuration is refused naming it; elsewhere one is generated', () => {
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
      throw new Error('expected the configuration to be refused');
    };
    expect(refused({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) })).toEqual([expect.stringMatching(/^REFERRAL_HASH_KEY: required in production/)]);
    expect(refused({ JWT_SECRET: 's'.repeat(32), REFERRAL_HASH_KEY: 'short' })).toEqual(['REFERRAL_HASH_KEY: must be at least 32 bytes']);
    const dev = loadConfig({ JWT_SECRET: 's'.repeat(32) });
    expect(dev.referrals).toMatchObject({ hashKeyGenerated: true, bindWindowDays: 7, baseUrl: 'http://127.0.0.1:3000/invite/' });
    expect(loadConfig({ JWT_SECRET: 's'.repeat(32) }).referrals.hashKey).not.toBe(dev.referrals.hashKey);
    expect(refused({ JWT_SECRET: 's'.repeat(32), REFERRAL_BASE_URL: 'javascript:alert(1)' })[0]).toMatch(/^REFERRAL_BASE_URL/);
  });
});
