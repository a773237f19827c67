import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import type { Connection } from 'mongoose';
import { inject } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { ManualClock, type Clock } from '../../src/platform/clock.js';
import type { Faults } from '../../src/platform/faults.js';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { startFerretdb } from '../../src/platform/db/ferretdb.js';
import type { RunningEngine } from '../../src/platform/db/provision.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const TEST_HASH_KEY = 'test-referral-hash-key-0123456789-abcdef';

/** A configuration as the tests run it; `env` overrides variables. */
export function testConfig(env: Record<string, string> = {}): Config {
  // One referral hash key for every instance a test starts, as production has one for all its processes.
  return loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, REFERRAL_HASH_KEY: TEST_HASH_KEY, LOG_LEVEL: 'silent', DB_TIMEOUT_MS: '1500', ...env });
}

/** A FerretDB of the test's own (SQLite backend, a temporary directory), for tests that stop or kill their database. */
export function startOwnEngine(): Promise<RunningEngine> {
  const config = testConfig();
  return startFerretdb({ toolsDir: config.toolsDir, backend: 'sqlite', postgresqlUrl: config.db.ferretdbPostgresqlUrl });
}

/** A fresh database name, so test files (and tests) never see each other's data. */
export const freshDbName = (prefix = 't') => `${prefix}_${randomBytes(6).toString('hex')}`;

/** Signs a token as a caller would send it; `payload`/`options` let attack tests bend it. */
export function tokenFor(
  role: 'member' | 'service' | 'ops',
  sub?: string,
  opts: { secret?: string; payload?: Record<string, unknown>; sign?: jwt.SignOptions } = {},
): string {
  return jwt.sign({ role, ...(sub ? { sub } : {}), ...opts.payload }, opts.secret ?? TEST_SECRET, {
    algorithm: 'HS256',
    expiresIn: '1h',
    ...opts.sign,
  });
}

/** The callers most tests act as: the business backend (`orders`) and an operator (`ops-1`). */
export const service = tokenFor('service', 'orders');
export const ops = tokenFor('ops', 'ops-1');

export type ApiResponse = { status: number; body: any; headers: Headers; text: string };

export type TestApp = {
  url: string;
  db: Connection;
  dbName: string;
  clock: ManualClock;
  built: App;
  config: Config;
  /** Sends a request; `body` objects are sent as JSON, strings as they are. */
  request(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse>;
  close(opts?: { keepDatabase?: boolean }): Promise<void>;
};

/**
 * Starts the real app in-process on port 0 against the engine the run provisioned, with its own database
 * (or a given one, to run several app instances over one database) and a manual clock; silent unless given a logger.
 */
export async function startTestApp(
  opts: { env?: Record<string, string>; dbName?: string; clock?: Clock; uri?: string; faults?: Faults; logger?: Logger } = {},
): Promise<TestApp> {
  const config = testConfig(opts.env);
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock('2026-03-01T08:00:00Z');
  const dbName = opts.dbName ?? freshDbName();
  const uri = opts.uri ?? inject('mongoUri');
  const db = await connectDatabase(uri, dbName, config.db.timeoutMs);
  const built = createApp({
    config,
    db,
    clock,
    logger: opts.logger ?? createLogger('silent'),
    engine: { name: inject('engine'), description: 'test engine' },
    ...(opts.faults ? { faults: opts.faults } : {}),
  });
  await built.ready;
  const server = http.createServer(built.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    db,
    dbName,
    clock: clock as ManualClock,
    built,
    config,
    async request(method, path, { token, body, headers = {} } = {}) {
      const h: Record<string, string> = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + path, { method, headers: h, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    async close({ keepDatabase = false } = {}) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await built.stop();
      await built.flush();
      if (!keepDatabase) await db.dropDatabase().catch(() => {});
      await db.close();
    },
  };
}
