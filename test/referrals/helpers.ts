import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { ops, service, tokenFor, type ApiResponse, type TestApp } from '../helpers/app.js';

/** A program paying 100 points to the referrer and 50 to the invitee on a first order, spendable at once unless told. */
export const basicProgram = (over: Record<string, unknown> = {}) => ({ rewards: { referrer: { points: 100 }, invitee: { points: 50 } }, holdDays: 0, ...over });

export async function putProgram(api: TestApp, body: Record<string, unknown>): Promise<any> {
  const res = await api.request('PUT', '/v1/admin/referral-program', { token: ops, body });
  expect(res.status, res.text).toBe(200);
  return res.body.program;
}

/**
 * Registers a member, then moves the clock a second on: only a member who joined earlier can refer another, and
 * members registered at one instant are ordered by id, which tests should not have to think about.
 */
export async function register(api: TestApp, memberId: string, extra: Record<string, unknown> = {}): Promise<ApiResponse> {
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId, ...extra } });
  expect(res.status, res.text).toBe(201);
  api.clock.advance({ seconds: 1 });
  return res;
}

/** The member's own referral page, as the app reads it. */
export async function myReferral(api: TestApp, memberId: string, query = ''): Promise<any> {
  const res = await api.request('GET', `/v1/me/referral${query}`, { token: tokenFor('member', memberId) });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export const codeOf = async (api: TestApp, memberId: string): Promise<string> => (await myReferral(api, memberId)).code;

export const bind = (api: TestApp, memberId: string, code: unknown, device?: Record<string, unknown>) =>
  api.request('POST', '/v1/me/referral/bind', { token: tokenFor('member', memberId), body: { code, ...(device ? { device } : {}) } });

/** Registers an invitee with a referrer's code at registration, and expects the binding to land. */
export async function invite(api: TestApp, referrerCode: string, memberId: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await register(api, memberId, { referralCode: referrerCode, ...extra });
  expect(res.body.referral, res.text).toMatchObject({ bound: true, refusal: null });
}

export function order(api: TestApp, memberId: string, orderId: string, amount: number, opts: { eventId?: string; occurredAt?: Date } = {}): Promise<ApiResponse> {
  const body = {
    eventId: opts.eventId ?? `paid-${orderId}-${randomUUID()}`,
    memberId,
    type: 'order.paid',
    occurredAt: (opts.occurredAt ?? api.clock.now()).toISOString(),
    properties: { orderId, amount },
  };
  return api.request('POST', '/v1/events', { token: service, body });
}

export const refund = (api: TestApp, memberId: string, orderId: string, amount: number) =>
  api.request('POST', '/v1/events', {
    token: service,
    body: { eventId: `refund-${orderId}-${randomUUID()}`, memberId, type: 'order.refunded', occurredAt: api.clock.now().toISOString(), properties: { orderId, amount } },
  });

/** The referral effect of an event's answer (there is at most one: a member is one referral's invitee). */
export function referralEffect(res: ApiResponse): any {
  expect(res.status, res.text).toBe(201);
  expect(res.body.effects.referral.length).toBeLessThanOrEqual(1);
  return res.body.effects.referral[0];
}

export async function referralOf(api: TestApp, invitee: string): Promise<any> {
  const res = await api.request('GET', `/v1/admin/referrals/${invitee}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.referral;
}

/** Points of the member that are still pending (a referral reward inside its hold period). */
export async function pending(api: TestApp, memberId: string): Promise<number> {
  const res = await api.request('GET', `/v1/members/${memberId}/points`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.pending;
}

export async function available(api: TestApp, memberId: string): Promise<number> {
  const res = await api.request('GET', `/v1/members/${memberId}/points`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.available;
}

export const decide = (api: TestApp, invitee: string, verb: 'approve' | 'reject', note?: string, key = randomUUID()) =>
  api.request('POST', `/v1/admin/referrals/${invitee}/${verb}`, { token: ops, body: note ? { note } : {}, headers: { 'Idempotency-Key': key } });
