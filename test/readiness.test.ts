import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEngine } from '../src/platform/db/provision.js';
import { ops, startOwnEngine, startTestApp, tokenFor, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';

// This file stops its database on purpose, so it runs on a FerretDB of its own rather than the shared engine.
let ferret: RunningEngine;
let api: TestApp;

beforeAll(async () => {
  ferret = await startOwnEngine();
  api = await startTestApp({ uri: ferret.uri });
});
afterAll(async () => {
  await api?.close();
  await ferret?.stop();
});

/** Runs a request and says how long it took, so "fails fast" can be asserted. */
async function timed<T>(run: () => Promise<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now();
  const res = await run();
  return { res, ms: performance.now() - started };
}

describe('readiness', () => {
  it('when the database is up, then /readyz is 200 and members can be registered and read', async () => {
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect((await api.request('POST', '/v1/members', { token: ops, body: { memberId: 'ann' } })).status).toBe(201);
    expect((await api.request('GET', '/v1/members/ann', { token: ops })).status).toBe(200);
  });

  it('when the database goes away, then /readyz and data routes answer 503 UNAVAILABLE quickly without driver text, and /healthz stays 200', async () => {
    await ferret.stop();
    expect(api.config.db.timeoutMs).toBe(1500);

    const ready = await timed(() => api.request('GET', '/readyz'));
    expectError(ready.res, 503, 'UNAVAILABLE');
    expect(ready.ms).toBeLessThan(4000);

    const read = await timed(() => api.request('GET', '/v1/members/ann', { token: ops }));
    expectError(read.res, 503, 'UNAVAILABLE');
    expect(read.ms).toBeLessThan(4000);

    const write = await timed(() => api.request('POST', '/v1/members', { token: ops, body: { memberId: 'bob' } }));
    expectError(write.res, 503, 'UNAVAILABLE');
    expect(write.ms).toBeLessThan(4000);

    const me = await api.request('GET', '/v1/me', { token: tokenFor('member', 'ann') });
    expectError(me, 503, 'UNAVAILABLE');

    const health = await api.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
  });

  it('when the database is down, then requests that fail validation or auth still get their 4xx, not 503', async () => {
    expectError(await api.request('GET', '/v1/members/%24gt', { token: ops }), 400, 'VALIDATION_FAILED');
    expectError(await api.request('GET', '/v1/members/ann'), 401, 'UNAUTHENTICATED');
    expectError(await api.request('POST', '/v1/members', { token: tokenFor('member', 'ann'), body: { memberId: 'x' } }), 403, 'FORBIDDEN');
  });

  it('when many requests arrive while the database is down, then every one is a 503 and none hangs', async () => {
    const { res, ms } = await timed(() => Promise.all(Array.from({ length: 20 }, (_, i) => api.request('GET', `/v1/members/m${i}`, { token: ops }))));
    for (const r of res) expectError(r, 503, 'UNAVAILABLE');
    expect(ms).toBeLessThan(6000);
  });
});
