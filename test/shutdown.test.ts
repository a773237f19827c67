import { spawn, type ChildProcess } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../src/config.js';
import { systemClock } from '../src/platform/clock.js';
import { ArmedFaults } from '../src/platform/faults.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { startServer } from '../src/server.js';
import { freshDbName, ops, service, startTestApp, TEST_SECRET, testConfig, tokenFor } from './helpers/app.js';

/** Polls `check` until it returns a value or `ms` pass. */
async function waitFor<T>(check: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Resolves with the error code when nothing listens on the port any more. */
const connectError = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve('connected')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });

describe('graceful shutdown, in process', () => {
  it('when close() is called while a request is half received, then that request completes with 201, the connection is closed, close() resolves and new connections are refused', async () => {
    const dbName = freshDbName('shutdown');
    const server = await startServer(testConfig({ MONGODB_URI: inject('mongoUri'), PORT: '0', MONGODB_DB_NAME: dbName }));
    const port = Number(new URL(server.url).port);
    const socket = net.connect(port, '127.0.0.1');
    try {
      await once(socket, 'connect');
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      const requestArrived = new Promise<void>((resolve) => {
        const onStart = (message: unknown) => {
          if ((message as { request: http.IncomingMessage }).request.headers['x-request-id'] !== 'half-body') return;
          diagnostics.unsubscribe('http.server.request.start', onStart);
          resolve();
        };
        diagnostics.subscribe('http.server.request.start', onStart);
      });

      const body = JSON.stringify({ memberId: 'in-flight', displayName: 'Still Served' });
      const half = Math.floor(body.length / 2);
      socket.write(
        [
          'POST /v1/members HTTP/1.1',
          'Host: loyalty',
          `Authorization: Bearer ${tokenFor('service', 'orders')}`,
          'Content-Type: application/json',
          'X-Request-Id: half-body',
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body.slice(0, half),
        ].join('\r\n'),
      );
      await requestArrived; // the server has parsed the headers, so the connection counts as busy, not idle

      let closed = false;
      const closing = server.close().then(() => (closed = true));
      await sleep(200);
      expect(closed).toBe(false);
      expect(await connectError(port)).toBe('ECONNREFUSED');

      socket.write(body.slice(half));
      const response = await waitFor(() => /\r\n\r\n\{.*\}$/s.test(received) && received, 5000, 'the response');
      const answered = Date.now();
      expect(response).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
      expect(response).toMatch(/\r\nConnection: close\r\n/i);
      expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)).member).toMatchObject({ memberId: 'in-flight', displayName: 'Still Served' });

      // The server ends the connection itself; it does not wait for the client or the keep-alive timeout (5 s).
      await waitFor(() => socket.readableEnded || socket.destroyed, 2000, 'the server to close the connection');
      await closing;
      expect(closed).toBe(true);
      expect(Date.now() - answered).toBeLessThan(2000);
      expect(await connectError(port)).toBe('ECONNREFUSED');
    } finally {
      socket.destroy();
      await server.close();
    }

    const db = await connectDatabase(inject('mongoUri'), dbName, 1500);
    expect(await db.collection('members').countDocuments({ _id: 'in-flight' } as never)).toBe(1);
    await db.dropDatabase();
    await db.close();
  });
});

type LogLine = { level: number; msg: string; [key: string]: unknown };

/** The service as `npm start` runs it, on its own FerretDB, with its JSON log lines collected. */
function startService(overrides: NodeJS.ProcessEnv = {}): { child: ChildProcess; lines: LogLine[]; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null }> } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    PORT: '0',
    MONGODB_URI: '',
    DB_ENGINE: 'ferretdb-sqlite',
    TOOLS_DIR: testConfig().toolsDir,
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
    ...overrides,
  };
  const child = spawn(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['src/server.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const complete = out.split('\n');
    out = complete.pop() ?? '';
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  running.push(child);
  return { child, lines, stderr: () => err, exited };
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Every live process with its parent and command line, read from /proc. */
function processTable(): Array<{ pid: number; ppid: number; state: string; cmdline: string }> {
  const table = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      table.push({ pid: Number(entry), ppid: Number(ppid), state: state ?? '', cmdline });
    } catch {
      // the process ended while we read it
    }
  }
  return table;
}

/** The FerretDB launcher started (directly or through tsx's node child) under `root`. */
function launcherUnder(root: number): { pid: number; ppid: number } | undefined {
  const table = processTable();
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table) {
      if (inTree.has(p.ppid) && !inTree.has(p.pid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return table.find((p) => p.pid !== root && inTree.has(p.pid) && p.cmdline.includes('ferretdb-launcher'));
}

/** Gone means no /proc entry, or a zombie nobody has reaped yet (it no longer runs). */
const isGone = (pid: number) => {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
};

describe('graceful shutdown, out of process', () => {
  it('when the service gets SIGTERM, then it logs "shutdown complete", exits 0 and its FerretDB stops', { timeout: 60_000 }, async () => {
    const service = startService();
    const listening = await waitFor(() => service.lines.find((l) => /^listening on http:\/\/127\.0\.0\.1:\d+$/.test(l.msg)), 45_000, `the listening line (stderr: ${service.stderr()})`);
    const engineLine = service.lines.find((l) => l.msg.startsWith('database engine:'));
    expect(engineLine).toMatchObject({ engine: 'ferretdb-sqlite' });
    const url = listening.msg.replace('listening on ', '');

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', engine: 'ferretdb-sqlite' });
    const launcher = await waitFor(() => launcherUnder(service.child.pid!), 5000, 'the FerretDB launcher process');

    service.child.kill('SIGTERM');
    const exit = await service.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const messages = service.lines.map((l) => l.msg);
    expect(messages).toContain('shutting down: draining in-flight requests');
    expect(messages).toContain('shutdown complete');
    expect(service.lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(isGone(launcher.pid)).toBe(true);
    expect(await connectError(Number(new URL(url).port))).toBe('ECONNREFUSED');
  });

  it('when the service process is killed with SIGKILL, then its FerretDB launcher goes away within a few seconds', { timeout: 60_000 }, async () => {
    const service = startService();
    await waitFor(() => service.lines.find((l) => l.msg.startsWith('listening on ')), 45_000, `the listening line (stderr: ${service.stderr()})`);
    const launcher = await waitFor(() => launcherUnder(service.child.pid!), 5000, 'the FerretDB launcher process');
    expect(isGone(launcher.pid)).toBe(false);

    // The launcher's parent is the node process running src/server.ts (tsx runs it as its child).
    process.kill(launcher.ppid, 'SIGKILL');
    await waitFor(() => isGone(launcher.pid), 5000, `launcher ${launcher.pid} to exit after its parent ${launcher.ppid} was killed`);
    await service.exited;
  });

  it('when SIGTERM comes while a request outlives SHUTDOWN_TIMEOUT_MS, then the service exits 0 within about one timeout, not two, and logs no error for the closed client', { timeout: 60_000 }, async () => {
    // The slow request is a retry waiting for an idempotency claim that "another process" left behind: that process
    // (in-process here) crashed before recording its answer, so the claim's 30 s lease has to run out first.
    const dbName = freshDbName('shutdown_deadline');
    const faults = new ArmedFaults();
    const crashed = await startTestApp({ dbName, clock: systemClock, faults });
    const earn = { amount: 10, code: 'order' };
    const key = { 'Idempotency-Key': 'outlives-shutdown' };
    try {
      expect((await crashed.request('POST', '/v1/members', { token: ops, body: { memberId: 'slow' } })).status).toBe(201);
      faults.arm('idempotency:before-record');
      expect((await crashed.request('POST', '/v1/members/slow/points/earn', { token: service, body: earn, headers: key })).status).toBe(500);

      const timeoutMs = 1500;
      const svc = startService({ MONGODB_URI: inject('mongoUri'), MONGODB_DB_NAME: dbName, DB_ENGINE: 'auto', SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
      const listening = await waitFor(() => svc.lines.find((l) => l.msg.startsWith('listening on ')), 45_000, `the listening line (stderr: ${svc.stderr()})`);
      const url = listening.msg.replace('listening on ', '');
      const slow = fetch(`${url}/v1/members/slow/points/earn`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json', ...key },
        body: JSON.stringify(earn),
      }).then((r) => r.status, (err: Error) => err.message);
      await sleep(300);

      const signalled = performance.now();
      svc.child.kill('SIGTERM');
      const exit = await svc.exited;
      const took = performance.now() - signalled;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(took).toBeLessThan(1.8 * timeoutMs);
      expect(took).toBeGreaterThanOrEqual(timeoutMs * 0.9); // it did wait for the request, up to the deadline
      await slow; // cut off with its connection at the deadline
      const messages = svc.lines.map((l) => l.msg);
      expect(messages).toContain('shutdown complete');
      expect(svc.lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(JSON.stringify(svc.lines)).not.toMatch(/"level":(50|60)[^}]*MongoClientClosedError/);
    } finally {
      await crashed.close();
    }
  });
});
