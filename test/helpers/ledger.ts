import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { checkBenefits, type BenefitsCheckReport } from '../../src/modules/benefits/benefits.check.js';
import { checkLedger } from '../../src/modules/ledger/index.js';
import { ops, service, type ApiResponse, type TestApp } from './app.js';

export { ops, service } from './app.js';

/** A fresh Idempotency-Key. */
export const newKey = (): string => randomUUID();

type KeyedOpts = { token?: string; key?: string };

/** A keyed POST as the business backend sends it (a fresh Idempotency-Key unless one is given). */
export function keyedPost(api: TestApp, path: string, body: unknown, { token = service, key = newKey() }: KeyedOpts = {}): Promise<ApiResponse> {
  return api.request('POST', path, { token, body, headers: { 'Idempotency-Key': key } });
}

/** The ledger's routes, one function each. */
export const points = {
  earn: (api: TestApp, memberId: string, body: unknown, opts?: KeyedOpts) => keyedPost(api, `/v1/members/${memberId}/points/earn`, body, opts),
  spend: (api: TestApp, memberId: string, body: unknown, opts?: KeyedOpts) => keyedPost(api, `/v1/members/${memberId}/points/spend`, body, opts),
  hold: (api: TestApp, memberId: string, body: unknown, opts?: KeyedOpts) => keyedPost(api, `/v1/members/${memberId}/points/holds`, body, opts),
  capture: (api: TestApp, holdId: string, body: unknown = {}, opts?: KeyedOpts) => keyedPost(api, `/v1/points/holds/${holdId}/capture`, body, opts),
  release: (api: TestApp, holdId: string, opts?: KeyedOpts) => keyedPost(api, `/v1/points/holds/${holdId}/release`, undefined, opts),
  reverse: (api: TestApp, entryId: string, body: unknown, opts?: KeyedOpts) => keyedPost(api, `/v1/points/entries/${entryId}/reverse`, body, opts),
  adjust: (api: TestApp, memberId: string, body: unknown, opts?: KeyedOpts) =>
    keyedPost(api, `/v1/members/${memberId}/points/adjust`, body, { token: ops, ...opts }),
};

/** Registers a member through the API. */
export async function registerMember(api: TestApp, memberId: string): Promise<void> {
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId } });
  expect(res.status, res.text).toBe(201);
}

/** Earns points and expects it to land. */
export async function earned(api: TestApp, memberId: string, amount: number, extra: Record<string, unknown> = {}): Promise<ApiResponse> {
  const res = await points.earn(api, memberId, { amount, code: 'order', ...extra });
  expect(res.status, res.text).toBe(201);
  return res;
}

/** The balance a caller reads. */
export async function balanceOf(api: TestApp, memberId: string, token = service): Promise<any> {
  const res = await api.request('GET', `/v1/members/${memberId}/points`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** The whole history of a member, newest first, read page by page through the API. */
export async function historyOf(api: TestApp, memberId: string, query = ''): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const qs: string = `?limit=100${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await api.request('GET', `/v1/members/${memberId}/points/entries${qs}`, { token: service });
    expect(res.status, res.text).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Writes every instance's pending account caches, then checks the whole store: no invariant broken, the benefits'
 * included (stock, redemptions, limits; a redemption still in flight is not broken, and is in `benefits.inFlight` for
 * tests that expect none). With one instance, also no account cache behind its entries (instances racing to write one
 * account's cache may leave it a write behind, on FerretDB, whose updates do not re-check their filter: it is a cache,
 * rebuilt by `ledger:repair`).
 */
export async function expectLedgerClean(apis: TestApp[]): Promise<Awaited<ReturnType<typeof checkLedger>> & { benefits: BenefitsCheckReport }> {
  for (const api of apis) await api.built.flush();
  const first = apis[0] as TestApp;
  const report = await checkLedger(first.db);
  expect(report.violations).toEqual([]);
  if (apis.length === 1) expect(report.staleCaches).toEqual([]);
  const benefits = await checkBenefits(first.db, { now: first.clock.now(), expiredPoints: first.config.benefits.expiredVoucherPoints });
  expect(benefits.violations).toEqual([]);
  return { ...report, benefits };
}
