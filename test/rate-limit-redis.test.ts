import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, startTestApp, tokenFor, type ApiResponse, type TestApp } from './helpers/app.js';
import { expectError, expectNoLeak } from './helpers/expect.js';
import { scrape, valueOf } from './helpers/metrics.js';

/** The machine's Redis (PRODUCT.md §11: REDIS_URL), shared by every run: keys here are unique per run. */
const SHARED_REDIS = 'redis://127.0.0.1:6379';
const REDIS_SERVER = '/usr/bin/redis-server';

const apps: TestApp[] = [];
const servers: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  for (const s of servers) s.kill('SIGKILL');
});

const start = async (opts: Parameters<typeof startTestApp>[0]) => {
  const app = await startTestApp(opts);
  apps.push(app);
  return app;
};

const me = (app: TestApp, memberId: string) => app.request('GET', '/v1/me', { token: tokenFor('member', memberId) });
const left = (res: ApiResponse) => /"member";r=(\d+);t=\d+/.exec(res.headers.get('ratelimit') ?? '')?.[1];

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis of the test's own, without persistence, that answers PING before this resolves. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  servers.push(child);
  for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    } finally {
      probe.disconnect();
    }
  }
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  expect(existsSync(REDIS_SERVER), `${REDIS_SERVER} is needed to simulate an outage`).toBe(true);
  const probe = new Redis(SHARED_REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await probe.connect();
  expect(await probe.ping()).toBe('PONG');
  probe.disconnect();
});

describe('rate limits shared through Redis', () => {
  it('when two instances serve one member, then they share its limit', async () => {
    const env = { REDIS_URL: SHARED_REDIS, RATE_LIMIT_MEMBER: '4/60' };
    const a = await start({ env });
    const b = await start({ env, dbName: a.dbName });
    const memberId = `rl-shared-${randomUUID()}`;
    expect((await a.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);

    const answers = [await me(a, memberId), await me(b, memberId), await me(a, memberId), await me(b, memberId)];
    answers.forEach((res) => expect(res.status, res.text).toBe(200));
    expect(answers.map(left)).toEqual(['3', '2', '1', '0']);
    const refused = await me(b, memberId);
    expectError(refused, 429, 'RATE_LIMITED');
    expectError(await me(a, memberId), 429, 'RATE_LIMITED');

    const redis = new Redis(SHARED_REDIS);
    try {
      const ttl = await redis.pttl(`loyalty:rl:member:member:${memberId}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      redis.disconnect();
    }
  });

  it('when Redis goes away mid-test, then requests pass unlimited (no 429, no 500) with one warning and the backend error counted, and limits return with it', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
    const app = await start({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_MEMBER: '3/60' }, logger });
    const memberId = `rl-outage-${randomUUID()}`;
    expect((await app.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);
    expect(left(await me(app, memberId))).toBe('2');

    await kill(redis);
    const outageStarted = performance.now();
    const before = valueOf(await scrape(app), 'rate_limit_backend_errors_total');
    for (let i = 0; i < 5; i++) {
      const res = await me(app, memberId);
      expect(res.status, res.text).toBe(200);
      expectNoLeak(res);
      expect(res.headers.get('ratelimit')).toBeNull();
    }
    expect(valueOf(await scrape(app), 'rate_limit_backend_errors_total') - before).toBe(5);
    const warnings = lines.filter((l) => l.level === 40 && /rate-limit store/.test(l.msg));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(Math.ceil((performance.now() - outageStarted) / 10_000)); // one per 10 s at most

    // Back: the client reconnects on its own, and the (empty) store counts again.
    redis = await startRedis(port);
    let res = await me(app, memberId);
    for (const deadline = Date.now() + 15_000; left(res) === undefined && Date.now() < deadline; res = await me(app, memberId)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(left(res)).toBe('2');
    await me(app, memberId);
    await me(app, memberId);
    expectError(await me(app, memberId), 429, 'RATE_LIMITED');
  });
});
