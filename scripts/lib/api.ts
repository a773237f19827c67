/**
 * What the load and benchmark scripts need from the running service: a token, seeded members, balances.
 * They talk to it over HTTP like any client, never through its modules.
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** A fresh HS256 secret for a service this script starts. */
export const generateSecret = () => randomBytes(32).toString('base64url');

/** A `service` token (the business backend's role) signed as scripts/token.ts would. */
export const serviceToken = (secret: string, sub = 'load') => jwt.sign({ role: 'service', sub }, secret, { algorithm: 'HS256', expiresIn: '4h' });
export const opsToken = (secret: string, sub = 'load') => jwt.sign({ role: 'ops', sub }, secret, { algorithm: 'HS256', expiresIn: '4h' });

/** Sets earning rules through the API (PUT /v1/admin/earning-rules/:code). */
export async function putRules(baseUrl: string, token: string, rules: Record<string, unknown>): Promise<void> {
  for (const [code, rule] of Object.entries(rules)) {
    const res = await fetch(`${baseUrl}/v1/admin/earning-rules/${code}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    if (res.status >= 300) throw new Error(`setting rule ${code}: ${res.status} ${await res.text()}`);
  }
}

/** Three rules that all fire on an order.paid of 500 or more in apparel or grocery: the load and bench events. */
export const orderRules: Record<string, unknown> = {
  'load-order': { name: '1 point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, growth: { kind: 'per-unit', property: 'amount', unit: 10, points: 1 } },
  'load-category': { name: '10 bonus on apparel and grocery', eventType: 'order.paid', points: { kind: 'fixed', amount: 10 }, conditions: { categories: ['apparel', 'grocery'] } },
  'load-basket': { name: '50 bonus from 500', eventType: 'order.paid', points: { kind: 'fixed', amount: 50 }, conditions: { minAmount: 500 } },
};

/** Runs `fn` over `items`, at most `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** One request as a client sends it; answers the status and the parsed body. */
export async function call(baseUrl: string, token: string, method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * Registers the members (an existing one is fine, so a kept database can be reused) and credits each an opening
 * balance with a deterministic key, so a repeated seed does not credit twice.
 */
export async function seedMembers(
  baseUrl: string,
  token: string,
  memberIds: readonly string[],
  opts: { openingPoints?: number; concurrency?: number } = {},
): Promise<void> {
  await pool(memberIds, opts.concurrency ?? 8, async (memberId) => {
    const created = await call(baseUrl, token, 'POST', '/v1/members', { memberId, displayName: `Load ${memberId}` });
    if (created.status !== 201 && created.status !== 409) throw new Error(`registering ${memberId}: ${created.status} ${JSON.stringify(created.body)}`);
    if (!opts.openingPoints) return;
    const earned = await call(baseUrl, token, 'POST', `/v1/members/${memberId}/points/earn`, { amount: opts.openingPoints, code: 'migration' }, `seed-${memberId}`);
    if (earned.status !== 201) throw new Error(`opening balance of ${memberId}: ${earned.status} ${JSON.stringify(earned.body)}`);
  });
}

/** available + held of each member, as the service reports it (GET /v1/members/:id/points). */
export async function balances(baseUrl: string, token: string, memberIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await pool(memberIds, 8, async (memberId) => {
    const res = await call(baseUrl, token, 'GET', `/v1/members/${memberId}/points`);
    if (res.status !== 200) throw new Error(`balance of ${memberId}: ${res.status} ${JSON.stringify(res.body)}`);
    const b = res.body as { available: number; held: number };
    out.set(memberId, b.available + b.held);
  });
  return out;
}
