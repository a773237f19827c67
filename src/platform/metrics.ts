import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AppError } from './errors.js';

/** Seconds, from a millisecond up to a day: jobs run late by seconds when healthy and by hours when not. */
const LAG_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];

/**
 * Prometheus metrics of one app instance (a registry per app, so in-process tests never share counters).
 * `defaults: false` leaves out the process metrics (METRICS_ENABLED=false: the overhead benchmark's baseline).
 */
export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'] as const, registers }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    ledgerCommands: new Counter({
      name: 'ledger_commands_total',
      help: 'Ledger commands by ledger (points, growth), command and final outcome (committed, replayed, or the refusal code)',
      labelNames: ['ledger', 'command', 'outcome'] as const,
      registers,
    }),
    seqRaceRetries: new Counter({
      name: 'seq_race_retries_total',
      help: 'Commits that lost the race for their account\'s next seq to another writer and decided again, by log (points, growth, checkins)',
      labelNames: ['log'] as const,
      registers,
    }),
    checkins: new Counter({ name: 'checkins_total', help: 'Check-ins and make-ups by outcome (committed, replayed, or the refusal code)', labelNames: ['kind', 'outcome'] as const, registers }),
    sagaSteps: new Counter({
      name: 'saga_steps_total',
      help: 'Steps of multi-step flows (redemption, checkin_makeup) by outcome: ok, the refusal code, or error',
      labelNames: ['saga', 'step', 'outcome'] as const,
      registers,
    }),
    sweepRuns: new Counter({ name: 'sweep_runs_total', help: 'Sweeps by outcome: done, failed, or not_claimed (another process had the tick)', labelNames: ['outcome'] as const, registers }),
    sweepRecords: new Counter({ name: 'sweep_records_total', help: 'Due records a sweep handled, by kind and outcome (done, failed, unhandled)', labelNames: ['kind', 'outcome'] as const, registers }),
    sweepDuration: new Histogram({ name: 'sweep_duration_seconds', help: 'How long the sweeps of this process took', buckets: DURATION_BUCKETS, registers }),
    jobRuns: new Counter({
      name: 'job_runs_total',
      help: 'Job runs by job and outcome: done, failed, already_done, held (another runner has it), gave_up',
      labelNames: ['job', 'outcome'] as const,
      registers,
    }),
    jobLag: new Histogram({ name: 'job_lag_seconds', help: 'How late a job run started: the time this runner claimed it minus the time it was due', labelNames: ['job'] as const, buckets: LAG_BUCKETS, registers }),
    jobDuration: new Histogram({ name: 'job_duration_seconds', help: 'How long job runs took, by job', labelNames: ['job'] as const, buckets: DURATION_BUCKETS, registers }),
    rateLimitRefusals: new Counter({ name: 'rate_limit_refusals_total', help: 'Requests refused with 429 RATE_LIMITED, by the limit that refused them', labelNames: ['group'] as const, registers }),
    rateLimitBackendErrors: new Counter({
      name: 'rate_limit_backend_errors_total',
      help: 'Rate-limit checks the store (Redis) could not answer; the request went through unlimited (fail open)',
      registers,
    }),
    dbPoolCheckoutFailures: new Counter({
      name: 'db_pool_checkout_failures_total',
      help: 'Connection checkouts the database driver failed, by reason (timeout, connectionError, poolClosed)',
      labelNames: ['reason'] as const,
      registers,
    }),
    dbPoolCheckoutSeconds: new Histogram({
      name: 'db_pool_checkout_seconds',
      help: 'How long an operation waited for a pooled database connection',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A gauge read when /metrics is scraped, so a value that changes on every database operation costs nothing until then.
 *
 *     gaugeOf(metrics, 'db_pool_wait_queue_size', 'operations waiting for a connection', () => waiting);
 */
export function gaugeOf(metrics: Metrics, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [metrics.registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * Runs one step of a saga and counts its outcome: ok, the refusal's code (an AppError), or error.
 *
 *     await countedStep(metrics, 'redemption', 'hold', () => points.holdPoints(...));
 */
export async function countedStep<T>(metrics: Pick<Metrics, 'sagaSteps'>, saga: string, step: string, run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    metrics.sagaSteps.inc({ saga, step, outcome: 'ok' });
    return result;
  } catch (err) {
    metrics.sagaSteps.inc({ saga, step, outcome: err instanceof AppError ? err.code : 'error' });
    throw err;
  }
}

/**
 * Counts and times each answer of a matched route (the router names it in `ctx.state.routePath`) under the status the
 * client receives. Mounted outside the error handler: inside it a thrown error still shows Koa's default 404.
 *
 *     app.use(httpMetrics(metrics)); app.use(errorHandler(logger)); ...
 */
export function httpMetrics(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const stop = metrics.httpDuration.startTimer();
    await next();
    const route = ctx.state.routePath as string | undefined;
    if (route === undefined) return; // an unknown path: labelling it by its raw path would let callers mint series
    // HEAD is served by the GET route (Koa's automatic twin), so it is counted as that route.
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    stop({ method, route });
    metrics.httpRequests.inc({ method, route, status: String(ctx.status) });
  };
}
