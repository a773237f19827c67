/**
 * Runs the k6 ledger scenarios against a service this script starts, then checks that nothing was lost or doubled.
 *
 *     npm run load -- [--scenario mix|hot|events|checkins|redemptions|referrals|all] [--duration 30s] [--vus 16] [--members 200] [--smoke]
 *
 * It provisions the database like the service does (MONGODB_URI, DB_ENGINE or the embedded default), starts the
 * service in-process on a loopback port with a fresh JWT secret, seeds the members with an opening balance, installs
 * the pinned k6 if needed and runs the scenario(s). Then, per scenario, the points k6 saw move (earned − spent −
 * captured) must equal the change of Σ(available + held) over its members; and after the service has shut down
 * (which writes the account caches) the whole store must pass the ledger check (PRODUCT.md §4). Exits 1 when a k6
 * threshold failed or an invariant is broken, and stops the service and the engine whatever happens.
 * `checkins` needs a fresh member per check-in (a member checks in once a day): it seeds its own members with no
 * opening balance (`--members`, else enough for CHECKINS_PER_SECOND over the duration), and checks each member's balance
 * against the points k6 saw its check-in pay (0 for a member k6 did not check in).
 * `redemptions` defines a catalogue (a flash-sale item with small stock, one per member, and a long tail) and runs members
 * who earn and redeem over the mix's members; the points a cancellation refunds count back into the balances. Then
 * issued units must equal the stock taken (scripts/lib/load-redemptions.ts), and the benefits check runs with the ledger's.
 * `referrals` saves a referral program and registers REFERRERS referrers (their balances are the ones checked: referral
 * points are pending, so Σ(available + held) must not move); k6 registers a fresh invitee per iteration. Then every
 * referral must be in the state k6 expected and every member's referral points what the states pay
 * (scripts/lib/load-referrals.ts).
 * `--smoke` is a 5 s run with 4 VUs over 20 members (checkins: 500; redemptions: a 10-unit flash sale, 6 tail items;
 * referrals: 5 referrers), for CI.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, repoRoot } from '../src/config.js';
import { checkBenefits } from '../src/modules/benefits/benefits.check.js';
import { checkLedger } from '../src/modules/ledger/index.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { provisionDatabase, type Provisioned } from '../src/platform/db/provision.js';
import { startServer, type RunningServer } from '../src/server.js';
import { balances, generateSecret, opsToken, orderRules, putRules, seedMembers, serviceToken } from './lib/api.js';
import { ensureK6, readTaggedCounter } from './lib/k6.js';
import { defineCatalogue, heldUnits, reconcile, type Catalogue } from './lib/load-redemptions.js';
import { readExpectations, reconcileReferrals, referralsEnv, setUpReferrals, type Referrer } from './lib/load-referrals.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'mix' },
    duration: { type: 'string' },
    vus: { type: 'string' },
    members: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
  strict: true,
});
const out = (line: string) => process.stdout.write(`${line}\n`);
function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run load -- [--scenario mix|hot|events|checkins|redemptions|referrals|all] [--duration 30s] [--vus N] [--members N] [--smoke]\n`);
  process.exit(2);
}

type Scenario = 'mix' | 'hot' | 'events' | 'checkins' | 'redemptions' | 'referrals';
const scripts: Record<Scenario, string> = {
  mix: 'ledger-mix.js', hot: 'ledger-hot.js', events: 'events.js', checkins: 'checkins.js', redemptions: 'redemptions.js', referrals: 'referrals.js',
};
const scenarios = (values.scenario === 'all' ? Object.keys(scripts) : [values.scenario]) as Scenario[];
if (!scenarios.every((s) => s in scripts)) usage(`unknown scenario ${values.scenario}`);
const positive = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) usage(`--${name} must be a positive integer`);
  return Number(v);
};
const duration = values.duration ?? (values.smoke ? '5s' : '30s');
if (!/^\d+(s|m)?$/.test(duration)) usage('--duration looks like 30s, 2m or 45');
const vusOption = positive(values.vus, 'vus') ?? (values.smoke ? 4 : undefined);
const memberCount = positive(values.members, 'members') ?? (values.smoke ? 20 : 200);
const durationSeconds = Number(duration.replace(/[sm]$/, '')) * (duration.endsWith('m') ? 60 : 1);
/**
 * More check-ins per second than 16 VUs reached on this 2-core machine (53–65/s, docs/PERFORMANCE.md "Check-ins"), so
 * the seeded members last the whole run; if they do not, k6 stops early and the runner says so.
 */
const CHECKINS_PER_SECOND = 100;
const checkinCount = positive(values.members, 'members') ?? durationSeconds * CHECKINS_PER_SECOND;
/** Referrers of the `referrals` scenario: a few, so many invitees bind to each. */
const REFERRERS = values.smoke ? 5 : 20;
/** The longest a k6 run may take beyond its duration (ramp-down, summary) before it is killed. */
const K6_GRACE_MS = 90_000;

const runId = randomBytes(4).toString('hex');
const mixMembers = Array.from({ length: memberCount }, (_, i) => `load-${runId}-${String(i + 1).padStart(6, '0')}`);
const hotMember = `load-${runId}-hot`;
const checkinPrefix = `load-${runId}-c-`;
const checkinMembers = Array.from({ length: checkinCount }, (_, i) => `${checkinPrefix}${String(i + 1).padStart(6, '0')}`);
const referralPrefix = `load-${runId}-`;
const resultsDir = path.join(repoRoot, 'load', 'results');

const secret = generateSecret();
// The database is ours to fill unless the caller named one; a generated name is dropped at the end.
const dbNamed = Boolean(process.env.MONGODB_DB_NAME);
const env = {
  ...process.env,
  JWT_SECRET: secret,
  JWT_ALGORITHM: 'HS256',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  MONGODB_DB_NAME: process.env.MONGODB_DB_NAME ?? `load_${runId}`,
};
const config = loadConfig(env);
const token = serviceToken(secret);

/** `refunded`: points cancelled redemptions gave back; `redeemed`, `cancelled`, `unknown`: units and taps (redemptions). */
type Counters = { earned: number; spent: number; captured: number; refunded: number; iterations: number; redeemed: number; cancelled: number; unknown: number };
const noCounters: Counters = { earned: 0, spent: 0, captured: 0, refunded: 0, iterations: 0, redeemed: 0, cancelled: 0, unknown: 0 };
/** What k6 saw of a run: its exit code, its totals and, for checkins, the points each member's check-in paid. */
type K6Run = { code: number; counters: Counters; perMember: Map<string, number>; unknown: Set<string> };


/** Where a scenario's k6 samples go: per-member points and per-invitee expectations exist only as tagged samples. */
const samplesOf = (scenario: Scenario) => path.join(resultsDir, `${scenario}-${runId}.samples.json.gz`);
const withSamples = (scenario: Scenario) => scenario === 'checkins' || scenario === 'referrals';

/**
 * Runs one k6 script to its end (or kills it past its time); returns its exit code and the counters it exported.
 * `extraEnv`: what the scenario's own set-up hands the script (the catalogue, the referrers).
 */
async function runK6(k6: string, scenario: Scenario, baseUrl: string, extraEnv: Record<string, string> = {}): Promise<K6Run> {
  const summary = path.join(resultsDir, `${scenario}-${runId}.json`);
  // k6's JSON output (gzipped) has the tagged samples; its summary does not.
  const samples = samplesOf(scenario);
  const script = path.join(repoRoot, 'load', scripts[scenario]);
  const vus = vusOption ?? (scenario === 'hot' ? 64 : 16);
  const who = {
    hot: `member ${hotMember}`,
    checkins: `up to ${checkinCount} fresh members, one check-in each`,
    referrals: `${REFERRERS} referrers, a fresh invitee per iteration`,
  }[scenario as string] ?? `${memberCount} members`;
  out(`\n== k6 ${scenario}: ${vus} VUs for ${duration} against ${baseUrl} (${who})`);
  const output = withSamples(scenario) ? ['--out', `json=${samples}`] : [];
  const child = spawn(k6, ['run', '--quiet', '--no-usage-report', '--summary-export', summary, ...output, script], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BASE_URL: baseUrl,
      SERVICE_TOKEN: token,
      MEMBERS: String(scenario === 'checkins' ? checkinCount : memberCount),
      MEMBER_PREFIX: scenario === 'checkins' ? checkinPrefix : `load-${runId}-`,
      ...(scenario === 'checkins' || scenario === 'redemptions' || scenario === 'referrals' ? { MEMBER_SECRET: secret } : {}),
      ...(scenario === 'referrals' ? { OPS_TOKEN: opsToken(secret) } : {}),
      ...extraEnv,
      HOT_MEMBER: hotMember,
      VUS: String(vus),
      DURATION: duration,
      K6_NO_USAGE_REPORT: 'true',
    },
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), durationSeconds * 1000 + K6_GRACE_MS);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  clearTimeout(killer);
  const run: K6Run = { code, counters: noCounters, perMember: new Map(), unknown: new Set() };
  try {
    const metrics = (JSON.parse(await readFile(summary, 'utf8')) as { metrics: Record<string, { count?: number }> }).metrics;
    const count = (name: string) => metrics[name]?.count ?? 0;
    run.counters = {
      earned: count('points_earned'), spent: count('points_spent'), captured: count('points_captured'), refunded: count('points_refunded'), iterations: count('iterations'),
      redeemed: count('redeemed_units'), cancelled: count('cancelled_units'), unknown: count('redemption_unknown'),
    };
    if (scenario === 'checkins') {
      run.perMember = await readTaggedCounter(samples, 'checkin_points', 'member');
      run.unknown = new Set((await readTaggedCounter(samples, 'checkin_unknown', 'member')).keys());
    }
  } catch (err) {
    out(`FAIL k6 wrote no summary (${(err as Error).message})`);
    return { ...run, code: code || 1 };
  }
  return run;
}

/**
 * Every check-in member's balance must have grown by exactly the points k6 saw its check-in pay, and a member k6 did
 * not check in must not have moved; members whose tap never got an answer are left out (and counted).
 */
function checkPerMember(run: K6Run, before: Map<string, number>, after: Map<string, number>): string[] {
  const wrong: string[] = [];
  for (const m of checkinMembers) {
    if (run.unknown.has(m)) continue;
    const expected = (before.get(m) ?? 0) + (run.perMember.get(m) ?? 0);
    if (after.get(m) !== expected) wrong.push(`${m}: expected ${expected}, balance ${after.get(m)}`);
  }
  const paid = [...run.perMember.values()].filter((p) => p > 0).length;
  const line = `${run.perMember.size} members checked in (${paid} paid, ${sum(run.perMember)} points), ${checkinCount - run.perMember.size - run.unknown.size} not checked in, ${run.unknown.size} unknown`;
  if (run.counters.iterations >= checkinCount) out(`note: k6 used all ${checkinCount} seeded members before ${duration} was over; pass a larger --members`);
  if (run.perMember.size === 0) wrong.push('k6 checked in no member at all');
  if (wrong.length === 0) out(`per-member check OK: checkins: ${line}; every balance is what k6 saw`);
  return wrong.length === 0 ? [] : [`per-member check FAILED: checkins: ${line}; ${wrong.slice(0, 10).join('; ')}${wrong.length > 10 ? ` and ${wrong.length - 10} more` : ''}`];
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<number> {
  let engine: Provisioned | undefined;
  let server: RunningServer | undefined;
  const failures: string[] = [];
  try {
    engine = await provisionDatabase({ db: config.db, toolsDir: config.toolsDir, log: out });
    out(`database: ${engine.description}, database name ${config.db.name}`);
    // The service gets the engine's address, so it does not start one of its own and we can check the store after it stops.
    server = await startServer(loadConfig({ ...env, MONGODB_URI: engine.uri }));
    out(`service: ${server.url}`);
    const k6 = await ensureK6(config.toolsDir, out);
    await mkdir(resultsDir, { recursive: true });

    const reconciled: Array<{ catalogue: Catalogue; held: Map<string, number>; counters: Counters }> = [];
    for (const scenario of scenarios) {
      const tokens = { service: token, ops: opsToken(secret) };
      // The referrers are registered with their devices (and no opening balance) by the scenario's own set-up.
      const referrers: Referrer[] = scenario === 'referrals' ? await setUpReferrals(server.url, tokens, `${referralPrefix}r-`, REFERRERS) : [];
      const members = scenario === 'hot' ? [hotMember] : scenario === 'checkins' ? checkinMembers : scenario === 'referrals' ? referrers.map((r) => r.id) : mixMembers;
      const seedStart = performance.now();
      // Check-in members start empty, so a balance is exactly what their check-in paid.
      if (scenario !== 'referrals') await seedMembers(server.url, token, members, scenario === 'checkins' ? { concurrency: 16 } : { openingPoints: 1000 });
      if (scenario === 'checkins') out(`seeded ${members.length} members in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
      if (scenario === 'events') await putRules(server.url, opsToken(secret), orderRules);
      const catalogue = scenario === 'redemptions' ? await defineCatalogue(server.url, opsToken(secret), runId, values.smoke ? { hotStock: 10, tailSize: 6 } : { hotStock: 100, tailSize: 20 }) : undefined;
      const before = await balances(server.url, token, members);
      const extraEnv = catalogue ? { HOT_BENEFIT: catalogue.hot, TAIL_BENEFITS: catalogue.tail.join(',') } : scenario === 'referrals' ? referralsEnv(referrers, runId) : {};
      const run = await runK6(k6, scenario, server.url, extraEnv);
      const { code, counters } = run;
      if (code !== 0) failures.push(`k6 ${scenario} exited with ${code}${code === 99 ? ' (a threshold failed)' : ''}`);
      const after = await balances(server.url, token, members);
      const expected = sum(before) + counters.earned - counters.spent - counters.captured + counters.refunded;
      const refunds = counters.refunded > 0 ? ` + refunded ${counters.refunded}` : '';
      const line = `${scenario}: balances before ${sum(before)} + earned ${counters.earned} − spent ${counters.spent} − captured ${counters.captured}${refunds} = ${expected}; Σ(available + held) after = ${sum(after)}`;
      if (expected === sum(after)) out(`balance check OK: ${line}`);
      else if (run.unknown.size > 0) out(`balance check not decidable: ${line}; ${run.unknown.size} check-ins got no answer`);
      else if (counters.unknown > 0) out(`balance check not decidable: ${line}; ${counters.unknown} redemptions got no answer`);
      else failures.push(`balance check FAILED: ${line}`);
      if (scenario === 'checkins') failures.push(...checkPerMember(run, before, after));
      // Read while the service still answers; compared with the stock once it has stopped.
      if (catalogue) reconciled.push({ catalogue, held: await heldUnits(server.url, opsToken(secret), [catalogue.hot, ...catalogue.tail]), counters });
      if (scenario === 'referrals') {
        const { lines, failures: wrong } = await reconcileReferrals(server.url, tokens, referrers, await readExpectations(samplesOf(scenario)));
        lines.forEach((l) => out(l));
        failures.push(...wrong);
      }
    }

    await server.close(); // writes the account caches; the engine stays up (the service did not start it)
    server = undefined;
    const conn = await connectDatabase(engine.uri, config.db.name, config.db.timeoutMs);
    try {
      const report = await checkLedger(conn);
      out(`ledger check: ${report.accounts} accounts, ${report.entries} entries, ${report.violations.length} violations, ${report.staleCaches.length} stale caches`);
      for (const v of report.violations.slice(0, 50)) out(`VIOLATION ${v}`);
      if (report.violations.length > 0) failures.push(`${report.violations.length} ledger invariant violations`);
      if (report.staleCaches.length > 0) out(`note: account caches behind their entries after shutdown: ${report.staleCaches.slice(0, 10).join(', ')}`);
      for (const r of reconciled) {
        const { lines, failures: wrong } = await reconcile(conn, r.catalogue, r.held, r.counters);
        lines.forEach((l) => out(l));
        failures.push(...wrong);
      }
      const benefits = await checkBenefits(conn, { now: new Date(), expiredPoints: config.benefits.expiredVoucherPoints });
      out(`benefits check: ${benefits.benefits} benefits, ${benefits.redemptions} redemptions, ${benefits.violations.length} violations, ${benefits.inFlight.length} in flight`);
      for (const v of benefits.violations.slice(0, 50)) out(`VIOLATION ${v}`);
      if (benefits.violations.length > 0) failures.push(`${benefits.violations.length} benefits invariant violations`);
      if (dbNamed || report.violations.length > 0 || benefits.violations.length > 0) out(`the data stays in database ${config.db.name}`);
      else await conn.dropDatabase();
    } finally {
      await conn.close();
    }
  } catch (err) {
    failures.push(`load run failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await server?.close().catch(() => {});
    await engine?.stop().catch(() => {});
  }
  for (const f of failures) out(`FAIL ${f}`);
  if (failures.length === 0) out(`load ${scenarios.join('+')}: thresholds passed, invariants OK`);
  return failures.length === 0 ? 0 : 1;
}

process.exit(await main());
