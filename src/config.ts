import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { z } from 'zod';
import { isTimeZone } from './platform/time.js';

/** The repository root, used to find scripts/ and the git-ignored tools folder. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');


const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const flag = (byDefault: boolean) =>
  z
    .enum(['true', 'false'], { message: 'true or false' })
    .default(byDefault ? 'true' : 'false')
    .transform((v) => v === 'true');

/** A rate limit: `<points>/<seconds>` (e.g. `120/60`), or `unlimited`. */
export type RateLimitPolicy = Readonly<{ points: number; seconds: number }> | null;
const rateLimit = (byDefault: string) =>
  z
    .string()
    .default(byDefault)
    .refine((v) => v === 'unlimited' || /^[1-9]\d{0,8}\/[1-9]\d{0,4}$/.test(v), '<points>/<seconds> (e.g. 120/60; points 1–999999999, seconds 1–99999) or unlimited')
    .transform((v): RateLimitPolicy => {
      if (v === 'unlimited') return null;
      const [points, seconds] = v.split('/').map(Number) as [number, number];
      return { points, seconds };
    });

/** Addresses and CIDR ranges, comma-separated (`127.0.0.1,10.0.0.0/8,::1`); empty for none. */
const addressList = z
  .string()
  .default('127.0.0.1,::1')
  .transform((v) => v.split(',').map((a) => a.trim()).filter((a) => a !== ''))
  .refine((list) => list.every(isAddressOrRange), 'comma-separated IP addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8,::1)');

function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  MONGODB_URI: optionalString,
  MONGODB_DB_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only').default('loyalty'),
  DB_ENGINE: z.enum(['auto', 'memory-server', 'ferretdb-sqlite', 'ferretdb-postgresql']).default('auto'),
  DB_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  FERRETDB_POSTGRESQL_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/postgres'),
  FERRETDB_DATA_DIR: optionalString,
  TOOLS_DIR: z.string().min(1).default(path.join(repoRoot, '.tools')),
  CONSOLE_DIR: z.string().min(1).default(path.join(repoRoot, 'console', 'dist')),
  JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256']).default('HS256'),
  JWT_SECRET: optionalString,
  JWT_PUBLIC_KEY: optionalString,
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  DEFAULT_TIMEZONE: z.string().refine(isTimeZone, 'not an IANA time zone').default('UTC'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: optionalString,
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  MAX_POINTS_AMOUNT: z.coerce.number().int().min(1).max(1_000_000_000_000).default(100_000_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().int().min(24).max(24 * 366).default(72),
  POINTS_EXPIRY: z
    .string()
    .regex(/^(never|end-of-year-after-next|rolling:[1-9]\d{0,3}(:(day|month|quarter|year)-end)?)$/, 'never, end-of-year-after-next or rolling:<days>[:day-end|month-end|quarter-end|year-end]')
    .default('rolling:365:month-end'),
  PROGRAM_TIMEZONE: z.string().refine(isTimeZone, 'not an IANA time zone').optional(),
  HOLD_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(900),
  LEDGER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  GROUP_COMMIT_MAX_BATCH: z.coerce.number().int().min(1).max(500).default(50),
  GROUP_COMMIT_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(2),
  BENEFIT_EXPIRED_VOUCHER_POINTS: z.enum(['keep', 'refund']).default('keep'),
  REFERRAL_BASE_URL: z.httpUrl().default('http://127.0.0.1:3000/invite/'),
  REFERRAL_BIND_WINDOW_DAYS: z.coerce.number().int().min(0).max(365).default(7),
  REFERRAL_HASH_KEY: optionalString,
  TRUST_PROXY: flag(false),
  METRICS_ENABLED: flag(true),
  RATE_LIMIT_ENABLED: flag(true),
  RATE_LIMIT_MEMBER: rateLimit('120/60'),
  RATE_LIMIT_SERVICE: rateLimit('unlimited'),
  RATE_LIMIT_OPS: rateLimit('1200/60'),
  RATE_LIMIT_IP: rateLimit('1200/60'),
  RATE_LIMIT_IP_EXEMPT: addressList,
  RATE_LIMIT_CHECKIN: rateLimit('30/60'),
  RATE_LIMIT_REDEEM: rateLimit('30/60'),
  RATE_LIMIT_BIND: rateLimit('10/60'),
  ACTIVE_DAYS: z.coerce.number().int().min(1).max(90).default(30),
  STATS_ROLLUP_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(3_600_000),
});

/** The variables the token key depends on, parsed on their own so key problems are reported with any others. */
const keyEnvSchema = envSchema.pick({ NODE_ENV: true, JWT_ALGORITHM: true, JWT_SECRET: true, JWT_PUBLIC_KEY: true });

export type JwtConfig = {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 secret or the PEM public key for RS256/ES256. */
  key: string;
  /** True when no secret was configured and one was generated for this process (development only). */
  generated: boolean;
  issuer?: string;
  audience?: string;
};

export type Config = Readonly<{
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  db: Readonly<{
    uri?: string;
    name: string;
    engine: 'auto' | 'memory-server' | 'ferretdb-sqlite' | 'ferretdb-postgresql';
    timeoutMs: number;
    ferretdbPostgresqlUrl: string;
    ferretdbDataDir?: string;
  }>;
  toolsDir: string;
  /** The ops console's built files, served at /console (console/dist, built by `npm run console:build`). */
  consoleDir: string;
  jwt: Readonly<JwtConfig>;
  defaultTimezone: string;
  logLevel: string;
  redisUrl?: string;
  bodyLimitBytes: number;
  maxPointsAmount: number;
  shutdownTimeoutMs: number;
  /** How long Idempotency-Key records are kept before the daily purge removes them (PRODUCT.md §2: at least 24 h). */
  idempotencyRetentionHours: number;
  ledger: Readonly<{
    /** How earned points expire (docs/LEDGER.md). */
    expiry: string;
    /** The program's own calendar (expiry period ends); DEFAULT_TIMEZONE unless PROGRAM_TIMEZONE is set. */
    programTimezone: string;
    holdTtlSeconds: number;
    /** How often the in-process sweep expires lots and times out holds; 0 turns it off. */
    sweepIntervalMs: number;
  }>;
  /**
   * Group commit of the inserts on the request path (ledger and check-in entries, and every insertOnce: idempotency
   * records, claims, slots, due records; src/platform/db/group-insert.ts): documents per batch (1: every insert alone)
   * and batches under way per collection.
   */
  groupCommit: Readonly<{ maxBatch: number; maxInFlight: number }>;
  /** What becomes of the points of a voucher that expires unused: kept (the default) or refunded (docs/BENEFITS.md). */
  benefits: Readonly<{ expiredVoucherPoints: 'keep' | 'refund' }>;
  /** Ops analytics (docs/ANALYTICS.md). */
  stats: Readonly<{
    /** A member with an activity in the last this many days of the program's calendar is active (lifecycle segments). */
    activeDays: number;
    /** How often the rollup closes days and repairs facts (one process runs each); 0 turns it off. */
    rollupIntervalMs: number;
  }>;
  /** Invite a friend (docs/REFERRALS.md). */
  referrals: Readonly<{
    /** A share link is this followed by the code. */
    baseUrl: string;
    /** How many days after registering a member may still bind an invite code (a program may set its own). */
    bindWindowDays: number;
    /** The HMAC key device ids and IPs are hashed with; nothing else about them is stored. */
    hashKey: string;
    /** True when no key was configured and one was generated for this process (development and tests only). */
    hashKeyGenerated: boolean;
  }>;
  /** Take the client's address from X-Forwarded-For (behind a load balancer that sets it); else the socket's. */
  trustProxy: boolean;
  /** Off: no request or pool metrics are recorded, /metrics answers 404 (the overhead benchmark's baseline). */
  metricsEnabled: boolean;
  /**
   * Requests per window for each group (null: unlimited), shared through REDIS_URL when it is set
   * (src/platform/http/rate-limit.ts, docs/DECISIONS.md). `ipExempt`: addresses the per-IP limit never counts.
   */
  rateLimit: Readonly<{
    enabled: boolean;
    member: RateLimitPolicy;
    service: RateLimitPolicy;
    ops: RateLimitPolicy;
    ip: RateLimitPolicy;
    checkin: RateLimitPolicy;
    redeem: RateLimitPolicy;
    bind: RateLimitPolicy;
    ipExempt: readonly string[];
  }>;
}>;

/** Thrown when the environment does not describe a valid configuration; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment into a frozen Config, or throws ConfigError naming each bad variable.
 *
 *     const config = loadConfig(process.env);
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // The key is checked even when other variables are bad, so one message names every problem.
  const keyEnv = keyEnvSchema.safeParse(env);
  const jwtKey = keyEnv.success ? resolveJwtKey(keyEnv.data, problems) : undefined;
  const hashKey = parsed.success ? resolveHashKey(parsed.data, problems) : undefined;
  if (!parsed.success || problems.length > 0 || jwtKey === undefined || hashKey === undefined) throw new ConfigError(problems);
  const e = parsed.data;
  const { key, generated } = jwtKey;

  return deepFreeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    db: {
      uri: e.MONGODB_URI,
      name: e.MONGODB_DB_NAME,
      engine: e.DB_ENGINE,
      timeoutMs: e.DB_TIMEOUT_MS,
      ferretdbPostgresqlUrl: e.FERRETDB_POSTGRESQL_URL,
      ferretdbDataDir: e.FERRETDB_DATA_DIR,
    },
    toolsDir: e.TOOLS_DIR,
    consoleDir: e.CONSOLE_DIR,
    jwt: { algorithm: e.JWT_ALGORITHM, key, generated, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    defaultTimezone: e.DEFAULT_TIMEZONE,
    logLevel: e.LOG_LEVEL,
    redisUrl: e.REDIS_URL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxPointsAmount: e.MAX_POINTS_AMOUNT,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    idempotencyRetentionHours: e.IDEMPOTENCY_RETENTION_HOURS,
    ledger: {
      expiry: e.POINTS_EXPIRY,
      programTimezone: e.PROGRAM_TIMEZONE ?? e.DEFAULT_TIMEZONE,
      holdTtlSeconds: e.HOLD_TTL_SECONDS,
      sweepIntervalMs: e.LEDGER_SWEEP_INTERVAL_MS,
    },
    groupCommit: { maxBatch: e.GROUP_COMMIT_MAX_BATCH, maxInFlight: e.GROUP_COMMIT_IN_FLIGHT },
    benefits: { expiredVoucherPoints: e.BENEFIT_EXPIRED_VOUCHER_POINTS },
    stats: { activeDays: e.ACTIVE_DAYS, rollupIntervalMs: e.STATS_ROLLUP_INTERVAL_MS },
    referrals: { baseUrl: e.REFERRAL_BASE_URL, bindWindowDays: e.REFERRAL_BIND_WINDOW_DAYS, hashKey: hashKey.key, hashKeyGenerated: hashKey.generated },
    trustProxy: e.TRUST_PROXY,
    metricsEnabled: e.METRICS_ENABLED,
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      member: e.RATE_LIMIT_MEMBER,
      service: e.RATE_LIMIT_SERVICE,
      ops: e.RATE_LIMIT_OPS,
      ip: e.RATE_LIMIT_IP,
      checkin: e.RATE_LIMIT_CHECKIN,
      redeem: e.RATE_LIMIT_REDEEM,
      bind: e.RATE_LIMIT_BIND,
      ipExempt: e.RATE_LIMIT_IP_EXEMPT,
    },
  });
}

/**
 * The key device ids and IPs are hashed with. Generated per process outside production, like the JWT secret: hashes
 * then only compare within one process, which is all a development run needs. Production needs one key shared by every
 * process, or the fraud guards would count one device as several.
 */
function resolveHashKey(e: z.output<typeof envSchema>, problems: string[]): { key: string; generated: boolean } | undefined {
  if (e.REFERRAL_HASH_KEY !== undefined) {
    if (Buffer.byteLength(e.REFERRAL_HASH_KEY) < 32) problems.push('REFERRAL_HASH_KEY: must be at least 32 bytes');
    return { key: e.REFERRAL_HASH_KEY, generated: false };
  }
  if (e.NODE_ENV === 'production') {
    problems.push('REFERRAL_HASH_KEY: required in production (device ids and IPs are stored only as hashes under it)');
    return undefined;
  }
  return { key: randomBytes(32).toString('base64url'), generated: true };
}

/** The token verification key for the pinned algorithm; what is wrong with it goes onto `problems`. */
function resolveJwtKey(e: z.output<typeof keyEnvSchema>, problems: string[]): { key: string; generated: boolean } | undefined {
  if (e.JWT_ALGORITHM === 'HS256') {
    if (e.JWT_PUBLIC_KEY) problems.push('JWT_PUBLIC_KEY: not used with JWT_ALGORITHM=HS256 (set JWT_SECRET)');
    if (e.JWT_SECRET !== undefined) {
      if (Buffer.byteLength(e.JWT_SECRET) < 32) problems.push('JWT_SECRET: must be at least 32 bytes for HS256');
      return { key: e.JWT_SECRET, generated: false };
    }
    if (e.NODE_ENV === 'production') {
      problems.push('JWT_SECRET: required in production with JWT_ALGORITHM=HS256');
      return undefined;
    }
    return { key: randomBytes(32).toString('base64url'), generated: true };
  }
  if (e.JWT_SECRET) problems.push(`JWT_SECRET: not used with JWT_ALGORITHM=${e.JWT_ALGORITHM} (set JWT_PUBLIC_KEY)`);
  if (!e.JWT_PUBLIC_KEY || !e.JWT_PUBLIC_KEY.includes('-----BEGIN')) {
    problems.push(`JWT_PUBLIC_KEY: a PEM public key is required with JWT_ALGORITHM=${e.JWT_ALGORITHM}`);
    return undefined;
  }
  return { key: e.JWT_PUBLIC_KEY.replace(/\\n/g, '\n'), generated: false };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
