/**
 * A fault run: several service processes over one FerretDB engine, driven by clients that retry every request with
 * its Idempotency-Key until it is answered, while processes are killed (SIGKILL from outside, or by themselves at a
 * crash point between two steps of a command) and restarted, and the engine itself is killed and restarted. Then it
 * checks, from outside, that nothing was lost, doubled or invented: every member's balance is exactly what the answers
 * said, a sample of requests replays its answer, and the ledger check finds no violation. `npm run faults` prints the
 * figures; test/faults.test.ts runs a short one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, repoRoot } from '../../src/config.js';
import { checkLedger } from '../../src/modules/ledger/index.js';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { startFerretdb } from '../../src/platform/db/ferretdb.js';
import type { RunningEngine } from '../../src/platform/db/provision.js';
import { generateSecret, serviceToken } from './api.js';

export type FaultRunOptions = {
  servers: number;
  seconds: number;
  members: number;
  /** Concurrent clients; each sends one request at a time and retries it until answered. */
  clients: number;
  /** A process is killed this often (alternately from outside and at a crash point of its own). */
  killEveryMs: number;
  /** The engine is killed this often (0: never). */
  engineKillEveryMs: number;
  log?: (line: string) => void;
  /** Where to write each service process's own log (level info: a line per request), for tracing a slow one. */
  logDir?: string;
  /** FerretDB's backend: SQLite in a directory of the run's own (default), or PostgreSQL (FERRETDB_POSTGRESQL_URL). */
  backend?: 'sqlite' | 'postgresql';
};

export type FaultRunReport = {
  requests: number;
  retried: number;
  kills: { outside: number; atCrashPoint: number; engine: number };
  /** How long a request that needed more than one attempt took from its first attempt to its answer, ms. */
  recovery: { p50: number; p99: number; max: number };
  /** The retried requests that took longest, with what each attempt met (ms since the first, process, outcome). */
  slowest: Array<{ what: string; ms: number; trail: string }>;
  /** Answers with status 500 (a 500 must never happen; 503 is the answer while the engine is down). */
  http500: number;
  answers: Record<string, number>;
  balanceMismatches: string[];
  replayMismatches: string[];
  violations: string[];
};

type Op = { member: string; path: string; body: unknown; key: string; kind: 'earn' | 'spend' | 'hold' | 'capture' | 'reverse'; amount: number };
type Answer = { status: number; body: { entry?: { id: string }; hold?: { id: string }; error?: { code: string } } };
type Server = { child: ChildProcess; url?: string; up: boolean };

const percentile = (sorted: number[], p: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) : 0);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function runFaults(opts: FaultRunOptions): Promise<FaultRunReport> {
  const log = opts.log ?? (() => {});
  const config = loadConfig({ ...process.env, JWT_SECRET: 'x'.repeat(32) });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'loyalty-faults-'));
  const listen = `127.0.0.1:${await freePort()}`;
  const backend = opts.backend ?? 'sqlite';
  const startEngine = () => startFerretdb({ toolsDir: config.toolsDir, backend, postgresqlUrl: config.db.ferretdbPostgresqlUrl, ...(backend === 'sqlite' ? { dataDir } : {}), listen });
  let engine: RunningEngine = await startEngine();
  const dbName = `faults_${randomUUID().slice(0, 8)}`;
  const secret = generateSecret();
  // One hash key for every process, as production requires (each process would otherwise hash devices its own way).
  const hashKey = generateSecret();
  const token = serviceToken(secret, 'faults');
  const report: FaultRunReport = {
    requests: 0, retried: 0, kills: { outside: 0, atCrashPoint: 0, engine: 0 }, recovery: { p50: 0, p99: 0, max: 0 }, slowest: [],
    http500: 0, answers: {}, balanceMismatches: [], replayMismatches: [], violations: [],
  };

  const servers: Server[] = [];
  function spawnServer(slot: number): void {
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, [path.join(repoRoot, 'scripts', 'lib', 'fault-server.ts')], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env, NODE_ENV: 'production', MONGODB_URI: engine.uri, MONGODB_DB_NAME: dbName, JWT_SECRET: secret, REFERRAL_HASH_KEY: hashKey, PORT: '0',
        LOG_LEVEL: opts.logDir ? 'info' : 'warn', DB_TIMEOUT_MS: '2000', SHUTDOWN_TIMEOUT_MS: '3000', LEDGER_SWEEP_INTERVAL_MS: '5000',
      },
    });
    const server: Server = { child, up: false };
    servers[slot] = server;
    if (opts.logDir) {
      const file = createWriteStream(path.join(opts.logDir, `process-${slot}.log`), { flags: 'a' });
      child.stdout?.pipe(file, { end: false });
      child.stderr?.pipe(file, { end: false });
    }
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('FAULT_SERVER ')) {
        server.url = (JSON.parse(line.slice('FAULT_SERVER '.length)) as { url: string }).url;
        server.up = true;
      }
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('FAULT_SERVER killed at')) log(`  server ${slot}: ${line.slice('FAULT_SERVER '.length)}`);
    });
    child.once('exit', () => {
      server.up = false;
      if (!stopping) setTimeout(() => spawnServer(slot), 300);
    });
  }
  let stopping = false;
  for (let i = 0; i < opts.servers; i++) spawnServer(i);
  const live = () => servers.filter((s) => s.up && s.url);
  const deadline = Date.now() + 60_000;
  while (live().length < opts.servers) {
    if (Date.now() > deadline) throw new Error('the service processes did not start within 60 s');
    await sleep(100);
  }
  log(`${opts.servers} service processes up over ${engine.description}`);

  /** Sends one request until it is answered (a status below 500), on whichever process is up, and times it. */
  async function settle(op: Omit<Op, 'key'> & { key?: string }): Promise<Answer> {
    const key = op.key ?? randomUUID();
    const started = performance.now();
    const trail: string[] = [];
    const note = (slot: number, what: string) => trail.push(`${Math.round(performance.now() - started)}ms p${slot} ${what}`);
    for (let attempt = 1; ; attempt++) {
      const up = live();
      const target = up[Math.floor(Math.random() * up.length)];
      if (!target) {
        await sleep(50);
        continue;
      }
      const slot = servers.indexOf(target);
      let res: Response;
      try {
        res = await fetch(`${target.url as string}${op.path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(op.body),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (err) {
        note(slot, ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name) || 'error');
        await sleep(50 + Math.random() * 150);
        continue;
      }
      const body = (await res.json().catch(() => ({}))) as Answer['body'];
      if (res.status >= 500) {
        note(slot, `${res.status} ${body.error?.code ?? ''}`);
        if (res.status === 500) report.http500++;
        await sleep(50 + Math.random() * 150);
        continue;
      }
      report.requests++;
      if (attempt > 1) {
        note(slot, String(res.status));
        report.retried++;
        const ms = performance.now() - started;
        waits.push(ms);
        slowest.push({ what: `${op.kind} ${op.path}`, ms: Math.round(ms), trail: trail.join(', ') });
        slowest.sort((x, y) => y.ms - x.ms).splice(5);
      }
      const label = `${op.kind} ${res.status}${body.error ? ` ${body.error.code}` : ''}`;
      report.answers[label] = (report.answers[label] ?? 0) + 1;
      const answer = { status: res.status, body };
      if (Math.random() < 0.1) sample.push({ op: { ...op, key }, answer });
      return answer;
    }
  }
  const waits: number[] = [];
  const slowest: FaultRunReport['slowest'] = [];
  const sample: Array<{ op: Op; answer: Answer }> = [];

  // Members, each with an opening balance, registered before any fault.
  const members = Array.from({ length: opts.members }, (_, i) => `fault-${String(i + 1).padStart(3, '0')}`);
  const expected = new Map<string, number>();
  const earns = new Map<string, Array<{ id: string; left: number }>>();
  for (const m of members) {
    const reg = await settle({ member: m, path: '/v1/members', body: { memberId: m }, kind: 'earn', amount: 0 });
    if (reg.status !== 201 && reg.status !== 409) throw new Error(`registering ${m}: ${reg.status}`);
    const opening = await settle({ member: m, path: `/v1/members/${m}/points/earn`, body: { amount: 1000, code: 'order' }, kind: 'earn', amount: 1000 });
    expected.set(m, 1000);
    earns.set(m, [{ id: opening.body.entry?.id as string, left: 1000 }]);
  }
  report.requests = 0;
  report.retried = 0;
  report.answers = {};
  sample.length = 0; // registration is not an idempotent route: only ledger requests are replayed
  waits.length = 0;
  slowest.length = 0;

  /** One member-level operation chosen at random, applied to the expected balance by its answer. */
  async function oneOperation(): Promise<void> {
    const m = members[Math.floor(Math.random() * members.length)] as string;
    const roll = Math.random();
    if (roll < 0.4) {
      const amount = 1 + Math.floor(Math.random() * 50);
      const a = await settle({ member: m, path: `/v1/members/${m}/points/earn`, body: { amount, code: 'order' }, kind: 'earn', amount });
      if (a.status === 201) {
        expected.set(m, (expected.get(m) ?? 0) + amount);
        earns.get(m)?.push({ id: a.body.entry?.id as string, left: amount });
      }
    } else if (roll < 0.7) {
      const amount = 1 + Math.floor(Math.random() * 40);
      const a = await settle({ member: m, path: `/v1/members/${m}/points/spend`, body: { amount, code: 'redemption' }, kind: 'spend', amount });
      if (a.status === 201) expected.set(m, (expected.get(m) ?? 0) - amount);
    } else if (roll < 0.85) {
      const hold = await settle({ member: m, path: `/v1/members/${m}/points/holds`, body: { amount: 20, code: 'redemption' }, kind: 'hold', amount: 20 });
      if (hold.status !== 201) return;
      const id = hold.body.hold?.id as string;
      const cap = await settle({ member: m, path: `/v1/points/holds/${id}/capture`, body: { amount: 12 }, kind: 'capture', amount: 12 });
      if (cap.status === 201) expected.set(m, (expected.get(m) ?? 0) - 12);
    } else {
      const candidates = (earns.get(m) ?? []).filter((e) => e.left > 0);
      const target = candidates[Math.floor(Math.random() * candidates.length)];
      if (!target) return;
      const amount = Math.min(target.left, 1 + Math.floor(Math.random() * 5));
      target.left -= amount; // reserved before the answer, so two clients never reverse more than is left
      const a = await settle({ member: m, path: `/v1/points/entries/${target.id}/reverse`, body: { amount, code: 'order_refund' }, kind: 'reverse', amount });
      if (a.status === 201) expected.set(m, (expected.get(m) ?? 0) - amount);
      else target.left += amount;
    }
  }

  const until = Date.now() + opts.seconds * 1000;
  const clients = Array.from({ length: opts.clients }, async () => {
    while (Date.now() < until) await oneOperation();
  });

  // The faults: a process killed every killEveryMs (never the last one up), the engine every engineKillEveryMs.
  const killer = (async () => {
    let turn = 0;
    let nextEngineKill = opts.engineKillEveryMs > 0 ? Date.now() + opts.engineKillEveryMs : Number.POSITIVE_INFINITY;
    while (Date.now() < until - 2000) {
      await sleep(opts.killEveryMs);
      if (Date.now() >= nextEngineKill) {
        nextEngineKill += opts.engineKillEveryMs;
        log('  engine: SIGKILL, restart in 1 s');
        if (engine.pid) process.kill(engine.pid, 'SIGKILL');
        report.kills.engine++;
        await sleep(1000);
        engine = await startEngine();
        continue;
      }
      const up = live();
      if (up.length < 2) continue;
      const victim = up[Math.floor(Math.random() * up.length)] as Server;
      if (turn++ % 2 === 0) {
        victim.child.kill('SIGKILL');
        report.kills.outside++;
        log(`  server ${servers.indexOf(victim)}: SIGKILL from outside`);
      } else {
        victim.child.stdin?.write('arm\n');
        report.kills.atCrashPoint++;
      }
    }
  })();
  await Promise.all([...clients, killer]);

  // Replays: a sample of answered requests, sent again with their keys, must answer the same.
  while (live().length < opts.servers) await sleep(100);
  for (const { op, answer } of sample) {
    const again = await settle(op);
    const same = again.status === answer.status && (again.body.entry?.id ?? again.body.error?.code) === (answer.body.entry?.id ?? answer.body.error?.code);
    if (!same) report.replayMismatches.push(`${op.kind} ${op.path} key ${op.key}: ${answer.status} then ${again.status}`);
  }

  stopping = true;
  await Promise.all(
    servers.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      s.child.kill('SIGTERM');
      await new Promise((r) => s.child.once('exit', r));
    }),
  );

  const db = await connectDatabase(engine.uri, dbName, 5000);
  try {
    for (const m of members) {
      const head = await db.collection('points_entries').find({ memberId: m, kind: { $ne: 'refusal' } }).sort({ seq: -1 }).limit(1).next();
      const total = head ? (head.state.available as number) + (head.state.held as number) : 0;
      if (total !== expected.get(m)) report.balanceMismatches.push(`${m}: the answers add up to ${expected.get(m)}, the ledger holds ${total}`);
    }
    report.violations = (await checkLedger(db)).violations;
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await db.close();
    await engine.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const sorted = waits.sort((x, y) => x - y);
  report.slowest = slowest;
  report.recovery = { p50: Math.round(percentile(sorted, 0.5)), p99: Math.round(percentile(sorted, 0.99)), max: Math.round(sorted.at(-1) ?? 0) };
  return report;
}
