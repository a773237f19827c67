import { BlockList, isIP } from 'node:net';
import type { Context } from 'koa';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { rateLimitGroupOf, type Caller, type RateLimitGroup, type Route } from './route.js';
import type { RouteLimiter } from './router.js';

/** A limit a request can count against: a route group's, or the client address's. */
type Policy = Exclude<RateLimitGroup, 'none'> | 'ip';
const POLICIES: readonly Policy[] = ['member', 'service', 'ops', 'checkin', 'redeem', 'bind', 'ip'];
const ROLE_GROUPS = new Set<RateLimitGroup | undefined>(['member', 'service', 'ops']);
const MEMBER_GROUPS = new Set<RateLimitGroup | undefined>(['checkin', 'redeem', 'bind']);

/** How long one Redis call may take before the request goes through without it. */
const REDIS_TIMEOUT_MS = 500;
/** How long start-up waits for Redis; until it answers, requests go through unlimited. */
const REDIS_CONNECT_WAIT_MS = 2000;
/** While the store fails, at most one warning per interval (with the count of those left out). */
const WARN_EVERY_MS = 10_000;

/** What a request counted against one limit, for the RateLimit fields. */
type Counted = { policy: Policy; quota: number; window: number; remaining: number; reset: number; refused?: true };

export type RateLimits = {
  /** The router's step after authentication (src/platform/http/router.ts). */
  limit: RouteLimiter;
  /** Resolves once Redis answers, or after REDIS_CONNECT_WAIT_MS without it (the service starts unlimited then). */
  ready: Promise<void>;
  close(): void;
  backend: 'off' | 'memory' | 'redis';
};

/**
 * Rate limits on rate-limiter-flexible (PRODUCT.md §10, docs/DECISIONS.md), counted after authentication:
 * - per caller: `<role>:<sub>` against its role's limit (RATE_LIMIT_MEMBER, _SERVICE, _OPS), or the route's role group;
 * - per member on the `checkin`, `redeem` and `bind` groups: the member the request acts for (its own token's `sub`,
 *   or the path's `:memberId`), on top of the caller's limit;
 * - per client address (RATE_LIMIT_IP): requests without a valid token (a 401 counts) and member requests; backends
 *   and ops are limited by their token, since many of them may share one address. RATE_LIMIT_IP_EXEMPT is never counted.
 * In memory per process, or shared through Redis when REDIS_URL is set. A store that fails lets the request through
 * (fail open) with a throttled warning and `rate_limit_backend_errors_total`: an outage of Redis must not become one
 * of the service. A refusal is 429 RATE_LIMITED with Retry-After; every counted answer carries the IETF fields
 * `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers).
 *
 *     const limits = createRateLimits({ config: config.rateLimit, redisUrl, metrics, logger }); buildRouter(routes, { limit: limits.limit, ... })
 */
export function createRateLimits(deps: { config: Config['rateLimit']; redisUrl?: string; metrics: Metrics; logger: Logger }): RateLimits {
  const { config, metrics } = deps;
  if (!config.enabled) return { limit: async () => {}, ready: Promise.resolve(), close: () => {}, backend: 'off' };
  const warn = throttled(deps.logger);
  const redis = deps.redisUrl ? connect(deps.redisUrl, warn) : undefined;

  const limiters = new Map<Policy, { limiter: RateLimiterAbstract; quota: number; window: number }>();
  for (const policy of POLICIES) {
    const p = config[policy];
    if (!p) continue; // unlimited
    const opts = { keyPrefix: `loyalty:rl:${policy}`, points: p.points, duration: p.seconds };
    // Once a key is refused, this process refuses it until the window ends without asking Redis again.
    const limiter = redis
      ? new RateLimiterRedis({ ...opts, storeClient: redis, rejectIfRedisNotReady: true, inMemoryBlockOnConsumed: p.points + 1 })
      : new RateLimiterMemory(opts);
    limiters.set(policy, { limiter, quota: p.points, window: p.seconds });
  }
  const exempt = new BlockList();
  for (const entry of config.ipExempt) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) exempt.addAddress(address, family);
    else exempt.addSubnet(address, Number(prefix), family);
  }
  const groups = new WeakMap<Route, RateLimitGroup | undefined>();

  /** Counts one request against one limit; throws 429 RATE_LIMITED when it is over, lets it through when the store fails. */
  async function take(policy: Policy, key: string, counted: Counted[]): Promise<void> {
    const l = limiters.get(policy);
    if (!l) return;
    let res: RateLimiterRes;
    try {
      res = await l.limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        metrics.rateLimitBackendErrors.inc();
        warn(err, 'the rate-limit store failed; requests go through unlimited until it answers again');
        return;
      }
      const reset = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      counted.push({ policy, quota: l.quota, window: l.window, remaining: 0, reset, refused: true });
      metrics.rateLimitRefusals.inc({ group: policy });
      throw new AppError(429, 'RATE_LIMITED', `too many requests: the ${policy} limit is ${l.quota} per ${l.window} s; retry in ${reset} s`, {
        limit: policy,
        retryAfterSeconds: reset,
      });
    }
    counted.push({ policy, quota: l.quota, window: l.window, remaining: res.remainingPoints, reset: Math.ceil(res.msBeforeNext / 1000) });
  }

  const counts = (ip: string) => ip !== '' && !exempt.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');

  async function limit(route: Route, ctx: Context, caller: Caller | undefined): Promise<void> {
    if (!groups.has(route)) groups.set(route, rateLimitGroupOf(route));
    const group = groups.get(route);
    if (group === 'none') return;
    const counted: Counted[] = [];
    try {
      if ((!caller || caller.role === 'member') && counts(ctx.ip)) await take('ip', ctx.ip, counted);
      if (!caller) return;
      await take(ROLE_GROUPS.has(group) ? (group as Policy) : caller.role, `${caller.role}:${caller.sub}`, counted);
      if (MEMBER_GROUPS.has(group)) {
        const memberId = caller.role === 'member' ? caller.sub : (ctx.params as Record<string, string> | undefined)?.memberId;
        // A path id too long to be a member id is refused by the route's validation; it is not worth a key.
        if (memberId && memberId.length <= 128) await take(group as Policy, memberId, counted);
      }
    } finally {
      if (counted.length > 0) setFields(ctx, counted);
    }
  }

  const ready = redis
    ? new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, REDIS_CONNECT_WAIT_MS);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      })
    : Promise.resolve();
  return { limit, ready, close: () => redis?.disconnect(), backend: redis ? 'redis' : 'memory' };
}

/**
 * The IETF fields (draft-ietf-httpapi-ratelimit-headers): each limit counted, with its quota and window, and what is
 * left of it and when it resets; a refusal adds Retry-After.
 */
function setFields(ctx: Context, counted: Counted[]): void {
  ctx.set('RateLimit-Policy', counted.map((c) => `"${c.policy}";q=${c.quota};w=${c.window}`).join(', '));
  ctx.set('RateLimit', counted.map((c) => `"${c.policy}";r=${c.remaining};t=${c.reset}`).join(', '));
  const refused = counted.find((c) => c.refused);
  if (refused) ctx.set('Retry-After', String(refused.reset));
}

/**
 * A Redis client that fails fast while disconnected (no offline queue, a short command timeout) and reconnects on its
 * own, so a request never waits on an outage for long.
 */
function connect(url: string, warn: (err: unknown, msg: string) => void): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, commandTimeout: REDIS_TIMEOUT_MS, maxRetriesPerRequest: 1 });
  redis.on('error', (err: unknown) => warn(err, 'the rate-limit store (Redis) is unreachable; requests go through unlimited until it answers again'));
  return redis;
}

/** A warning at most once per WARN_EVERY_MS, saying how many were left out since the last one. */
function throttled(logger: Logger): (err: unknown, msg: string) => void {
  let last = -Infinity;
  let leftOut = 0;
  return (err, msg) => {
    const now = performance.now();
    if (now - last < WARN_EVERY_MS) {
      leftOut++;
      return;
    }
    logger.warn({ err, leftOut }, msg);
    last = now;
    leftOut = 0;
  };
}
