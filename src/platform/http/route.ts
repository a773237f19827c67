import type { z, ZodObject, ZodType } from 'zod';

export type Role = 'member' | 'service' | 'ops';
export const ROLES = ['member', 'service', 'ops'] as const satisfies readonly Role[];

/**
 * The rate limit a route counts against (src/platform/http/rate-limit.ts). The role groups limit the caller's token;
 * `checkin`, `redeem` and `bind` limit the member the request acts for (its own token's, or the path's `:memberId`),
 * on top of the caller's role limit; `none` is not limited at all.
 */
export type RateLimitGroup = Role | 'checkin' | 'redeem' | 'bind' | 'none';

/** Who is calling, from a verified token. For members `sub` is their memberId; for others it names the actor. */
export type Caller = { role: Role; sub: string };

type Out<T> = T extends ZodType ? z.output<T> : undefined;

export type RouteInput<P, Q, B> = {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  /** On public routes, a placeholder (`anonymous`) that their handlers do not read. */
  caller: Caller;
  requestId: string;
  /** Set on routes marked `idempotent`: the caller-scoped key, the request fingerprint, and whether this is a retry. */
  idempotency?: { scope: string; fingerprint: string; retry: boolean };
};

export type RouteResult = { status: number; body?: unknown; headers?: Record<string, string> };

export type RouteDef<P, Q, B> = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa-style path, e.g. `/v1/members/:memberId`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles allowed to call, or 'public'. */
  auth: readonly Role[] | 'public';
  request?: { params?: P; query?: Q; body?: B };
  responses: Record<number, { description: string; schema?: ZodType; contentType?: string }>;
  /** The errors the use case can answer with, listed in the OpenAPI document. */
  errors?: readonly number[];
  /**
   * Mutations that move points or stock take an Idempotency-Key (PRODUCT.md §2); `keyFrom` takes the key from the
   * (validated) body instead, as events do with their eventId.
   */
  idempotent?: boolean | { keyFrom: (body: unknown) => string };
  /** Default: `none` for public routes, else the caller's role (the routes of GROUPS_BY_PATH excepted). */
  rateLimit?: RateLimitGroup;
  /**
   * A POST that changes nothing (a preview, a dry run): shown as `x-read-only` in the OpenAPI document, so readers and
   * the audit coverage test know it writes no audit record. Every other PUT, POST, PATCH and DELETE an ops caller can
   * send is an audited mutation (docs/DECISIONS.md, "Audit").
   */
  readOnly?: true;
  handler: (input: RouteInput<P, Q, B>) => Promise<RouteResult> | RouteResult;
};

/**
 * Routes limited per member that may be defined before their module declares the group (the referral bind lands with
 * the referrals module): matched by method and path.
 */
const GROUPS_BY_PATH: Record<string, RateLimitGroup> = { 'post /v1/me/referral/bind': 'bind' };

/** The route's rate-limit group; `undefined` means the caller's role decides (member, service or ops). */
export function rateLimitGroupOf(route: Pick<RouteDef<unknown, unknown, unknown>, 'method' | 'path' | 'auth' | 'rateLimit'>): RateLimitGroup | undefined {
  if (route.rateLimit) return route.rateLimit;
  if (route.auth === 'public') return 'none';
  return GROUPS_BY_PATH[`${route.method} ${route.path}`];
}

// The erased form routes are collected in; handlers are typed where they are defined.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Route = RouteDef<any, any, any>;

/**
 * Declares a route once: its schemas validate the request, type the handler and describe it in OpenAPI.
 *
 *     defineRoute({ method: 'get', path: '/v1/me', auth: ['member'], ..., handler: ({ caller }) => ... })
 */
export function defineRoute<
  P extends ZodObject | undefined = undefined,
  Q extends ZodObject | undefined = undefined,
  B extends ZodType | undefined = undefined,
>(route: RouteDef<P, Q, B>): Route {
  return route;
}
