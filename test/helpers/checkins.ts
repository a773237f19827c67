import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { tokenFor, type ApiResponse, type TestApp } from './app.js';
import { ops, service } from './ledger.js';

/** The program the check-in tests run (a milestone at 3 days keeps the cases short). */
export const PROGRAM = {
  cycle: [5, 5, 10, 5, 5, 10, 30],
  milestones: [{ streak: 3, points: 100, growth: 10 }],
  growthPerCheckin: 2,
  makeup: { cost: 20, perMonth: 2 },
};

export async function configure(api: TestApp, config: unknown = PROGRAM): Promise<void> {
  const res = await api.request('PUT', '/v1/admin/checkin-config', { token: ops, body: config });
  expect(res.status, res.text).toBe(200);
}

/** Registers a member in a time zone at the clock's current time. */
export async function memberIn(api: TestApp, memberId: string, timezone: string): Promise<string> {
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId, timezone } });
  expect(res.status, res.text).toBe(201);
  return memberId;
}

/** A member's tap on "check in" (a fresh Idempotency-Key unless one is given). */
export const checkIn = (api: TestApp, memberId: string, key: string = randomUUID()): Promise<ApiResponse> =>
  api.request('POST', '/v1/me/checkins', { token: tokenFor('member', memberId), headers: { 'Idempotency-Key': key } });

export const makeUp = (api: TestApp, memberId: string, day: string, key: string = randomUUID()): Promise<ApiResponse> =>
  api.request('POST', '/v1/me/checkins/makeup', { token: tokenFor('member', memberId), body: { day }, headers: { 'Idempotency-Key': key } });

export async function calendar(api: TestApp, memberId: string, month?: string) {
  const res = await api.request('GET', `/v1/me/checkins${month ? `?month=${month}` : ''}`, { token: tokenFor('member', memberId) });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Checks in and expects a 201 for `day`. */
export async function checkedIn(api: TestApp, memberId: string, day: string): Promise<ApiResponse> {
  const res = await checkIn(api, memberId);
  expect(res.status, res.text).toBe(201);
  expect(res.body.day).toBe(day);
  return res;
}

export async function available(api: TestApp, memberId: string): Promise<number> {
  const res = await api.request('GET', `/v1/members/${memberId}/points`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.available;
}

export async function growthOf(api: TestApp, memberId: string): Promise<number> {
  const res = await api.request('GET', `/v1/members/${memberId}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.summary.growth.value;
}
