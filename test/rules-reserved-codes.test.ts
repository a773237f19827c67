import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservedRuleCodes } from '../src/modules/rules/rules.schemas.js';
import { ops, service, startTestApp, type TestApp } from './helpers/app.js';
import { expectError, issuePaths } from './helpers/expect.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});

const rule = { name: 'one point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } };
const putRule = (code: string) => api.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body: rule });

describe('earning rule codes that are route words', () => {
  it('when ops PUT a rule named dry-run, then 400 VALIDATION_FAILED names params.code and no rule is listed', async () => {
    for (const code of ['dry-run', ...reservedRuleCodes]) {
      const res = await putRule(code);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res)).toEqual(['params.code']);
    }
    const list = await api.request('GET', '/v1/admin/earning-rules', { token: ops });
    expect(list.status).toBe(200);
    expect(list.body.items.map((r: { code: string }) => r.code)).not.toContain('dry-run');
  });

  it('when a rule exists, then POST /v1/admin/earning-rules/dry-run still evaluates an event against it', async () => {
    expect((await putRule('order-base')).status).toBe(201);
    expect((await putRule('dry-run-campaign')).status).toBe(201); // only the exact route word is reserved
    expect((await api.request('POST', '/v1/members', { token: service, body: { memberId: 'ann' } })).status).toBe(201);
    const event = { eventId: 'paid-SO-1', memberId: 'ann', type: 'order.paid', occurredAt: '2026-03-01T08:00:00Z', properties: { orderId: 'SO-1', amount: 120 } };
    const res = await api.request('POST', '/v1/admin/earning-rules/dry-run', { token: ops, body: { event } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.evaluations).toContainEqual(expect.objectContaining({ rule: 'order-base', fired: true, points: 120 }));
  });
});
