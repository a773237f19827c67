import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { JwtConfig } from '../../config.js';
import { forbidden, notFound, unauthenticated } from '../errors.js';
import { ROLES, type Caller, type Role } from './route.js';

const claimsSchema = z.object({
  role: z.enum(ROLES),
  sub: z.string().min(1).max(128).optional(),
  exp: z.number(),
});

/**
 * The verification key as a KeyObject, built once per configuration. Given a string, jsonwebtoken builds one on every
 * verify, first trying (and failing) to read an HS256 secret as a public key: 36 % of the service's CPU on balance reads
 * in the benchmark's profile (docs/PERFORMANCE.md).
 */
const keys = new WeakMap<JwtConfig, KeyObject>();
function verificationKey(cfg: JwtConfig): KeyObject {
  let key = keys.get(cfg);
  if (!key) {
    key = cfg.algorithm === 'HS256' ? createSecretKey(Buffer.from(cfg.key)) : createPublicKey(cfg.key);
    keys.set(cfg, key);
  }
  return key;
}

/**
 * Verifies a bearer token with the configured, pinned algorithm (so `alg: none` and HS/RS confusion fail),
 * requires `exp`, checks `iss`/`aud` when configured, and returns the caller.
 */
export function authenticate(header: string | undefined, cfg: JwtConfig): Caller {
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header ?? '');
  if (!match?.[1]) throw unauthenticated();
  let payload: unknown;
  try {
    payload = jwt.verify(match[1], verificationKey(cfg), {
      algorithms: [cfg.algorithm],
      ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
      ...(cfg.audience ? { audience: cfg.audience } : {}),
    });
  } catch (err) {
    const reason = err instanceof jwt.TokenExpiredError ? 'the token has expired' : 'the token is not valid';
    throw unauthenticated(reason);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw unauthenticated('the token needs exp, a role of member, service or ops, and sub for members');
  const { role, sub } = claims.data;
  if (role === 'member' && !sub) throw unauthenticated('a member token needs sub');
  return { role, sub: sub ?? role };
}

export function requireRole(caller: Caller, allowed: readonly Role[]): void {
  if (!allowed.includes(caller.role)) throw forbidden(`role ${caller.role} may not call this route`);
}

/** A member may only see itself; any other id looks like it does not exist (never 403, which would confirm it). */
export function assertSelfOrStaff(caller: Caller, memberId: string): void {
  if (caller.role === 'member' && caller.sub !== memberId) throw notFound('member');
}
