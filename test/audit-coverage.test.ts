import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type ApiResponse, type TestApp } from './helpers/app.js';
import { coupon, defineBenefit, issued, memberWith } from './helpers/benefits.js';
import { PROGRAM } from './helpers/checkins.js';
import { earned } from './helpers/ledger.js';
import { basicProgram, codeOf, invite, order, putProgram, referralEffect, register } from './referrals/helpers.js';

/**
 * Walks every operation of the OpenAPI document that an ops caller may send with a mutating method, performs it with
 * the example below, and checks that it wrote exactly one audit record naming its target — or none, for the routes
 * the document marks `x-read-only`. An operation without an example fails the test: add one when you add a route.
 */

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api.close();
});

/** What an example sends, and the target its audit record must name (null: the route is read-only, no record). */
type Call = {
  params?: Record<string, string>;
  body?: unknown;
  target: { type: string; id?: string | ((res: ApiResponse) => string) } | null;
};
/** Seeds what the call needs (as the service or as ops: whatever it writes is before the call's time) and describes it. */
type Example = () => Promise<Call>;

const ladder = {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'GOLD', name: 'Gold', threshold: 500 },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 },
};
const rule = { name: '1 point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } };
const task = { name: 'Answer a quiz', eventType: 'quiz.answered', target: 2, window: { type: 'lifetime' }, reward: { points: 10 } };
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A referral waiting in review: its invitee shares a device with an earlier invitee of the same referrer. */
async function referralInReview(): Promise<string> {
  await putProgram(api, basicProgram());
  const referrer = unique('ref');
  await register(api, referrer);
  const code = await codeOf(api, referrer);
  const device = { id: unique('phone') };
  const [first, second] = [unique('inv'), unique('inv')];
  await invite(api, code, first, { device });
  await invite(api, code, second, { device });
  referralEffect(await order(api, first, unique('SO'), 100));
  expect(referralEffect(await order(api, second, unique('SO'), 100)).state).toBe('review');
  return second;
}

const examples: Record<string, Example> = {
  'POST /v1/members': async () => {
    const memberId = unique('walk');
    return { body: { memberId }, target: { type: 'member', id: memberId } };
  },
  'PATCH /v1/members/{memberId}': async () => {
    const memberId = await memberWith(api, unique('walk'), 0);
    return { params: { memberId }, body: { status: 'frozen' }, target: { type: 'member', id: memberId } };
  },
  'POST /v1/members/{memberId}/points/earn': async () => {
    const memberId = await memberWith(api, unique('walk'), 0);
    return { params: { memberId }, body: { amount: 10, code: 'order' }, target: { type: 'member', id: memberId } };
  },
  'POST /v1/points/entries/{entryId}/reverse': async () => {
    const memberId = await memberWith(api, unique('walk'), 0);
    const entryId = (await earned(api, memberId, 50)).body.entry.id as string;
    return { params: { entryId }, body: { amount: 20, code: 'order_refund' }, target: { type: 'member', id: memberId } };
  },
  'POST /v1/members/{memberId}/points/adjust': async () => {
    const memberId = await memberWith(api, unique('walk'), 0);
    return { params: { memberId }, body: { delta: 25, reason: 'goodwill after an outage' }, target: { type: 'member', id: memberId } };
  },
  'PUT /v1/admin/earning-rules/{code}': async () => {
    const code = unique('rule');
    return { params: { code }, body: rule, target: { type: 'earning-rule', id: code } };
  },
  'POST /v1/admin/earning-rules/dry-run': async () => {
    const memberId = await memberWith(api, unique('walk'), 0);
    const event = { eventId: unique('dry'), memberId, type: 'order.paid', occurredAt: api.clock.now().toISOString(), properties: { orderId: 'SO-1', amount: 80 } };
    return { body: { event }, target: null };
  },
  'PUT /v1/admin/tiers': async () => ({ body: ladder, target: { type: 'tier-ladder' } }),
  'POST /v1/admin/tiers/preview': async () => ({ body: { ladder }, target: null }),
  'PUT /v1/admin/tasks/{code}': async () => {
    const code = unique('task');
    return { params: { code }, body: task, target: { type: 'task', id: code } };
  },
  'DELETE /v1/admin/tasks/{code}': async () => {
    const code = unique('task');
    expect((await api.request('PUT', `/v1/admin/tasks/${code}`, { token: ops, body: task })).status).toBe(201);
    return { params: { code }, target: { type: 'task', id: code } };
  },
  'PUT /v1/admin/checkin-config': async () => ({ body: PROGRAM, target: { type: 'checkin-config', id: 'current' } }),
  'PUT /v1/admin/benefits/{code}': async () => {
    const code = unique('coupon');
    return { params: { code }, body: coupon, target: { type: 'benefit', id: code } };
  },
  'POST /v1/admin/benefit-grants': async () => {
    const benefitCode = unique('gift');
    await defineBenefit(api, benefitCode, { costPoints: 0 });
    const memberId = await memberWith(api, unique('walk'), 0);
    return { body: { benefitCode, memberIds: [memberId], note: 'sorry for the delay' }, target: { type: 'benefit-grant', id: (res) => res.body.grant.id } };
  },
  'POST /v1/members/{memberId}/redemptions': async () => {
    const benefitCode = unique('coupon');
    await defineBenefit(api, benefitCode);
    const memberId = await memberWith(api, unique('walk'), 500);
    return { params: { memberId }, body: { benefitCode, quantity: 1 }, target: { type: 'redemption', id: (res) => res.body.redemption.id } };
  },
  'POST /v1/redemptions/{id}/cancel': async () => {
    const benefitCode = unique('coupon');
    await defineBenefit(api, benefitCode);
    const memberId = await memberWith(api, unique('walk'), 500);
    const { id } = await issued(api, memberId, benefitCode);
    return { params: { id }, target: { type: 'redemption', id } };
  },
  'PUT /v1/admin/referral-program': async () => ({ body: basicProgram(), target: { type: 'referral-program' } }),
  'POST /v1/admin/referrals/{id}/approve': async () => {
    const id = await referralInReview();
    return { params: { id }, body: { note: 'same family, checked' }, target: { type: 'referral', id } };
  },
  'POST /v1/admin/referrals/{id}/reject': async () => {
    const id = await referralInReview();
    return { params: { id }, body: { note: 'one person, two accounts' }, target: { type: 'referral', id } };
  },
};

type Operation = { 'x-roles'?: string[]; 'x-read-only'?: boolean; parameters?: Array<{ in: string; name: string }> };
const MUTATING = ['put', 'post', 'patch', 'delete'];

/** Every operation an ops caller may send with a mutating method, as `METHOD /path` with its OpenAPI description. */
async function opsMutations(): Promise<Map<string, Operation>> {
  const doc = (await api.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
  const found = new Map<string, Operation>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (MUTATING.includes(method) && op['x-roles']?.includes('ops')) found.set(`${method.toUpperCase()} ${path}`, op);
    }
  }
  return found;
}

describe('audit coverage of the ops routes', () => {
  it('when the OpenAPI document lists the ops mutations, then each has an example here, and each example is still a route', async () => {
    const routes = [...(await opsMutations()).keys()].sort();
    expect(routes.filter((r) => !(r in examples)), 'routes without an example: add one to `examples`').toEqual([]);
    expect(Object.keys(examples).filter((r) => !routes.includes(r)), 'examples of routes that are gone or not for ops').toEqual([]);
  });

  it('when ops send each mutation, then exactly one audit record names its actor, action, target, request and time; read-only routes write none', async () => {
    const routes = await opsMutations();
    expect(routes.size).toBeGreaterThanOrEqual(19);
    for (const [route, op] of routes) {
      const example = examples[route];
      if (!example) continue; // the test above names it
      const call = await example();
      expect(call.target === null, `${route}: read-only in the document exactly when the example expects no record`).toBe(op['x-read-only'] === true);
      api.clock.advance({ seconds: 1 }); // what the example seeded is before this instant; the call's record is at it
      const from = api.clock.now().toISOString();
      const [method, template] = route.split(' ') as [string, string];
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(call.params?.[name] ?? `missing-${name}`));
      const keyed = op.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key');
      const res = await api.request(method, path, { token: ops, body: call.body, headers: keyed ? { 'Idempotency-Key': randomUUID() } : {} });
      expect(res.status, `${route}: ${res.text}`).toBeLessThan(300);
      const audit = await api.request('GET', `/v1/admin/audit?from=${encodeURIComponent(from)}&limit=100`, { token: ops });
      expect(audit.status, audit.text).toBe(200);
      if (call.target === null) {
        expect(audit.body.items, `${route} is read-only and writes no record`).toEqual([]);
        continue;
      }
      expect(audit.body.items, `${route} writes one record`).toHaveLength(1);
      const [record] = audit.body.items;
      const id = typeof call.target.id === 'function' ? call.target.id(res) : call.target.id;
      expect(record, route).toMatchObject({ actor: { role: 'ops', sub: 'ops-1' }, target: { type: call.target.type, ...(id ? { id } : {}) }, at: from });
      expect(record.action, route).toMatch(/^[a-z-]+\.[a-z-]+$/);
      expect(record.requestId, route).toBe(res.headers.get('x-request-id'));
      expect([record.before, record.after], `${route} says what changed`).not.toEqual([null, null]);
    }
  });

  it('when the service or a member sends a route ops may also send, then nothing is audited', async () => {
    const memberId = await memberWith(api, unique('walk'), 0);
    api.clock.advance({ seconds: 1 });
    const from = api.clock.now().toISOString();
    expect((await earned(api, memberId, 10)).status).toBe(201);
    expect((await api.request('PATCH', `/v1/members/${memberId}`, { token: tokenFor('member', memberId), body: { displayName: 'Kim' } })).status).toBe(200);
    expect((await api.request('POST', '/v1/members', { token: service, body: { memberId: unique('walk') } })).status).toBe(201);
    expect((await api.request('GET', `/v1/admin/audit?from=${encodeURIComponent(from)}`, { token: ops })).body.items).toEqual([]);
  });
});
