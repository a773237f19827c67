import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';
import { earned, keyedPost, ops, points, registerMember } from './helpers/ledger.js';
import { scrape, valueOf, type Family } from './helpers/metrics.js';

let api: TestApp;
let other: TestApp;

beforeAll(async () => {
  api = await startTestApp({ env: { RATE_LIMIT_MEMBER: '2/60' } });
  other = await startTestApp({ dbName: api.dbName, clock: api.clock }); // a second process over the same database
});
afterAll(async () => {
  await other?.close({ keepDatabase: true });
  await api?.close();
});

/** The family `name` of the scrape, with its declared type. */
function familyOf(families: Map<string, Family>, name: string, type: string): Family {
  const f = families.get(name);
  expect(f, `${name} is exposed`).toBeDefined();
  expect(f!.type, `${name} type`).toBe(type);
  expect(f!.help.length, `${name} help`).toBeGreaterThan(0);
  return f!;
}

describe('/metrics families', () => {
  it('when ledger commands run and two processes race for one account, then commands are counted by ledger, command and outcome, and the lost seq as a retry', async () => {
    await registerMember(api, 'mf-1');
    await earned(api, 'mf-1', 100); // this process now knows the account's head
    await earned(other, 'mf-1', 10); // the other process writes the next entry
    await earned(api, 'mf-1', 5); // decided on the head it knew: loses the seq, decides again
    const families = await scrape(api);
    familyOf(families, 'ledger_commands_total', 'counter');
    expect(valueOf(families, 'ledger_commands_total', { ledger: 'points', command: 'earn', outcome: 'committed' })).toBe(2);
    familyOf(families, 'seq_race_retries_total', 'counter');
    expect(valueOf(families, 'seq_race_retries_total', { log: 'points' })).toBeGreaterThanOrEqual(1);
  });

  it('when redemptions run, then each saga step is counted with its outcome, refusals by their code', async () => {
    expect((await api.request('PUT', '/v1/admin/benefits/mf-coffee', { token: ops, body: { name: 'Coffee', kind: 'coupon', costPoints: 50, stock: 10, active: true } })).status).toBe(201);
    const redeem = (memberId: string) => keyedPost(api, `/v1/members/${memberId}/redemptions`, { benefitCode: 'mf-coffee', quantity: 1 });
    expect((await redeem('mf-1')).status).toBe(201);
    await registerMember(api, 'mf-poor');
    expectError(await redeem('mf-poor'), 409, 'INSUFFICIENT_POINTS');
    const families = await scrape(api);
    familyOf(families, 'saga_steps_total', 'counter');
    const step = (s: string, outcome: string) => valueOf(families, 'saga_steps_total', { saga: 'redemption', step: s, outcome });
    expect([step('hold', 'ok'), step('stock', 'ok'), step('issue', 'ok'), step('capture', 'ok')]).toEqual([1, 1, 1, 1]);
    expect([step('hold', 'INSUFFICIENT_POINTS'), step('fail', 'ok'), step('give_back', 'ok')]).toEqual([1, 1, 1]);
  });

  it('when a member makes up a missed day, then the make-up\'s spend and commit are counted as its saga steps', async () => {
    await registerMember(api, 'mf-makeup');
    await earned(api, 'mf-makeup', 100);
    const missed = api.clock.now().toISOString().slice(0, 10);
    api.clock.advance({ days: 2 });
    const res = await api.request('POST', '/v1/me/checkins/makeup', { token: tokenFor('member', 'mf-makeup'), body: { day: missed }, headers: { 'Idempotency-Key': 'mf-makeup-1' } });
    expect(res.status, res.text).toBe(201);
    const families = await scrape(api);
    const step = (s: string) => valueOf(families, 'saga_steps_total', { saga: 'checkin_makeup', step: s, outcome: 'ok' });
    expect([step('spend'), step('commit')]).toEqual([1, 1]);
  });

  it('when sweeps run, then runs, the records they handled and their duration are counted, and a tick another process took is not_claimed', async () => {
    await registerMember(api, 'mf-hold');
    await earned(api, 'mf-hold', 100);
    expect((await points.hold(api, 'mf-hold', { amount: 30, code: 'order', ttlSeconds: 60 })).status).toBe(201);
    api.clock.advance({ minutes: 2 });
    await api.built.sweep();
    expect((await other.built.sweepTick(3_600_000)).ran).toBe(true);
    expect((await api.built.sweepTick(3_600_000)).ran).toBe(false);
    const families = await scrape(api);
    familyOf(families, 'sweep_runs_total', 'counter');
    familyOf(families, 'sweep_records_total', 'counter');
    familyOf(families, 'sweep_duration_seconds', 'histogram');
    expect(valueOf(families, 'sweep_runs_total', { outcome: 'done' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, 'sweep_runs_total', { outcome: 'not_claimed' })).toBe(1);
    expect(valueOf(families, 'sweep_records_total', { kind: 'points.due', outcome: 'done' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, 'sweep_duration_seconds_count')).toBe(valueOf(families, 'sweep_runs_total', { outcome: 'done' }));
  });

  it('when a daily job runs, then its run is counted with its lag behind the start of its day, and a second attempt as already done', async () => {
    const now = api.clock.now();
    const lag = (now.getTime() - Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`)) / 1000;
    await api.built.purgeIdempotency();
    await other.built.purgeIdempotency();
    const families = await scrape(api);
    familyOf(families, 'job_runs_total', 'counter');
    familyOf(families, 'job_lag_seconds', 'histogram');
    familyOf(families, 'job_duration_seconds', 'histogram');
    expect(valueOf(families, 'job_runs_total', { job: 'idempotency.purge', outcome: 'done' })).toBe(1);
    expect(valueOf(families, 'job_lag_seconds_count', { job: 'idempotency.purge' })).toBe(1);
    expect(valueOf(families, 'job_lag_seconds_sum', { job: 'idempotency.purge' })).toBe(lag);
    expect(valueOf(families, 'job_duration_seconds_count', { job: 'idempotency.purge' })).toBe(1);
    expect(valueOf(await scrape(other), 'job_runs_total', { job: 'idempotency.purge', outcome: 'already_done' })).toBe(1);
  });

  it('when a request is refused by a rate limit, then the refusal is counted by group, and the store errors family is there', async () => {
    await registerMember(api, 'mf-busy');
    for (let i = 0; i < 2; i++) expect((await api.request('GET', '/v1/me', { token: tokenFor('member', 'mf-busy') })).status).toBe(200);
    expectError(await api.request('GET', '/v1/me', { token: tokenFor('member', 'mf-busy') }), 429, 'RATE_LIMITED');
    const families = await scrape(api);
    familyOf(families, 'rate_limit_refusals_total', 'counter');
    expect(valueOf(families, 'rate_limit_refusals_total', { group: 'member' })).toBe(1);
    familyOf(families, 'rate_limit_backend_errors_total', 'counter');
    expect(valueOf(families, 'rate_limit_backend_errors_total')).toBe(0); // in memory: no store to fail
  });

  it('when the database has been used, then the pool reports connections checked out and available, the wait queue, checkout waits and failures', async () => {
    await api.request('GET', '/v1/members/mf-1', { token: service });
    const families = await scrape(api);
    familyOf(families, 'db_pool_checked_out_connections', 'gauge');
    familyOf(families, 'db_pool_wait_queue_size', 'gauge');
    familyOf(families, 'db_pool_checkout_failures_total', 'counter');
    expect(valueOf(families, 'db_pool_available_connections')).toBeGreaterThanOrEqual(1);
    familyOf(families, 'db_pool_available_connections', 'gauge');
    familyOf(families, 'db_pool_checkout_seconds', 'histogram');
    expect(valueOf(families, 'db_pool_checkout_seconds_count')).toBeGreaterThan(0);
    expect(valueOf(families, 'db_pool_wait_queue_size')).toBeGreaterThanOrEqual(0);
  });

  it('when METRICS_ENABLED=false, then /metrics answers 404 NOT_FOUND', async () => {
    const off = await startTestApp({ env: { METRICS_ENABLED: 'false' } });
    try {
      expectError(await off.request('GET', '/metrics'), 404, 'NOT_FOUND');
      expect((await off.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
