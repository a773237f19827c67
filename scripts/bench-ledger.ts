/**
 * Benchmarks the points ledger on this machine, in one run, and prints the tables docs/PERFORMANCE.md quotes.
 *
 *     npm run bench:ledger -- [--engine ferretdb-sqlite|ferretdb-postgresql|memory-server] [--duration 10] [--members 1000] [--profile]
 *
 * The database comes from provisionDatabase (MONGODB_URI, else --engine / DB_ENGINE, else the embedded default).
 * The service runs in a child process (scripts/lib/bench-server.ts) on 127.0.0.1; autocannon drives it from this
 * process with a fresh Idempotency-Key and ref per request. Measured, each for --duration seconds:
 *   earn over many members and on one hot member, at 32 and 64 connections: throughput, p50/p99;
 *   the driver ceiling: the same database work as an earn through the mongodb driver (scripts/lib/ceiling.ts),
 *     without and with the member read, at the same concurrency, after the service has stopped;
 *   balance reads against GET /healthz of the same service (the HTTP ceiling: routing, no database);
 *   the entry insert through mongoose documents (Model.create) against the driver (insertOne), and the engine's
 *     batched-insert ceiling (entry documents in insertMany batches of 50 from 8 callers) that issue 11's targets use;
 *   check-ins (POST /v1/me/checkins), each by a member registered for it beforehand and not yet checked in,
 *     against the earns of the same run (scripts/lib/bench-checkins.ts); registering is not measured;
 *   redemptions of a long-tail catalogue, and a flash sale of 1,000 units to 2,000 members at once
 *     (scripts/lib/bench-redemptions.ts), against the earns of the same run;
 *   referral binds and the invitees' qualifying first orders, over a few and over many referrers
 *     (scripts/lib/bench-referrals.ts), against the earns and events of the same run;
 *   the database operations per request, counted in the service; the CPU seconds the service, the engine and the
 *   load generator used during the HTTP runs; with --profile, where the service's CPU goes (scripts/lib/cpu-profile.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Db } from 'mongodb';
import { loadConfig, repoRoot } from '../src/config.js';
import { checkLedger } from '../src/modules/ledger/index.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { provisionDatabase, type Provisioned } from '../src/platform/db/provision.js';
import { generateSecret, opsToken, orderRules, putRules, seedMembers, serviceToken } from './lib/api.js';
import { registerFresh, type FreshMembers } from './lib/bench-checkins.js';
import { benchRedemptions, ENTRIES_PER_REDEMPTION, FLASH_CONNECTIONS, FLASH_MEMBERS, FLASH_UNITS, LONG_TAIL, type HttpRun } from './lib/bench-redemptions.js';
import { benchReferrals, REFERRAL_CONNECTIONS, referralsTable } from './lib/bench-referrals.js';
import type { BenchServerCommand, BenchServerReply } from './lib/bench-server.js';
import { driverBalanceRead, driverEarn, earnDocuments, entryInserts, prepareCeilingDb, runFor, type RunStats } from './lib/ceiling.js';
import { summarizeProfile, type CpuProfile } from './lib/cpu-profile.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    duration: { type: 'string', default: '10' },
    members: { type: 'string', default: '1000' },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});
const out = (line = '') => process.stdout.write(`${line}\n`);
const engines = ['memory-server', 'ferretdb-sqlite', 'ferretdb-postgresql'];
if (values.engine && !engines.includes(values.engine)) throw new Error(`--engine must be one of ${engines.join(', ')}`);
const seconds = Number(values.duration);
const memberCount = Number(values.members);
if (!(seconds >= 1 && seconds <= 600) || !(memberCount >= 1 && memberCount <= 100_000)) throw new Error('--duration is 1–600 s, --members 1–100000');
const CONCURRENCY = [32, 64] as const;
/** The engine's batched-insert ceiling: entry-sized documents in insertMany batches of BATCH from BATCH_CALLERS callers. */
const BATCH = 50;
const BATCH_CALLERS = 8;
/** The driver ceilings (scripts/lib/ceiling.ts): what each run writes and reads per earn. */
const CEILINGS = {
  A: { readMember: false, writeAccount: true },
  B: { readMember: true, writeAccount: true },
  C: { readMember: true, writeAccount: false },
};

const runId = randomBytes(4).toString('hex');
const dbName = `bench_${runId}`;
const secret = generateSecret();
/** Shared by every server child, as production requires of its processes. */
const hashKey = generateSecret();
const token = serviceToken(secret, 'bench');
const config = loadConfig({ ...process.env, JWT_SECRET: secret, ...(values.engine ? { DB_ENGINE: values.engine } : {}) });
const memberIds = Array.from({ length: memberCount }, (_, i) => `bench-${String(i + 1).padStart(6, '0')}`);
const hotMember = 'bench-hot';
const anyMember = () => memberIds[Math.floor(Math.random() * memberIds.length)] as string;
const lotExpiry = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 11, 31, 23, 59, 59, 999));

/** CPU seconds a process has used so far (Linux /proc), or NaN where that cannot be read. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ, 100 on Linux

type CpuUse = { service: number; engine: number; bench: number; requests: number };
/** Starts counting the CPU the service, the engine and this process use; the function it returns adds the use to `into`. */
async function meterCpu(servicePid: number | undefined, enginePid: number | undefined, into: CpuUse): Promise<(requests: number) => Promise<void>> {
  const before = { service: await cpuSeconds(servicePid), engine: await cpuSeconds(enginePid), bench: process.cpuUsage() };
  return async (requests) => {
    const bench = process.cpuUsage(before.bench);
    into.service += (await cpuSeconds(servicePid)) - before.service;
    into.engine += (await cpuSeconds(enginePid)) - before.engine;
    into.bench += (bench.user + bench.system) / 1e6;
    into.requests += requests;
  };
}

type ServerChild = { url: string; readyUs: number; pid: number | undefined; ask(cmd: BenchServerCommand['cmd']): Promise<BenchServerReply>; stop(): Promise<void> };

/** Starts scripts/lib/bench-server.ts with the service's configuration and waits for its URL. */
async function startServerChild(uri: string, nodeFlags: string[] = []): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path.join(repoRoot, 'scripts/lib/bench-server.ts')], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, MONGODB_URI: uri, MONGODB_DB_NAME: dbName, JWT_SECRET: secret, REFERRAL_HASH_KEY: hashKey, JWT_ALGORITHM: 'HS256', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { url, readyUs } = await new Promise<{ url: string; readyUs: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('BENCH_SERVER ')) resolve(JSON.parse(line.slice(13)) as { url: string; readyUs: number });
      else process.stdout.write(`[service] ${line}\n`);
    });
    child.once('exit', (code) => reject(new Error(`the service exited with ${code} before listening`)));
  });
  return {
    url,
    readyUs,
    pid: child.pid,
    ask: (cmd) =>
      new Promise((resolve) => {
        child.once('message', (reply) => resolve(reply as BenchServerReply));
        child.send({ cmd });
      }),
    async stop() {
      child.stdin?.end();
      await exited;
    },
  };
}

type HttpStats = { ok: number; sent: number; bad: number; rps: number; p50: number; p99: number; statuses: Record<string, number> };
/** A request; `token` replaces the service token (a member's own), `idempotent` sends a key with a bodiless POST. */
type Req = { method: 'GET' | 'POST'; path: string; body?: unknown; token?: string; idempotent?: boolean };

/** Drives the service with autocannon; every request is built fresh (its own Idempotency-Key and body). */
async function httpRun(url: string, connections: number, build: () => Req, limit: { seconds?: number; amount?: number; timeoutSeconds?: number } = {}): Promise<HttpStats> {
  const result = await autocannon({
    url,
    connections,
    ...(limit.amount ? { amount: limit.amount } : { duration: limit.seconds ?? seconds }),
    timeout: limit.timeoutSeconds ?? 30,
    requests: [
      {
        setupRequest: (req) => {
          const r = build();
          return {
            ...req,
            method: r.method,
            path: r.path,
            headers: {
              authorization: `Bearer ${r.token ?? token}`,
              ...(r.body === undefined ? {} : { 'content-type': 'application/json' }),
              ...(r.body === undefined && !r.idempotent ? {} : { 'idempotency-key': randomBytes(12).toString('base64url') }),
            },
            ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
          };
        },
      },
    ],
  });
  const bad = result.non2xx + result.errors;
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count = 0 }]) => [code, count]));
  if (result.errors) statuses['transport error'] = result.errors;
  return { ok: result['2xx'], sent: result.requests.sent, bad, rps: result['2xx'] / result.duration, p50: result.latency.p50, p99: result.latency.p99, statuses };
}

/**
 * Waits for the work a finished run left behind: autocannon stops at its deadline, but the service still completes
 * the requests in flight, and the next measurement must not pay for them. One database-backed read after a pause
 * queues behind that work.
 */
async function settle(url: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 500));
  await fetch(`${url}/v1/members/${hotMember}/points`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
}

const earnOf = (member: () => string) => (): Req => ({
  method: 'POST',
  path: `/v1/members/${member()}/points/earn`,
  body: { amount: 1 + Math.floor(Math.random() * 100), code: 'order', ref: { type: 'order', id: randomBytes(8).toString('hex') } },
});
const balanceOf = (member: () => string) => (): Req => ({ method: 'GET', path: `/v1/members/${member()}/points` });
/** An order.paid of 600 in apparel: all three orderRules fire, so each event commits exactly three points entries. */
const RULES_PER_EVENT = 3;
/** An event writes one points entry for all the rules it fires. */
const ENTRIES_PER_EVENT = 1;
const eventOf = (member: () => string) => (): Req => {
  const orderId = randomBytes(8).toString('hex');
  return {
    method: 'POST',
    path: '/v1/events',
    body: { eventId: `paid-${orderId}`, memberId: member(), type: 'order.paid', occurredAt: new Date().toISOString(), properties: { orderId, amount: 600, category: 'apparel' } },
  };
};
const healthz = (): Req => ({ method: 'GET', path: '/healthz' });
/** A first check-in of the day: every request a member of its own (the pool hands out each once). */
const checkinOf = (pool: FreshMembers) => (): Req => ({ method: 'POST', path: '/v1/me/checkins', token: pool.next().token, idempotent: true });
/**
 * Points entries a first check-in commits under the default program (docs/DECISIONS.md): the cycle's first day (5
 * points; its growth goes to the growth ledger); no milestone, and no earning rule reacts to member.checked_in here.
 */
const ENTRIES_PER_CHECKIN = 1;
/** Members registered for a check-in measurement, per expected check-in (expected: at most the earn rate of the run). */
const CHECKIN_HEADROOM = 1.5;
/** Check-ins whose database operations are counted (8 connections), each by a fresh member. */
const COUNTED_CHECKINS = 100;

/** Answers other than 201 Created (requests still in flight when a measurement ended are not answers). */
const nonCreated = (s: HttpStats) => Object.entries(s.statuses).reduce((n, [code, count]) => (code === '201' ? n : n + count), 0);
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '–');
const progress = (name: string, s: { rps?: number; ops?: number; seconds?: number; p50: number; p99: number; bad?: number; errors?: number; firstError?: string }) =>
  out(`  ${name}: ${f0(s.rps ?? (s.ops ?? 0) / (s.seconds ?? 1))}/s  p50 ${f1(s.p50)} ms  p99 ${f1(s.p99)} ms${(s.bad ?? s.errors) ? `  FAILED ${s.bad ?? s.errors}${s.firstError ? ` (${s.firstError})` : ''}` : ''}`);

async function main(): Promise<void> {
  const cpus = os.cpus();
  out(`# ledger benchmark`);
  out(`command: npm run bench:ledger -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  out(`machine: ${cpus[0]?.model ?? 'unknown cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; node ${process.version}`);
  let engine: Provisioned | undefined;
  let server: ServerChild | undefined;
  try {
    engine = await provisionDatabase({ db: config.db, toolsDir: config.toolsDir, log: (m) => out(`[provision] ${m}`) });
    out(`engine: ${engine.description}`);
    out(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min; other work on the machine skews every figure)`);
    out(`settings: ${seconds} s per measurement, ${memberCount} members, connections ${CONCURRENCY.join(' / ')}; service in a child process, autocannon and the driver runs in this one`);
    server = await startServerChild(engine.uri);
    const { url } = server;
    out(`seeding ${memberCount} members and ${hotMember} with an opening earn each, and ${COUNTED_CHECKINS} members for counting a check-in's operations`);
    await seedMembers(url, token, [...memberIds, hotMember], { openingPoints: 1000, concurrency: 16 });
    const counted = (await registerFresh(url, token, secret, 'bench-ops-', COUNTED_CHECKINS)).pool;
    // Earns answered 201 and earns sent: the store must hold at least the first and at most the second (plus the seeds).
    const earns = { ok: memberCount + 1, sent: memberCount + 1 };
    const earnRun = async (c: number, member: () => string, limit: { seconds?: number; amount?: number } = {}) => {
      const s = await httpRun(url, c, earnOf(member), limit);
      earns.ok += s.ok;
      earns.sent += s.sent;
      await settle(url);
      return s;
    };
    const checkinRun = async (c: number, pool: FreshMembers, limit: { seconds?: number; amount?: number } = {}) => {
      const s = await httpRun(url, c, checkinOf(pool), limit);
      earns.ok += ENTRIES_PER_CHECKIN * s.ok;
      earns.sent += ENTRIES_PER_CHECKIN * s.sent;
      return s;
    };

    await earnRun(32, anyMember, { seconds: Math.min(3, seconds) }); // warm-up, not reported
    const opsPer: Record<string, Record<string, number>> = {};
    for (const [name, run] of [
      ['earn', () => earnRun(8, anyMember, { amount: 100 })],
      ['balance read', () => httpRun(url, 8, balanceOf(anyMember), { amount: 100 })],
      ['hot earn', () => earnRun(8, () => hotMember, { amount: 100 })],
      ['check-in', () => checkinRun(8, counted, { amount: COUNTED_CHECKINS })],
    ] as const) {
      await server.ask('count-start');
      const s = await run();
      const { counts = {} } = await server.ask('count-stop');
      opsPer[name] = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / s.ok]));
      await settle(url);
    }

    out(`\n## HTTP (service ${url})`);
    const cpuBefore = { service: await cpuSeconds(server.pid), engine: await cpuSeconds(engine.pid), bench: process.cpuUsage() };
    const wallBefore = performance.now();
    const http: Record<string, HttpStats> = {};
    const measure = async (key: string, c: number, run: () => Promise<HttpStats>) => {
      http[`${key}@${c}`] = await run();
      progress(`${key} c=${c}`, http[`${key}@${c}`] as HttpStats);
      await settle(url);
    };
    const cpuPer = { earn: { service: 0, engine: 0, bench: 0, requests: 0 }, 'check-in': { service: 0, engine: 0, bench: 0, requests: 0 } };
    const metered = (kind: keyof typeof cpuPer, run: () => Promise<HttpStats>) => async () => {
      const stop = await meterCpu(server?.pid, engine?.pid, cpuPer[kind]);
      const s = await run();
      await stop(s.ok);
      return s;
    };
    for (const c of CONCURRENCY) await measure('earn', c, metered('earn', () => earnRun(c, anyMember)));
    for (const c of CONCURRENCY) await measure('balance', c, () => httpRun(url, c, balanceOf(anyMember)));
    for (const c of CONCURRENCY) await measure('healthz', c, () => httpRun(url, c, healthz));
    for (const c of CONCURRENCY) await measure('hot earn', c, () => earnRun(c, () => hotMember));
    for (const c of CONCURRENCY) await measure('hot balance', c, () => httpRun(url, c, balanceOf(() => hotMember)));
    await putRules(url, opsToken(secret, 'bench'), orderRules);
    {
      // What one event costs the database, counted like the requests above (inside the HTTP window: 100 events).
      await server.ask('count-start');
      const s = await httpRun(url, 8, eventOf(anyMember), { amount: 100 });
      const { counts = {} } = await server.ask('count-stop');
      opsPer[`event (order.paid firing ${RULES_PER_EVENT} rules)`] = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / s.ok]));
      earns.ok += ENTRIES_PER_EVENT * s.ok;
      earns.sent += ENTRIES_PER_EVENT * s.sent;
      await settle(url);
    }
    for (const c of CONCURRENCY) {
      await measure('events', c, async () => {
        const s = await httpRun(url, c, eventOf(anyMember));
        earns.ok += ENTRIES_PER_EVENT * s.ok;
        earns.sent += ENTRIES_PER_EVENT * s.sent;
        return s;
      });
    }
    const wall = (performance.now() - wallBefore) / 1000;
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const cpuLine = `CPU seconds used during the HTTP measurements (${f0(wall)} s of wall time, ${cpus.length} cores): service ${f1((await cpuSeconds(server.pid)) - cpuBefore.service)}, database engine ${f1((await cpuSeconds(engine.pid)) - cpuBefore.engine)}, load generator ${f1((benchCpu.user + benchCpu.system) / 1e6)}`;
    out(cpuLine);

    // Check-ins: a fresh member per request. A check-in does more than an earn (it includes two), so the fastest earn
    // rate of this run bounds how many members a measurement can use; registering them is not measured.
    const pools: Record<number, FreshMembers> = {};
    const fastestEarn = Math.max(...CONCURRENCY.flatMap((c) => [http[`earn@${c}`]?.rps ?? 0, http[`hot earn@${c}`]?.rps ?? 0]));
    for (const c of CONCURRENCY) {
      const need = Math.ceil(fastestEarn * seconds * CHECKIN_HEADROOM);
      const { pool, seconds: took } = await registerFresh(url, token, secret, `bench-c${c}-`, need);
      pools[c] = pool;
      out(`  registered ${need} fresh members for check-ins at c=${c} in ${f1(took)} s (not measured)`);
    }
    await settle(url);
    for (const c of CONCURRENCY) await measure('check-in', c, metered('check-in', () => checkinRun(c, pools[c] as FreshMembers)));
    const ms = (sec: number, n: number) => f1((1000 * sec) / n);
    const cpuPerLine = `CPU ms per successful request (service / database engine / load generator; the in-flight requests of each measurement's end included): ${Object.entries(cpuPer)
      .map(([k, u]) => `${k} ${ms(u.service, u.requests)} / ${ms(u.engine, u.requests)} / ${ms(u.bench, u.requests)}`)
      .join('; ')}`;
    out(cpuPerLine);

    // The points mall (issue 12): long-tail redemptions, then a flash sale (scripts/lib/bench-redemptions.ts).
    const settled: HttpRun = (u, c, build, limit) =>
      httpRun(u, c, build, limit).then(async (s) => {
        await settle(url);
        return s;
      });
    const tokens = { service: token, ops: opsToken(secret, 'bench'), secret };
    const mall = await benchRedemptions(url, tokens, anyMember, seconds, settled);
    progress('redemption c=32', mall.longTail);
    progress(`flash sale c=${FLASH_CONNECTIONS}`, mall.flash);
    // Each redemption writes two points entries (hold, then capture or release); the flash members' opening earns one.
    earns.ok += ENTRIES_PER_REDEMPTION * (mall.longTail.ok + mall.flash.issued + mall.flash.outOfStock) + mall.flashMembersSeeded;
    earns.sent += ENTRIES_PER_REDEMPTION * (mall.longTail.sent + mall.flash.sent) + mall.flashMembersSeeded;
    // Referrals (issue 13): a bind does more than an earn, so the fastest earn rate bounds the invitees a measurement uses.
    const referrals = await benchReferrals(url, tokens, { seconds, poolSize: Math.ceil(fastestEarn * seconds), entriesPerOrder: ENTRIES_PER_EVENT, runId }, settled);
    for (const c of referrals.cases) {
      progress(`referral bind, ${c.referrers} referrers, c=${REFERRAL_CONNECTIONS}`, c.binds);
      progress(`qualifying order.paid, ${c.referrers} referrers, c=${REFERRAL_CONNECTIONS}`, c.orders);
    }
    earns.ok += referrals.entries.ok; // the orders' rule entries and both sides' referral entries
    earns.sent += referrals.entries.sent;
    await server.stop(); // writes the account caches
    server = undefined;

    const profiles: Array<[string, CpuProfile, number]> = [];
    if (values.profile) {
      const profilesDir = path.join(repoRoot, 'load', 'results', 'profiles');
      for (const [name, run] of [
        ['earn, many members, c=32', (u: string) => httpRun(u, 32, earnOf(anyMember))],
        ['balance read, many members, c=32', (u: string) => httpRun(u, 32, balanceOf(anyMember))],
        ['events, many members, c=32', (u: string) => httpRun(u, 32, eventOf(anyMember))],
      ] as const) {
        const dir = path.join(profilesDir, `${runId}-${name.split(',')[0]?.replace(/\W+/g, '-')}`);
        server = await startServerChild(engine.uri, ['--cpu-prof', '--cpu-prof-dir', dir]);
        const { readyUs } = server;
        const s = await run(server.url);
        if (name.startsWith('earn')) Object.assign(earns, { ok: earns.ok + s.ok, sent: earns.sent + s.sent });
        if (name.startsWith('events')) Object.assign(earns, { ok: earns.ok + ENTRIES_PER_EVENT * s.ok, sent: earns.sent + ENTRIES_PER_EVENT * s.sent });
        await settle(server.url);
        await server.stop();
        server = undefined;
        // One profile per thread (tsx's module loader has its own); the main thread's id is 0.
        const file = (await readdir(dir)).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
        if (!file) throw new Error(`no main-thread profile in ${dir}`);
        profiles.push([`${name}: ${f0(s.rps)}/s while profiled, ${path.relative(repoRoot, path.join(dir, file))}`, JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile, readyUs]);
      }
    }

    const conn = await connectDatabase(engine.uri, dbName, 10_000);
    const db = conn.db as unknown as Db;
    const entries = await db.collection('points_entries').countDocuments();
    const report = await checkLedger(conn);

    out(`\n## driver ceiling (same engine, database ${dbName}_ceiling)`);
    const cdb = conn.getClient().db(`${dbName}_ceiling`) as unknown as Db;
    await prepareCeilingDb(cdb, [...memberIds, hotMember]);
    const docs = earnDocuments(lotExpiry);
    const drv: Record<string, RunStats> = {};
    const dmeasure = async (key: string, c: number, op: () => Promise<void>) => {
      drv[`${key}@${c}`] = await runFor(seconds, c, op);
      progress(`${key} c=${c}`, drv[`${key}@${c}`] as RunStats);
    };
    for (const [prefix, pick] of [['', anyMember], ['hot ', () => hotMember]] as const) {
      for (const [variant, opts] of Object.entries(CEILINGS)) {
        for (const c of CONCURRENCY) await dmeasure(`${prefix}ceiling ${variant}`, c, driverEarn(cdb, pick, docs, opts));
      }
    }
    for (const c of CONCURRENCY) await dmeasure('findOne by _id', c, driverBalanceRead(cdb, anyMember));
    const inserts = entryInserts(conn.useDb(`${dbName}_ceiling`), lotExpiry);
    await inserts.init();
    await dmeasure('entry insert: mongoose Model.create', 32, inserts.mongoose);
    await dmeasure('entry insert: driver insertOne', 32, inserts.driver);
    await dmeasure(`entry insertMany of ${BATCH}`, BATCH_CALLERS, inserts.batch(BATCH));

    await conn.dropDatabase(); // a PostgreSQL backend or an external server would otherwise keep the data
    await cdb.dropDatabase();
    await conn.close();

    const ratio = (a: number | undefined, b: number | undefined) => (a && b ? a / b : NaN);
    const dops = (k: string) => (drv[k] ? drv[k].ops / drv[k].seconds : NaN);
    out(`\nload average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
    out(`\n## results — ${engine.description}, ${cpus.length} × ${cpus[0]?.model ?? '?'}, node ${process.version}`);
    out(`\n### earn: HTTP vs the driver ceiling (target: earn / ceiling ≥ 0.7)\n`);
    out('ceiling A = idempotency claim insert + entry insert + idempotency result insert + accounts replaceOne, per earn');
    out('ceiling B = A + the member read by _id');
    out('ceiling C = B without the accounts replaceOne (the service writes that cache in the background, coalesced per account)\n');
    out('| case | conn. | HTTP earn /s | p50 ms | p99 ms | failed | ceiling A /s | earn / A | ceiling B /s | earn / B | ceiling C /s | earn / C |');
    out('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [label, k, d] of [['many members', 'earn', ''], ['one hot member', 'hot earn', 'hot ']] as const) {
      for (const c of CONCURRENCY) {
        const h = http[`${k}@${c}`] as HttpStats;
        const cells = Object.keys(CEILINGS).map((v) => {
          const x = dops(`${d}ceiling ${v}@${c}`);
          return `${f0(x)} | ${f2(ratio(h.rps, x))}`;
        });
        out(`| ${label} | ${c} | ${f0(h.rps)} | ${f1(h.p50)} | ${f1(h.p99)} | ${h.bad} | ${cells.join(' | ')} |`);
      }
    }
    out(`\n### balance read vs GET /healthz of the same service (the HTTP ceiling: routing only, no database; target ≥ 0.5)\n`);
    out('| case | conn. | balance /s | p50 ms | p99 ms | failed | /healthz /s | balance / healthz | driver findOne by _id (absent) /s |');
    out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [label, k] of [['many members', 'balance'], ['one hot member', 'hot balance']] as const) {
      for (const c of CONCURRENCY) {
        const h = http[`${k}@${c}`] as HttpStats;
        const z = http[`healthz@${c}`] as HttpStats;
        out(`| ${label} | ${c} | ${f0(h.rps)} | ${f1(h.p50)} | ${f1(h.p99)} | ${h.bad} | ${f0(z.rps)} | ${f2(ratio(h.rps, z.rps))} | ${f0(dops(`findOne by _id@${c}`))} |`);
      }
    }
    out(`\n### events vs earn in this run (order.paid firing ${RULES_PER_EVENT} rules, many members; target events / earn ≥ 0.5)\n`);
    out('| conn. | events /s | p50 ms | p99 ms | failed | earn /s | events / earn |');
    out('|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CONCURRENCY) {
      const e = http[`events@${c}`] as HttpStats;
      const h = http[`earn@${c}`] as HttpStats;
      out(`| ${c} | ${f0(e.rps)} | ${f1(e.p50)} | ${f1(e.p99)} | ${e.bad} | ${f0(h.rps)} | ${f2(ratio(e.rps, h.rps))} |`);
    }
    out(`\n### check-ins vs earn in this run (POST /v1/me/checkins, each by a fresh member; the ratio has no target yet)\n`);
    out('| conn. | check-ins /s | p50 ms | p99 ms | non-201 | earn /s | check-ins / earn | members registered | members used |');
    out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CONCURRENCY) {
      const k = http[`check-in@${c}`] as HttpStats;
      const h = http[`earn@${c}`] as HttpStats;
      const p = pools[c] as FreshMembers;
      out(`| ${c} | ${f0(k.rps)} | ${f1(k.p50)} | ${f1(k.p99)} | ${nonCreated(k)} | ${f0(h.rps)} | ${f2(ratio(k.rps, h.rps))} | ${p.size} | ${Math.min(k.sent, p.size)} |`);
    }
    for (const c of CONCURRENCY) {
      const k = http[`check-in@${c}`] as HttpStats;
      const other = Object.entries(k.statuses).filter(([code]) => code !== '201');
      const overdrawn = (pools[c] as FreshMembers).overdrawn;
      const inFlight = k.sent - Object.values(k.statuses).reduce((a, b) => a + b, 0);
      out(`- c=${c}: answers other than 201: ${other.map(([code, n]) => `${code} × ${n}`).join(', ') || 'none'}; ${inFlight} still in flight at the deadline (not counted)${overdrawn ? `; THE POOL RAN OUT: ${overdrawn} requests reused a member` : ''}`);
    }
    out(`\n${cpuPerLine}`);
    out(`\n### the entry insert: mongoose document vs driver (32 concurrent)\n`);
    out('| path | inserts /s | p50 ms | p99 ms | CPU µs / insert (this process) |');
    out('|---|---:|---:|---:|---:|');
    for (const k of ['entry insert: mongoose Model.create', 'entry insert: driver insertOne']) {
      const s = drv[`${k}@32`] as RunStats;
      out(`| ${k.replace('entry insert: ', '')} | ${f0(dops(`${k}@32`))} | ${f1(s.p50)} | ${f1(s.p99)} | ${f0(s.cpuUsPerOp)} |`);
    }
    out(`\n${cpuLine}`);
    const batched = dops(`entry insertMany of ${BATCH}@${BATCH_CALLERS}`) * BATCH;
    const single = dops('entry insert: driver insertOne@32');
    const findOne = dops('findOne by _id@32');
    const rps = (k: string) => (http[k] as HttpStats).rps;
    out(`\n### the throughput targets (issue 11), against the engine's own ceilings in this run\n`);
    out(`engine ceilings: ${f0(batched)} entry documents/s in insertMany batches of ${BATCH} from ${BATCH_CALLERS} callers; ${f0(single)} single inserts/s from 32 callers; ${f0(findOne)} findOne by _id/s from 32 callers\n`);
    out('| target | measured | ratio | goal |');
    out('|---|---:|---:|---:|');
    out(`| earn /s at 32 connections ÷ batched-insert documents/s | ${f0(rps('earn@32'))} | ${f3(ratio(rps('earn@32'), batched))} | ≥ 0.25 |`);
    out(`| earn /s at 32 connections ÷ single inserts/s | ${f0(rps('earn@32'))} | ${f2(ratio(rps('earn@32'), single))} | – |`);
    out(`| earn p99 at 64 connections (ms) | ${f1((http['earn@64'] as HttpStats).p99)} | – | ≤ 250 on PostgreSQL |`);
    out(`| order.paid (3 rules) /s ÷ earn /s, 32 connections | ${f0(rps('events@32'))} | ${f2(ratio(rps('events@32'), rps('earn@32')))} | ≥ 0.5 |`);
    out(`| check-ins /s ÷ earn /s, 32 connections | ${f0(rps('check-in@32'))} | ${f2(ratio(rps('check-in@32'), rps('earn@32')))} | ≥ 0.5 |`);
    out(`| balance reads /s ÷ driver findOne /s, 32 connections | ${f0(rps('balance@32'))} | ${f2(ratio(rps('balance@32'), findOne))} | ≥ 0.8 |`);
    out(`| one hot member: earn /s at 32 connections | ${f0(rps('hot earn@32'))} | – | no worse than before |`);
    const f = mall.flash;
    // What the store says decides (an answer the client gave up waiting for may still have been issued); every answer
    // that came must be a 201 or an OUT_OF_STOCK, and no more 201s than units.
    const unexpected = Object.entries(f.statuses).filter(([k]) => k !== '201' && k !== '409' && k !== 'transport error');
    const soldExactly = f.issuedListed === FLASH_UNITS && f.stockLeft === 0 && f.issued <= FLASH_UNITS && unexpected.length === 0;
    out(`\n### the points mall (issue 12), against earn in this run\n`);
    out('| target | measured | ratio | goal |');
    out('|---|---:|---:|---:|');
    out(`| redemptions /s (long tail of ${LONG_TAIL} items, 32 connections) ÷ earn /s | ${f0(mall.longTail.rps)} (p50 ${f1(mall.longTail.p50)} ms, p99 ${f1(mall.longTail.p99)} ms, failed ${mall.longTail.bad}) | ${f2(ratio(mall.longTail.rps, rps('earn@32')))} | ≥ 0.3 |`);
    out(`| flash sale: units issued /s ÷ long-tail redemptions /s (${FLASH_UNITS} units, ${FLASH_MEMBERS} members at once) | ${f0(f.unitsPerSecond)} (sale over in ${f1(f.seconds)} s, p50 ${f1(f.p50)} ms, p99 ${f1(f.p99)} ms) | ${f2(ratio(f.unitsPerSecond, mall.longTail.rps))} | ≥ 0.5 |`);
    out(`| flash sale sells exactly its stock | 201 × ${f.issued}, 409 × ${f.outOfStock}, issued in the list ${f.issuedListed}, stock left ${f.stockLeft ?? '?'}; other answers: ${Object.entries(f.statuses).filter(([k]) => k !== '201' && k !== '409').map(([k, v]) => `${k} × ${v}`).join(', ') || 'none'} | – | ${soldExactly ? 'yes' : 'NO'} |`);
    if (!soldExactly) process.exitCode = 1;
    out(referralsTable(referrals, rps('earn@32'), rps('events@32')).join('\n'));
    if (!referrals.consistent) process.exitCode = 1;
    out(`\n### database operations per request, counted in the service (8 connections, 100 requests)\n`);
    for (const [name, ops] of Object.entries(opsPer)) {
      out(`- ${name}: ${Object.entries(ops).sort().map(([k, v]) => `${k} ${f2(v)}`).join(', ')}`);
    }
    for (const [name, profile, readyUs] of profiles) {
      const p = summarizeProfile(profile, readyUs);
      out(`\n### service CPU profile — ${name}\nfrom the moment it listened: busy ${f0(p.busyMs)} ms, idle ${f0(p.idleMs)} ms; self time as % of busy, by where the code lives:\n`);
      out(p.places.map(([k, v]) => `- ${f1(v)} % ${k}`).join('\n'));
      out(`\nby function:\n${p.functions.map(([k, v]) => `- ${f1(v)} % ${k}`).join('\n')}`);
    }
    const countOk = entries >= earns.ok && entries <= earns.sent;
    out(`\nsanity: ${entries} entries in the store; ${earns.ok} earns answered 201 and ${earns.sent} sent (seeds, event, check-in, redemption and referral entries included)${countOk ? '' : ' — MISMATCH'}; ledger check ${report.violations.length === 0 ? 'OK' : `${report.violations.length} VIOLATIONS`}`);
    if (!countOk || report.violations.length > 0) process.exitCode = 1;
  } finally {
    await server?.stop().catch(() => {});
    await engine?.stop().catch(() => {});
  }
}

await main();
