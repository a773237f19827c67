import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, type TestApp } from './helpers/app.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
  expect((await api.request('POST', '/v1/members', { token: service, body: { memberId: 'dry-1' } })).status).toBe(201);
  const put = await api.request('PUT', '/v1/admin/earning-rules/per-yuan', {
    token: ops,
    body: { name: '1 point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } },
  });
  expect(put.status).toBe(201);
});
afterAll(async () => {
  await api.close();
});

const event = { eventId: 'e-dry', memberId: 'dry-1', type: 'order.paid', occurredAt: '2026-03-01T08:00:00Z', properties: { orderId: 'SO-1', amount: 300 } };
const dryRun = (body: unknown) => api.request('POST', '/v1/admin/earning-rules/dry-run', { token: ops, body });
const perTen = { name: '3 points per 10 yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 10, points: 3 } };

describe('dry run of an unsaved rule', () => {
  it('when a draft has the code of a saved rule, then it stands in for that rule and nothing is saved', async () => {
    const res = await dryRun({ event, draft: { code: 'per-yuan', rule: perTen } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.evaluations).toEqual([expect.objectContaining({ rule: 'per-yuan', fired: true, points: 90 })]);
    expect(res.body.totalPoints).toBe(90);
    const saved = await api.request('GET', '/v1/admin/earning-rules/per-yuan', { token: ops });
    expect(saved.body.rule.name).toBe('1 point per yuan');
  });

  it('when a draft has a new code, then it is evaluated beside the saved rules and is not listed afterwards', async () => {
    const res = await dryRun({ event, draft: { code: 'new-one', rule: { ...perTen, name: 'new' } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.totalPoints).toBe(390);
    const list = await api.request('GET', '/v1/admin/earning-rules', { token: ops });
    expect(list.body.items.map((r: { code: string }) => r.code)).toEqual(['per-yuan']);
  });

  it('when the draft is not a valid rule, then 400 VALIDATION_FAILED names its paths', async () => {
    const res = await dryRun({ event, draft: { code: 'Bad Code', rule: { name: 'x', eventType: 'order.paid' } } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['body.draft.code', 'body.draft.rule.points']));
  });
});
