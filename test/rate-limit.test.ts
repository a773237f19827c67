import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { rateLimitGroupOf } from '../src/platform/http/route.js';
import { service, startTestApp, tokenFor, type ApiResponse, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';
import { scrape, valueOf } from './helpers/metrics.js';

let api: TestApp;

// Small limits, and the client address taken from X-Forwarded-For so each test is a client of its own.
beforeAll(async () => {
  api = await startTestApp({
    env: {
      RATE_LIMIT_MEMBER: '3/60',
      RATE_LIMIT_SERVICE: '20/60',
      RATE_LIMIT_CHECKIN: '2/60',
      RATE_LIMIT_REDEEM: '1/60',
      RATE_LIMIT_IP: '6/60',
      RATE_LIMIT_IP_EXEMPT: '',
      TRUST_PROXY: 'true',
    },
  });
});
afterAll(async () => {
  await api?.close();
});

const from = (ip: string) => ({ 'X-Forwarded-For': ip });
const register = async (memberId: string) => {
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId }, headers: from('192.0.2.1') });
  expect(res.status, res.text).toBe(201);
};
const me = (memberId: string, ip: string) => api.request('GET', '/v1/me', { token: tokenFor('member', memberId), headers: from(ip) });

type Item = { name: string; params: Record<string, number> };
/** Parses a structured-field list of `"name";key=int;...` items, as RateLimit and RateLimit-Policy are written. */
function items(value: string | null): Item[] {
  expect(value).not.toBeNull();
  return value!.split(', ').map((item) => {
    expect(item).toMatch(/^"[a-z]+"(;[a-z]+=\d+)+$/);
    const [name = '', ...params] = item.split(';');
    return { name: name.slice(1, -1), params: Object.fromEntries(params.map((p) => [p.split('=')[0], Number(p.split('=')[1])])) };
  });
}
const policies = (res: ApiResponse) => Object.fromEntries(items(res.headers.get('ratelimit-policy')).map((i) => [i.name, i.params]));
const remaining = (res: ApiResponse) => Object.fromEntries(items(res.headers.get('ratelimit')).map((i) => [i.name, i.params]));

describe('rate limit configuration', () => {
  it('when nothing is set, then members are limited per minute, services are not, and the per-member groups are stricter still', () => {
    const { rateLimit } = loadConfig({ JWT_SECRET: 's'.repeat(32) });
    expect(rateLimit).toEqual({
      enabled: true,
      member: { points: 120, seconds: 60 },
      service: null,
      ops: { points: 1200, seconds: 60 },
      ip: { points: 1200, seconds: 60 },
      checkin: { points: 30, seconds: 60 },
      redeem: { points: 30, seconds: 60 },
      bind: { points: 10, seconds: 60 },
      ipExempt: ['127.0.0.1', '::1'],
    });
  });

  it('when a limit, the switch or an exempt address is malformed, then ConfigError names the variable', () => {
    for (const [name, value] of [
      ['RATE_LIMIT_MEMBER', '120'],
      ['RATE_LIMIT_SERVICE', '0/60'],
      ['RATE_LIMIT_CHECKIN', '10/0'],
      ['RATE_LIMIT_IP', 'lots'],
      ['RATE_LIMIT_ENABLED', 'yes'],
      ['METRICS_ENABLED', '0'],
      ['RATE_LIMIT_IP_EXEMPT', '10.0.0.0/33'],
      ['RATE_LIMIT_IP_EXEMPT', '127.0.0.1,localhost'],
    ] as const) {
      try {
        loadConfig({ JWT_SECRET: 's'.repeat(32), [name]: value });
        expect.unreachable(`${name}=${value} was accepted`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems.some((p) => p.startsWith(`${name}:`)), `${name}=${value}`).toBe(true);
      }
    }
  });

  it('when routes are grouped, then public routes are never limited, roles decide by default, and the referral bind is a group by its path', () => {
    expect(rateLimitGroupOf({ method: 'get', path: '/healthz', auth: 'public' })).toBe('none');
    expect(rateLimitGroupOf({ method: 'get', path: '/v1/me', auth: ['member'] })).toBeUndefined();
    expect(rateLimitGroupOf({ method: 'post', path: '/v1/me/checkins', auth: ['member'], rateLimit: 'checkin' })).toBe('checkin');
    expect(rateLimitGroupOf({ method: 'post', path: '/v1/me/referral/bind', auth: ['member'] })).toBe('bind');
  });
});

describe('rate limits in memory', () => {
  it('when a member goes over its limit, then 429 RATE_LIMITED in the error shape, with Retry-After and the IETF fields', async () => {
    await register('rl-m1');
    const before = await scrape(api);
    const allowed = [await me('rl-m1', '198.51.100.1'), await me('rl-m1', '198.51.100.1'), await me('rl-m1', '198.51.100.1')];
    allowed.forEach((res) => expect(res.status, res.text).toBe(200));
    expect(allowed.map((res) => remaining(res).member?.r)).toEqual([2, 1, 0]);
    expect(policies(allowed[0]!)).toEqual({ ip: { q: 6, w: 60 }, member: { q: 3, w: 60 } });

    const refused = await me('rl-m1', '198.51.100.1');
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.headers.get('x-request-id')).toBe(refused.body.requestId);
    expect(refused.body.error.details).toEqual({ limit: 'member', retryAfterSeconds: expect.any(Number) });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(refused.body.error.details.retryAfterSeconds).toBe(retryAfter);
    expect(remaining(refused).member).toEqual({ r: 0, t: retryAfter });
    for (const { t } of Object.values(remaining(refused))) expect(t).toBeGreaterThanOrEqual(1);

    // Another member, and the same member's address, are not held back by it.
    await register('rl-m1b');
    expect((await me('rl-m1b', '198.51.100.1')).status).toBe(200);

    const after = await scrape(api);
    expect(valueOf(after, 'rate_limit_refusals_total', { group: 'member' }) - valueOf(before, 'rate_limit_refusals_total', { group: 'member' })).toBe(1);
    const at = { method: 'GET', route: '/v1/me', status: '429' };
    expect(valueOf(after, 'http_requests_total', at) - valueOf(before, 'http_requests_total', at)).toBe(1);
  });

  it('when the backend calls more often than a member may, then it passes: service routes are limited far higher', async () => {
    await register('rl-m2');
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await api.request('GET', '/v1/members/rl-m2', { token: service, headers: from('198.51.100.2') }));
    answers.forEach((res) => expect(res.status, res.text).toBe(200));
    expect(policies(answers[0]!)).toEqual({ service: { q: 20, w: 60 } }); // backends are limited by their token, not their address
    const left = answers.map((res) => remaining(res).service?.r);
    expect(left.every((r, i) => i === 0 || r === (left[i - 1] as number) - 1)).toBe(true);
  });

  it('when a member checks in more often than the check-in limit, then it is refused per member while other members check in', async () => {
    await register('rl-c1');
    await register('rl-c2');
    const checkIn = (memberId: string) =>
      api.request('POST', '/v1/me/checkins', { token: tokenFor('member', memberId), headers: { ...from('198.51.100.3'), 'Idempotency-Key': `${memberId}-${Math.random()}` } });
    expect((await checkIn('rl-c1')).status).toBe(201);
    expectError(await checkIn('rl-c1'), 409, 'ALREADY_CHECKED_IN'); // a refused check-in still counts
    const refused = await checkIn('rl-c1');
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.body.error.details.limit).toBe('checkin');
    expect(policies(refused)).toMatchObject({ member: { q: 3, w: 60 }, checkin: { q: 2, w: 60 } });
    expect((await checkIn('rl-c2')).status).toBe(201);
  });

  it('when the backend redeems for one member more often than the redemption limit, then that member is refused and another is not', async () => {
    const redeem = (memberId: string) =>
      api.request('POST', `/v1/members/${memberId}/redemptions`, { token: service, body: { benefitCode: 'no-such-benefit', quantity: 1 }, headers: { 'Idempotency-Key': `${memberId}-${Math.random()}` } });
    await register('rl-r1');
    await register('rl-r2');
    expect((await redeem('rl-r1')).status).toBe(404);
    const refused = await redeem('rl-r1');
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.body.error.details.limit).toBe('redeem');
    expect((await redeem('rl-r2')).status).toBe(404);
  });

  it('when one address sends more requests than its limit without a valid token, then it is refused before authentication and others are not', async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < 6; i++) expectError(await api.request('GET', '/v1/me', { headers: from(ip) }), 401, 'UNAUTHENTICATED');
    const refused = await api.request('GET', '/v1/me', { headers: from(ip) });
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.body.error.details.limit).toBe('ip');
    expect(policies(refused)).toEqual({ ip: { q: 6, w: 60 } });

    await register('rl-i1');
    expectError(await me('rl-i1', ip), 429, 'RATE_LIMITED'); // a member behind that address too
    expect((await api.request('GET', '/v1/members/rl-i1', { token: service, headers: from(ip) })).status).toBe(200);
    expectError(await api.request('GET', '/v1/me', { headers: from('203.0.113.8') }), 401, 'UNAUTHENTICATED');

    const health = await api.request('GET', '/healthz', { headers: from(ip) });
    expect(health.status).toBe(200);
    expect(health.headers.get('ratelimit')).toBeNull();
  });

  it('when the OpenAPI document is read, then limited routes list 429 with Retry-After and the RateLimit fields, and public ones do not', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body;
    for (const [path, method] of [['/v1/me', 'get'], ['/v1/me/checkins', 'post'], ['/v1/members/{memberId}/redemptions', 'post'], ['/v1/members', 'post']] as const) {
      const r429 = doc.paths[path][method].responses['429'];
      expect(r429?.content['application/json'].schema, `${method} ${path}`).toEqual({ $ref: '#/components/schemas/Error' });
      expect(Object.keys(r429.headers).sort()).toEqual(['RateLimit', 'RateLimit-Policy', 'Retry-After']);
    }
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect(doc.paths[path].get.responses['429'], path).toBeUndefined();
  });
});

describe('rate limits turned off', () => {
  it('when RATE_LIMIT_ENABLED=false, then nothing is limited and no RateLimit fields are sent', async () => {
    const off = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_MEMBER: '1/60', RATE_LIMIT_IP_EXEMPT: '' } });
    try {
      await off.request('POST', '/v1/members', { token: service, body: { memberId: 'rl-off' } });
      for (let i = 0; i < 4; i++) {
        const res = await off.request('GET', '/v1/me', { token: tokenFor('member', 'rl-off') });
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit')).toBeNull();
        expect(res.headers.get('ratelimit-policy')).toBeNull();
      }
    } finally {
      await off.close();
    }
  });
});
