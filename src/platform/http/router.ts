import Router from '@koa/router';
import parseBody from 'co-body';
import type { Context } from 'koa';
import type { ZodType } from 'zod';
import type { Config } from '../../config.js';
import { AppError, validationFailed } from '../errors.js';
import { authenticate, requireRole } from './auth.js';
import type { Caller, Route, RouteResult } from './route.js';

/** What the idempotency layer tells a handler: the caller-scoped key, the request's fingerprint, and whether an earlier attempt may have run. */
export type IdempotencyInfo = { scope: string; fingerprint: string; retry: boolean };

/** Wraps a use-case call so routes can add behaviour around it (idempotency is one). */
export type RouteWrapper = (
  route: Route,
  ctx: Context,
  caller: Caller,
  body: unknown,
  run: (extra: { idempotency?: IdempotencyInfo }) => Promise<RouteResult>,
) => Promise<RouteResult>;

/**
 * Counts a request against its route's rate limits (rate-limit.ts): called with the caller once the token is verified,
 * and without one when it is not (the client's address pays for a 401 too). Throws 429 RATE_LIMITED.
 */
export type RouteLimiter = (route: Route, ctx: Context, caller: Caller | undefined) => Promise<void>;

function parse<T>(schema: ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(
    result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
    `${where} is not valid`,
  );
}

/** The charset parameter of a Content-Type, unquoted; undefined when there is none. */
const charsetOf = (contentType: string): string | undefined => {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
};

/**
 * Discards a body nobody will read, as Node does, so a kept-alive connection does not stall behind it and the client's
 * next request on it is not reset.
 */
function discardBody(ctx: Context): void {
  ctx.req.unpipe();
  ctx.req.resume();
}

async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const length = ctx.get('Content-Length');
  const hasBody = (length !== '' && length !== '0') || ctx.get('Transfer-Encoding') !== '';
  if (!hasBody) return undefined;
  if (!ctx.is('application/json', '+json')) {
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  // JSON is UTF-8 (RFC 8259), and the body reader would decode any bytes as UTF-8 whatever the header says.
  const charset = charsetOf(ctx.get('Content-Type'));
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    discardBody(ctx);
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as UTF-8: no charset, or charset=utf-8');
  }
  try {
    return await parseBody.json(ctx, { limit, strict: true });
  } catch (err) {
    // The body reader stops at the first problem and leaves the rest unread.
    discardBody(ctx);
    throw bodyError(err as { status?: number; type?: string });
  }
}

/** Maps co-body / raw-body / inflation failures to our codes; anything unknown stays a 400 rather than a 500. */
function bodyError(err: { status?: number; type?: string }): AppError {
  // An unknown Content-Encoding (inflation) or charset (raw-body) is a 415; inflation's error has no type.
  if (err.status === 415) return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'unsupported content encoding or charset');
  switch (err.type) {
    case 'entity.too.large':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', `the request body is over the limit`);
    case 'request.size.invalid':
      return new AppError(400, 'MALFORMED_REQUEST', 'the body length does not match Content-Length');
    case 'request.aborted':
      return new AppError(400, 'REQUEST_ABORTED', 'the request was aborted');
    default:
      return new AppError(400, 'MALFORMED_JSON', 'the request body is not valid JSON');
  }
}

/** Verifies the bearer token and counts the request against the rate limits, a request with a bad token included. */
async function authenticated(route: Route, ctx: Context, opts: { config: Config; limit?: RouteLimiter }): Promise<Caller> {
  let caller: Caller;
  try {
    caller = authenticate(ctx.get('Authorization') || undefined, opts.config.jwt);
  } catch (err) {
    await opts.limit?.(route, ctx, undefined);
    throw err;
  }
  await opts.limit?.(route, ctx, caller);
  return caller;
}

/**
 * Turns route definitions into Koa routes: authenticate → count the rate limits → check the role → parse params, query
 * and body with their zod schemas (bad input is a 400 before any use case or query runs) → call the handler → write
 * the answer.
 */
export function buildRouter(routes: Route[], opts: { config: Config; wrap?: RouteWrapper; limit?: RouteLimiter }): Router {
  const router = new Router();
  for (const route of routes) {
    router[route.method](route.path, async (ctx) => {
      // Names the matched route for the request log and the metrics, which record it once the answer is final.
      ctx.state.routePath = route.path;
      let caller: Caller = { role: 'service', sub: 'anonymous' };
      if (route.auth !== 'public') {
        caller = await authenticated(route, ctx, opts);
        requireRole(caller, route.auth);
      }
      const params = parse(route.request?.params, ctx.params, 'params');
      const query = parse(route.request?.query, { ...ctx.query }, 'query');
      const raw = route.request?.body ? await readJsonBody(ctx, opts.config.bodyLimitBytes) : undefined;
      const body = parse(route.request?.body, raw, 'body');
      const run = async (extra: { idempotency?: IdempotencyInfo }) =>
        route.handler({ params, query, body, caller, requestId: ctx.state.requestId as string, ...extra });
      const result = opts.wrap ? await opts.wrap(route, ctx, caller, raw, run) : await run({});
      ctx.status = result.status;
      for (const [k, v] of Object.entries(result.headers ?? {})) ctx.set(k, v);
      if (result.body !== undefined) ctx.body = result.body;
    });
  }
  return router;
}
