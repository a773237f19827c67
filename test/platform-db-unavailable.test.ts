import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MongoClientClosedError,
  MongoDriverError,
  MongoErrorLabel,
  MongoExpiredSessionError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, isDatabaseClosing, isDatabaseUnavailable } from '../src/platform/db/connection.js';
import type { RunningEngine } from '../src/platform/db/provision.js';
import { freshDbName, ops, service, startOwnEngine, startTestApp, type ApiResponse, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';

// The pool's own errors are not exported by the driver's index; they are the classes it throws when a pool is
// cleared or its wait queue times out. Note that 'mongodb' here is the copy hoisted for mongodb-memory-server, while
// mongoose runs its own copy (mongoose.mongo): the classifier must know both, so both are tried below.
type PoolErrors = {
  PoolClearedError: new (pool: { address: string }, message?: string) => Error;
  WaitQueueTimeoutError: new (message: string, address: string) => Error;
  PoolClosedError: new (pool: { address: string }) => Error;
};
const require = createRequire(import.meta.url);
const poolErrors = require('mongodb/lib/cmap/errors.js') as PoolErrors;
const mongoosePoolErrors = require(require.resolve('mongodb/lib/cmap/errors.js', { paths: [require.resolve('mongoose')] })) as PoolErrors;

const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });
const epipe = () => socketError('EPIPE', 'This socket has been ended by the other party');
const pool = { address: '127.0.0.1:27017' };

describe('isDatabaseUnavailable', () => {
  const driverCopies = [
    ['the hoisted mongodb package', { MongoClientClosedError, MongoNetworkError, MongoNetworkTimeoutError, MongoServerClosedError, MongoServerSelectionError, MongoTopologyClosedError, MongoDriverError, MongoExpiredSessionError, MongoServerError }, poolErrors],
    ['the driver mongoose runs (mongoose.mongo)', mongoose.mongo, mongoosePoolErrors],
  ] as const;

  for (const [copy, driver, pools] of driverCopies) {
    it(`when the driver (${copy}) says the connection is lost, cleared, closed or timed out, then the error counts as unavailable`, () => {
      const labelled = (label: string) => {
        const err = new driver.MongoDriverError('pool reset');
        err.addErrorLabel(label);
        return err;
      };
      const cases: Array<[string, Error]> = [
        ['MongoNetworkError', new driver.MongoNetworkError('connection 3 to 127.0.0.1:27017 closed')],
        ['MongoNetworkTimeoutError', new driver.MongoNetworkTimeoutError('connection timed out')],
        ['MongoServerSelectionError', new driver.MongoServerSelectionError('Server selection timed out after 1500 ms', {} as never)],
        ['MongoTopologyClosedError', new driver.MongoTopologyClosedError()],
        ['MongoServerClosedError', new driver.MongoServerClosedError()],
        ['MongoClientClosedError', new driver.MongoClientClosedError()],
        // Closing the client ends the implicit sessions of operations still under way.
        ['MongoExpiredSessionError', new driver.MongoExpiredSessionError()],
        // Closing the client sends an unacknowledged endSessions; FerretDB answers it anyway, and the operation that
        // reads the connection next receives that answer.
        ['the answer to endSessions', new driver.MongoServerError({ message: "no such command: 'endSessions'", code: 59, codeName: 'CommandNotFound' })],
        ['MongoPoolClearedError', new pools.PoolClearedError(pool)],
        ['MongoWaitQueueTimeoutError', new pools.WaitQueueTimeoutError('Timed out while checking out a connection from connection pool', pool.address)],
        ['MongoPoolClosedError', new pools.PoolClosedError(pool)],
        ['the ResetPool label', labelled(MongoErrorLabel.ResetPool)],
        ['the PoolRequestedRetry label', labelled(MongoErrorLabel.PoolRequestedRetry)],
        ['a MongoNetworkError caused by EPIPE', new driver.MongoNetworkError('This socket has been ended by the other party', { cause: epipe() })],
        ['an Error caused by MongoClientClosedError', new Error('operation failed', { cause: new driver.MongoClientClosedError() })],
        ['two wrappers over a pool cleared error', new Error('outer', { cause: new Error('inner', { cause: new pools.PoolClearedError(pool) }) })],
      ];
      for (const [what, err] of cases) expect(isDatabaseUnavailable(err), what).toBe(true);
    });
  }

  it('when our own client was closed under an operation, then the error says so; a lost engine does not', () => {
    for (const err of [new MongoClientClosedError(), new mongoose.mongo.MongoClientClosedError(), new mongoose.mongo.MongoNotConnectedError('Client must be connected before running operations'), new poolErrors.PoolClosedError(pool), new Error('wrapped', { cause: new MongoExpiredSessionError() })]) {
      expect(isDatabaseClosing(err), err.message).toBe(true);
    }
    for (const err of [new MongoNetworkError('connection closed'), epipe(), new MongoServerSelectionError('Server selection timed out', {} as never), new Error('boom')]) {
      expect(isDatabaseClosing(err), err.message).toBe(false);
    }
  });

  it('when our own client is closed under batched inserts (the driver wraps what stopped them in a MongoBulkWriteError), then each error says so', async () => {
    const seen = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const db = await connectDatabase(inject('mongoUri'), freshDbName('closing'), 3000);
      const c = db.collection('batches');
      const batches = Array.from({ length: 30 }, (_, i) => c.insertMany([{ _id: `a${i}` }, { _id: `b${i}` }] as never[], { ordered: false }).then(() => null, (err: unknown) => err));
      await sleep(round % 4);
      await db.close();
      for (const err of await Promise.all(batches)) {
        if (!err) continue;
        seen.add((err as Error).message);
        expect(isDatabaseClosing(err), (err as Error).message).toBe(true);
        expect(isDatabaseUnavailable(err), (err as Error).message).toBe(true);
      }
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it('when a batched insert fails for a document of its own, then that is not the database being unavailable', () => {
    const writeErrors = [{ index: 0, code: 11000, errmsg: 'E11000 duplicate key error' }];
    const err = new mongoose.mongo.MongoBulkWriteError({ message: 'E11000 duplicate key error', code: 11000, writeErrors } as never, {} as never);
    expect(isDatabaseUnavailable(err)).toBe(false);
    // Even when its message reads like a lost connection: per-document errors are the server's answer.
    const odd = new mongoose.mongo.MongoBulkWriteError({ message: 'Topology is closed', code: 11000, writeErrors } as never, {} as never);
    expect(isDatabaseUnavailable(odd)).toBe(false);
  });

  it('when a socket error of node surfaces as a plain Error (EPIPE, ECONNRESET), or wrapped, then it counts as unavailable', () => {
    expect(isDatabaseUnavailable(epipe())).toBe(true);
    expect(isDatabaseUnavailable(socketError('ECONNRESET', 'read ECONNRESET'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('write failed', { cause: epipe() }))).toBe(true);
  });

  it('when an error is a bug or a refusal by the server (duplicate key), then it is not unavailable', () => {
    const cyclic: Error & { cause?: unknown } = new Error('loops');
    cyclic.cause = cyclic;
    const cases: Array<[string, unknown]> = [
      ['a plain Error', new Error('boom')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
      ['a duplicate key', new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 })],
      ['a duplicate key from mongoose.mongo', new mongoose.mongo.MongoServerError({ message: 'E11000 duplicate key error', code: 11000 })],
      ['a command the engine lacks', new mongoose.mongo.MongoServerError({ message: "no such command: 'collMod'", code: 59, codeName: 'CommandNotFound' })],
      ['a file error with a code', socketError('ENOENT', 'no such file')],
      ['an error whose cause is itself', cyclic],
      ['a string', 'EPIPE'],
      ['null', null],
    ];
    for (const [what, err] of cases) expect(isDatabaseUnavailable(err), what).toBe(false);
  });
});

/** Sixteen callers registering and reading members in a loop until `stop()`; every answer is kept. */
function trafficOn(api: TestApp) {
  const answers: ApiResponse[] = [];
  let stopped = false;
  const caller = async (n: number) => {
    for (let i = 0; !stopped; i++) {
      answers.push(
        i % 2 === 0
          ? await api.request('POST', '/v1/members', { token: service, body: { memberId: `burst-${n}-${i}` } })
          : await api.request('GET', `/v1/members/seed-${i % 5}`, { token: ops }),
      );
    }
  };
  const callers = Array.from({ length: 16 }, (_, n) => caller(n));
  return {
    async stop(): Promise<ApiResponse[]> {
      stopped = true;
      await Promise.all(callers);
      return answers;
    },
  };
}

const seed = async (api: TestApp) => {
  for (let i = 0; i < 5; i++) expect((await api.request('POST', '/v1/members', { token: ops, body: { memberId: `seed-${i}` } })).status).toBe(201);
};

/** Every answer is a success, a conflict or 503 UNAVAILABLE without driver text; a 500 fails with its body shown. */
function expectNoInternalErrors(answers: ApiResponse[]): void {
  const unexpected = answers.filter((r) => ![200, 201, 409, 503].includes(r.status));
  expect(unexpected.length, unexpected.map((r) => `${r.status} ${r.text}`).join('\n')).toBe(0);
  expect(answers.map((r) => r.status)).toContain(503);
  for (const r of answers.filter((a) => a.status === 503)) expectError(r, 503, 'UNAVAILABLE');
}

describe('when the database client is closed under running requests', () => {
  it('when the client closes while requests are in flight (as at shutdown), then they answer 503 UNAVAILABLE, not 500', async () => {
    const api = await startTestApp();
    try {
      await seed(api);
      const traffic = trafficOn(api);
      await sleep(300);
      await api.db.close();
      await sleep(300);
      expectNoInternalErrors(await traffic.stop());
    } finally {
      await api.close({ keepDatabase: true }).catch(() => {});
      const db = await connectDatabase(inject('mongoUri'), api.dbName, 1500);
      await db.dropDatabase();
      await db.close();
    }
  });
});

// This part kills its database on purpose, so it runs on a FerretDB of its own rather than the shared engine.
describe('when the engine dies under load', () => {
  let ferret: RunningEngine;
  let api: TestApp;

  beforeAll(async () => {
    ferret = await startOwnEngine();
    api = await startTestApp({ uri: ferret.uri });
  });
  afterAll(async () => {
    await api?.close().catch(() => {});
    await ferret?.stop();
  });

  it('when the engine is killed during a burst of writes and reads, then every answer is a success, a conflict or 503 UNAVAILABLE, never a 500', { timeout: 30_000 }, async () => {
    await seed(api);
    const traffic = trafficOn(api);
    await sleep(400);
    process.kill(ferret.pid!, 'SIGKILL');
    await sleep(2000);
    expectNoInternalErrors(await traffic.stop());
  });
});
