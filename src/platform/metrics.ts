import type { Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance (a registry per app, so in-process tests never share counters). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ledgerCommands: new Counter({
      name: 'ledger_commands_total',
      help: 'Ledger commands by command and outcome',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    }),
    rateLimitRefusals: new Counter({
      name: 'rate_limit_refusals_total',
      help: 'Requests refused with 429 RATE_LIMITED, by the limit that refused them',
      labelNames: ['group'] as const,
      registers: [registry],
    }),
    rateLimitBackendErrors: new Counter({
      name: 'rate_limit_backend_errors_total',
      help: 'Rate-limit checks the store (Redis) could not answer; the request went through unlimited (fail open)',
      registers: [registry],
    }),
    checkins: new Counter({
      name: 'checkins_total',
      help: 'Check-ins and make-ups by outcome (committed, replayed, or the refusal code)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

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
