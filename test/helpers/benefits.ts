import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { VOUCHER_ALPHABET } from '../../src/modules/benefits/index.js';
import { ops, service, tokenFor, type ApiResponse, type TestApp } from './app.js';
import { balanceOf, earned } from './ledger.js';

/** A plain coupon: ops' defaults for the redemption tests (each test overrides what it is about). */
export const coupon = { name: 'Coffee coupon', kind: 'coupon', costPoints: 100, stock: 10, voucherValidDays: 30, active: true };

/** A voucher code as issued: four groups of four symbols of the unambiguous alphabet. */
const symbol = `[${VOUCHER_ALPHABET}]`;
export const VOUCHER_CODE = new RegExp(`^${symbol}{4}-${symbol}{4}-${symbol}{4}-${symbol}{4}$`);

/** Defines (or replaces) a benefit as ops and expects it saved. */
export async function defineBenefit(api: TestApp, code: string, body: Record<string, unknown> = {}): Promise<any> {
  const res = await api.request('PUT', `/v1/admin/benefits/${code}`, { token: ops, body: { ...coupon, ...body } });
  expect([200, 201], res.text).toContain(res.status);
  return res.body.benefit;
}

/** Registers a member (in `timezone`, if given) holding `points`. */
export async function memberWith(api: TestApp, memberId: string, points: number, timezone?: string): Promise<string> {
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId, ...(timezone ? { timezone } : {}) } });
  expect(res.status, res.text).toBe(201);
  if (points > 0) await earned(api, memberId, points);
  return memberId;
}

/** A member's tap on "redeem" (`POST /v1/me/redemptions`), under a fresh Idempotency-Key unless one is given. */
export function redeem(api: TestApp, memberId: string, body: unknown, key: string = randomUUID()): Promise<ApiResponse> {
  return api.request('POST', '/v1/me/redemptions', { token: tokenFor('member', memberId), body, headers: { 'Idempotency-Key': key } });
}

/** The business backend redeeming for a member (`POST /v1/members/:id/redemptions`). */
export function redeemFor(api: TestApp, memberId: string, body: unknown, key: string = randomUUID()): Promise<ApiResponse> {
  return api.request('POST', `/v1/members/${memberId}/redemptions`, { token: service, body, headers: { 'Idempotency-Key': key } });
}

/** Redeems and expects a voucher. */
export async function issued(api: TestApp, memberId: string, benefitCode: string, quantity = 1): Promise<any> {
  const res = await redeem(api, memberId, { benefitCode, quantity });
  expect(res.status, res.text).toBe(201);
  expect(res.body.redemption.status).toBe('issued');
  return res.body.redemption;
}

export const useVoucher = (api: TestApp, id: string, token = service) => api.request('POST', `/v1/redemptions/${encodeURIComponent(id)}/use`, { token });
export const cancelVoucher = (api: TestApp, id: string, token: string, key: string = randomUUID()) =>
  api.request('POST', `/v1/redemptions/${encodeURIComponent(id)}/cancel`, { token, headers: { 'Idempotency-Key': key } });

/** A redemption as ops read it. */
export async function redemptionById(api: TestApp, id: string): Promise<any> {
  const res = await api.request('GET', `/v1/redemptions/${encodeURIComponent(id)}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.redemption;
}

/** The part of a balance a redemption moves. */
export async function pointsOf(api: TestApp, memberId: string): Promise<{ available: number; held: number }> {
  const { available, held } = await balanceOf(api, memberId);
  return { available, held };
}

/** Units of a benefit left, as members read it in the catalogue. */
export async function stockLeft(api: TestApp, code: string, memberId: string): Promise<number | null> {
  return (await catalogueItem(api, code, memberId)).stockLeft;
}

/** A benefit as `memberId` sees it in `GET /v1/benefits` (its stockLeft, limitLeft, reasons). */
export async function catalogueItem(api: TestApp, code: string, memberId: string): Promise<any> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: ApiResponse = await api.request('GET', `/v1/benefits?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token: tokenFor('member', memberId) });
    expect(res.status, res.text).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  const item = items.find((b) => b.code === code);
  expect(item, `${code} in ${memberId}'s catalogue`).toBeDefined();
  return item;
}

/** The stock's levels read fresh, after asserting that its invariants hold. */
export async function cleanStock(api: TestApp, code: string) {
  expect(await api.built.services.stock.check(code)).toEqual([]);
  return api.built.services.stock.levels(code);
}

/** Every redemption an admin list answers for `query` (`benefit=…&memberId=…`), page by page. */
export async function adminRedemptions(api: TestApp, query: string, limit = 100): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: ApiResponse = await api.request('GET', `/v1/admin/redemptions?limit=${limit}&${query}${cursor ? `&cursor=${cursor}` : ''}`, { token: ops });
    expect(res.status, res.text).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}
