import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase, pingDatabase } from '../src/platform/db/connection.js';
import type { MemoryServerStarter } from '../src/platform/db/memory-server.js';
import { NoDatabaseError, provisionDatabase, type Provisioned } from '../src/platform/db/provision.js';
import { testConfig } from './helpers/app.js';

const MARKER = 'memory-server-unavailable.json';
const temporary: string[] = [];
const started: Provisioned[] = [];

/** A fresh tools folder; with `launcher`, the already built FerretDB launcher is copied in so nothing is rebuilt. */
async function toolsDir({ launcher }: { launcher: boolean }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'loyalty-tools-'));
  temporary.push(dir);
  if (launcher) {
    const built = testConfig().toolsDir;
    for (const f of ['ferretdb-launcher', 'ferretdb-launcher.sha256']) await copyFile(path.join(built, f), path.join(dir, f));
  }
  return dir;
}

/** A memory-server starter that counts its calls and fails, or hands back a stand-in engine on the run's database. */
function starter(behaviour: 'fail' | 'succeed') {
  const calls = { starts: 0, stops: 0 };
  const start: MemoryServerStarter = async () => {
    calls.starts++;
    if (behaviour === 'fail') throw new Error('Download failed for url "https://fastdl.mongodb.org/linux/mongodb.tgz"\nmore detail');
    return {
      uri: inject('mongoUri'),
      engine: 'mongodb-memory-server',
      description: 'a stand-in for mongodb-memory-server',
      stop: async () => {
        calls.stops++;
      },
    };
  };
  return { start, calls };
}

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const dbConfig = (env: Record<string, string> = {}) => testConfig(env).db;

async function provision(opts: Parameters<typeof provisionDatabase>[0]): Promise<Provisioned> {
  const engine = await provisionDatabase(opts);
  started.push(engine);
  return engine;
}

/** Proves the engine answers: connect and ping. */
async function expectReachable(uri: string): Promise<void> {
  const conn = await connectDatabase(uri, 'provision_check', 5000);
  try {
    expect(await pingDatabase(conn, 5000)).toBe(true);
  } finally {
    await conn.close();
  }
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  await Promise.all(temporary.map((d) => rm(d, { recursive: true, force: true })));
});

describe('provisionDatabase', () => {
  it('when MONGODB_URI is set, then it wins over DB_ENGINE, nothing is started and the password is redacted', async () => {
    const dir = await toolsDir({ launcher: false });
    for (const DB_ENGINE of ['auto', 'memory-server', 'ferretdb-sqlite']) {
      const memory = starter('succeed');
      const engine = await provision({
        db: dbConfig({ MONGODB_URI: 'mongodb://loyalty:s3cr3t-pass@db.internal:27017/?replicaSet=rs0', DB_ENGINE }),
        toolsDir: dir,
        memoryServer: memory.start,
      });
      expect(engine.engine).toBe('external');
      expect(engine.uri).toBe('mongodb://loyalty:s3cr3t-pass@db.internal:27017/?replicaSet=rs0');
      expect(engine.description).toBe('MongoDB at mongodb://loyalty:***@db.internal:27017/?replicaSet=rs0');
      expect(engine.description).not.toContain('s3cr3t');
      expect(engine.attempts).toEqual(['MONGODB_URI is set']);
      expect(engine.pid).toBeUndefined();
      expect(memory.calls.starts).toBe(0);
      await engine.stop();
    }
    expect(existsSync(path.join(dir, 'ferretdb-launcher'))).toBe(false);
    expect(existsSync(path.join(dir, MARKER))).toBe(false);
  });

  it('when auto mode finds the memory server working, then it uses it and starts no FerretDB', async () => {
    const dir = await toolsDir({ launcher: true });
    const memory = starter('succeed');
    const engine = await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: memory.start });
    expect(engine.engine).toBe('mongodb-memory-server');
    expect(engine.uri).toBe(inject('mongoUri'));
    expect(engine.attempts).toEqual(['mongodb-memory-server obtained a mongod']);
    expect(memory.calls.starts).toBe(1);
    await engine.stop();
    expect(memory.calls.stops).toBe(1);
    expect(existsSync(path.join(dir, MARKER))).toBe(false);
  });

  it('when the memory server fails in auto mode, then FerretDB is used, the failure is remembered and the next run skips the memory server', { timeout: 60_000 }, async () => {
    const dir = await toolsDir({ launcher: true });
    const memory = starter('fail');

    const first = await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: memory.start });
    expect(first.engine).toBe('ferretdb-sqlite');
    expect(first.pid).toBeTypeOf('number');
    expect(first.attempts).toEqual([
      'mongodb-memory-server failed: Download failed for url "https://fastdl.mongodb.org/linux/mongodb.tgz"',
      'FerretDB (SQLite backend) started',
    ]);
    expect(memory.calls.starts).toBe(1);
    const marker = JSON.parse(await readFile(path.join(dir, MARKER), 'utf8'));
    expect(marker.error).toContain('Download failed');
    expect(Date.now() - Date.parse(marker.at)).toBeLessThan(60_000);
    await expectReachable(first.uri);

    const second = await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: memory.start });
    expect(memory.calls.starts).toBe(1);
    expect(second.engine).toBe('ferretdb-sqlite');
    expect(second.attempts[0]).toMatch(/^mongodb-memory-server skipped: it failed recently: Download failed/);
    expect(second.attempts[0]).toContain('DB_ENGINE=memory-server');
    expect(second.uri).not.toBe(first.uri);
    await expectReachable(second.uri);
  });

  it('when the memory server fails or is skipped in auto mode, then one log line each time says why and that FerretDB is used instead', { timeout: 60_000 }, async () => {
    const dir = await toolsDir({ launcher: true });
    const lines: string[] = [];
    const log = (msg: string) => lines.push(msg);

    await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: starter('fail').start, log });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).toMatch(/^mongodb-memory-server failed: Download failed for url "https:\/\/fastdl\.mongodb\.org\/linux\/mongodb\.tgz"; falling back to FerretDB \(SQLite backend\)/);

    lines.length = 0;
    await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: starter('fail').start, log });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).toMatch(/^mongodb-memory-server skipped: it failed recently: Download failed .*; falling back to FerretDB \(SQLite backend\)/);
  });

  it('when the real memory server cannot download a mongod, then nothing is printed to the console and the log line names the download and why it failed', { timeout: 60_000 }, async () => {
    const dir = await toolsDir({ launcher: true });
    const url = `https://127.0.0.1:${await closedPort()}/mongodb-linux-x86_64-debian12-7.0.99.tgz`;
    const printed: unknown[][] = [];
    const spies = (['warn', 'error', 'log', 'info'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...args) => void printed.push(args)));
    const lines: string[] = [];
    // A version nobody has cached, downloaded once from a port where nothing listens: it fails on any machine, at once.
    const env: Record<string, string | undefined> = { MONGOMS_DOWNLOAD_URL: url, MONGOMS_VERSION: '7.0.99', MONGOMS_DOWNLOAD_DIR: dir, MONGOMS_MAX_RETRIES: '1', MONGOMS_SYSTEM_BINARY: undefined };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    const setEnv = (values: Record<string, string | undefined>) =>
      Object.entries(values).forEach(([k, v]) => (v === undefined ? delete process.env[k] : (process.env[k] = v)));
    setEnv(env);
    try {
      const engine = await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, log: (msg) => lines.push(msg) });
      expect(engine.engine).toBe('ferretdb-sqlite');
    } finally {
      setEnv(saved);
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(printed).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`mongodb-memory-server failed: could not download a mongod from ${url}: connect ECONNREFUSED`);
    expect(lines[0]).toMatch(/; falling back to FerretDB \(SQLite backend\)$/);
  });

  it('when DB_ENGINE=memory-server, then the starter is called despite a recent failure, and its failure is a NoDatabaseError', async () => {
    const dir = await toolsDir({ launcher: true });
    await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: starter('fail').start });
    expect(existsSync(path.join(dir, MARKER))).toBe(true);

    const memory = starter('fail');
    const forced = provisionDatabase({ db: dbConfig({ DB_ENGINE: 'memory-server' }), toolsDir: dir, memoryServer: memory.start });
    await expect(forced).rejects.toBeInstanceOf(NoDatabaseError);
    await expect(forced).rejects.toThrow(/^DB_ENGINE=memory-server, but mongodb-memory-server could not start: Download failed/);
    expect(memory.calls.starts).toBe(1);
  });

  it('when DB_ENGINE=memory-server succeeds, then the remembered failure is cleared and auto mode tries the memory server again', async () => {
    const dir = await toolsDir({ launcher: true });
    await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: starter('fail').start });
    const memory = starter('succeed');
    const forced = await provision({ db: dbConfig({ DB_ENGINE: 'memory-server' }), toolsDir: dir, memoryServer: memory.start });
    expect(forced.engine).toBe('mongodb-memory-server');
    expect(forced.attempts).toEqual(['DB_ENGINE=memory-server']);
    expect(existsSync(path.join(dir, MARKER))).toBe(false);

    const auto = await provision({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: memory.start });
    expect(auto.engine).toBe('mongodb-memory-server');
    expect(memory.calls.starts).toBe(2);
  });

  it('when DB_ENGINE=ferretdb-sqlite, then FerretDB starts without asking the memory server', async () => {
    const dir = await toolsDir({ launcher: true });
    const memory = starter('succeed');
    const engine = await provision({ db: dbConfig({ DB_ENGINE: 'ferretdb-sqlite' }), toolsDir: dir, memoryServer: memory.start });
    expect(engine.engine).toBe('ferretdb-sqlite');
    expect(engine.attempts).toEqual(['DB_ENGINE=ferretdb-sqlite']);
    expect(memory.calls.starts).toBe(0);
    await expectReachable(engine.uri);
  });

  describe('without Go', () => {
    const savedPath = process.env.PATH;
    afterEach(() => {
      process.env.PATH = savedPath;
    });

    it('when there is neither a mongod nor Go nor a built launcher, then NoDatabaseError tells the user to set MONGODB_URI', async () => {
      const dir = await toolsDir({ launcher: false });
      process.env.PATH = await mkdtemp(path.join(os.tmpdir(), 'loyalty-no-go-'));
      temporary.push(process.env.PATH);
      const memory = starter('fail');
      const attempt = provisionDatabase({ db: dbConfig({ DB_ENGINE: 'auto' }), toolsDir: dir, memoryServer: memory.start });
      await expect(attempt).rejects.toBeInstanceOf(NoDatabaseError);
      const message = await attempt.catch((err: Error) => err.message);
      expect(message).toMatch(/^no database: set MONGODB_URI to a MongoDB server/);
      expect(message).toContain('mongodb-memory-server failed: Download failed');
      expect(message).toContain('FerretDB failed: Go is not installed');
      expect(memory.calls.starts).toBe(1);
      expect(existsSync(path.join(dir, 'ferretdb-launcher'))).toBe(false);
    });

    it('when FerretDB is forced and Go is missing, then the error says Go is needed', async () => {
      const dir = await toolsDir({ launcher: false });
      process.env.PATH = await mkdtemp(path.join(os.tmpdir(), 'loyalty-no-go-'));
      temporary.push(process.env.PATH);
      await expect(provisionDatabase({ db: dbConfig({ DB_ENGINE: 'ferretdb-sqlite' }), toolsDir: dir })).rejects.toThrow(/Go is not installed/);
    });
  });
});
