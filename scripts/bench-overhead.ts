/**
 * What rate limiting and metrics cost the earn path, measured in one run (issue 14, item 7; docs/PERFORMANCE.md).
 *
 *     npm run bench:overhead -- [--engine ferretdb-sqlite|ferretdb-postgresql|memory-server] [--duration 10] [--rounds 3] [--members 1000]
 *
 * Two service processes (scripts/lib/bench-server.ts) over one database: `on` as configured, with rate limiting and
 * metrics on, and `off` with RATE_LIMIT_ENABLED=false and METRICS_ENABLED=false. On `on`, the service token gets a
 * finite limit no run reaches (RATE_LIMIT_SERVICE, unless the environment sets one), so every earn is counted by the
 * limiter rather than passed as unlimited: the worst case. With REDIS_URL set, `on` counts through Redis.
 * autocannon sends earns over many members at 32 connections, `off` and `on` taking turns for --rounds rounds of
 * --duration seconds (the order swapped each round, so the machine's drift weighs on both alike), then prints each
 * round, the mean rates, on ÷ off and the cost; the target is a cost under 10 %.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { provisionDatabase, type Provisioned } from '../src/platform/db/provision.js';
import { generateSecret, seedMembers, serviceToken } from './lib/api.js';
import { startBenchService, type BenchService } from './lib/bench-child.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    members: { type: 'string', default: '1000' },
  },
  strict: true,
});
const out = (line = '') => process.stdout.write(`${line}\n`);
const seconds = Number(values.duration);
const rounds = Number(values.rounds);
const memberCount = Number(values.members);
if (!(seconds >= 1 && seconds <= 600) || !(rounds >= 1 && rounds <= 20) || !(memberCount >= 1 && memberCount <= 100_000)) {
  throw new Error('--duration is 1–600 s, --rounds 1–20, --members 1–100000');
}
const CONNECTIONS = 32;
/** The cost the issue allows: on must keep at least 90 % of off's rate. */
const TARGET_COST = 0.1;
/** A service limit no run reaches, so the limiter counts every earn (`on` only, unless the environment sets one). */
const SERVICE_LIMIT = '999999999/60';

const dbName = `bench_overhead_${randomBytes(4).toString('hex')}`;
const secret = generateSecret();
const token = serviceToken(secret, 'bench');
const config = loadConfig({ ...process.env, JWT_SECRET: secret, ...(values.engine ? { DB_ENGINE: values.engine } : {}) });
const memberIds = Array.from({ length: memberCount }, (_, i) => `ovh-${String(i + 1).padStart(6, '0')}`);
const modes = {
  on: { RATE_LIMIT_ENABLED: 'true', METRICS_ENABLED: 'true', RATE_LIMIT_SERVICE: process.env.RATE_LIMIT_SERVICE ?? SERVICE_LIMIT },
  off: { RATE_LIMIT_ENABLED: 'false', METRICS_ENABLED: 'false' },
};
type Mode = keyof typeof modes;
/** Starts the service with its configuration plus `env`, and waits for its URL. */
const startServer = (uri: string, env: Record<string, string>): Promise<BenchService> =>
  startBenchService({ MONGODB_URI: uri, MONGODB_DB_NAME: dbName, JWT_SECRET: secret, REFERRAL_HASH_KEY: secret, ...env }, out);

type Run = { rps: number; ok: number; statuses: Record<string, number>; p50: number; p99: number };

/** Earns over many members at CONNECTIONS connections for `duration` seconds, each with its own Idempotency-Key. */
async function earns(url: string, duration: number): Promise<Run> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          path: `/v1/members/${memberIds[Math.floor(Math.random() * memberIds.length)]}/points/earn`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomBytes(12).toString('base64url') },
          body: JSON.stringify({ amount: 1 + Math.floor(Math.random() * 100), code: 'order', ref: { type: 'order', id: randomBytes(8).toString('hex') } }),
        }),
      },
    ],
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count = 0 }]) => [code, count]));
  if (result.errors) statuses['transport error'] = result.errors;
  return { rps: result['2xx'] / result.duration, ok: result['2xx'], statuses, p50: result.latency.p50, p99: result.latency.p99 };
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const other = (s: Record<string, number>) => Object.entries(s).filter(([code]) => code !== '201').map(([code, n]) => `${code} × ${n}`).join(', ') || 'none';

async function main(): Promise<void> {
  const cpus = os.cpus();
  out('# rate limiting and metrics: earn throughput on vs off');
  out(`command: npm run bench:overhead -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  out(`machine: ${cpus[0]?.model ?? 'unknown cpu'}, ${cpus.length} cores; node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  let engine: Provisioned | undefined;
  const servers: Partial<Record<Mode, BenchService>> = {};
  try {
    engine = await provisionDatabase({ db: config.db, toolsDir: config.toolsDir, log: (m) => out(`[provision] ${m}`) });
    out(`engine: ${engine.description}`);
    out(`on: rate limits ${process.env.REDIS_URL ? 'shared through Redis (REDIS_URL)' : 'in memory'}, service limit ${modes.on.RATE_LIMIT_SERVICE}, metrics on; off: RATE_LIMIT_ENABLED=false METRICS_ENABLED=false`);
    servers.off = await startServer(engine.uri, modes.off);
    servers.on = await startServer(engine.uri, modes.on);
    out(`seeding ${memberCount} members`);
    await seedMembers(servers.on.url, token, memberIds, { concurrency: 16 });
    for (const mode of ['off', 'on'] as const) await earns((servers[mode] as BenchService).url, Math.min(3, seconds)); // warm-up, not reported

    const runs: Record<Mode, Run[]> = { off: [], on: [] };
    out(`\n| round | mode | earn /s | p50 ms | p99 ms | answers other than 201 |`);
    out('|---:|---|---:|---:|---:|---|');
    for (let r = 1; r <= rounds; r++) {
      for (const mode of r % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const run = await earns((servers[mode] as BenchService).url, seconds);
        runs[mode].push(run);
        out(`| ${r} | ${mode} | ${f0(run.rps)} | ${f1(run.p50)} | ${f1(run.p99)} | ${other(run.statuses)} |`);
        await new Promise((resolve) => setTimeout(resolve, 500)); // the requests still in flight finish before the next run
      }
    }
    const mean = (xs: Run[]) => xs.reduce((s, x) => s + x.rps, 0) / xs.length;
    const ratio = mean(runs.on) / mean(runs.off);
    const cost = 1 - ratio;
    out(`\nmean earn /s at ${CONNECTIONS} connections: off ${f0(mean(runs.off))}, on ${f0(mean(runs.on))}; on ÷ off = ${ratio.toFixed(3)}; cost ${f1(cost * 100)} % (target < ${TARGET_COST * 100} %: ${cost < TARGET_COST ? 'met' : 'NOT MET'})`);
    const refused = runs.on.some((run) => Object.keys(run.statuses).some((code) => code !== '201'));
    // A stall of the machine (a checkpoint, another process) during one run weighs on the mean; the medians and the
    // paired rounds show whether the cost is the feature's or the stall's.
    const median = (xs: Run[]) => [...xs].map((x) => x.rps).sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const paired = runs.on.map((on, i) => on.rps / (runs.off[i] as Run).rps).sort((a, b) => a - b);
    out(`median earn /s: off ${f0(median(runs.off))}, on ${f0(median(runs.on))}; median on ÷ off = ${(median(runs.on) / median(runs.off)).toFixed(3)}; per-round on ÷ off: ${paired.map((r) => r.toFixed(2)).join(', ')}`);
    if (refused) out('some earns of `on` were not 201 (a 429 means the service limit was reached): the comparison is not valid');
    if (refused || cost >= TARGET_COST) process.exitCode = 1;
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop().catch(() => {})));
    if (engine) {
      const conn = await connectDatabase(engine.uri, dbName, 10_000).catch(() => undefined);
      await conn?.dropDatabase().catch(() => {});
      await conn?.close();
      await engine.stop().catch(() => {});
    }
  }
}

await main();
