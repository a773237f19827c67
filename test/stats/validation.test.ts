import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api.close();
});

const get = (query: string, token = ops, name = 'points') => api.request('GET', `/v1/admin/stats/${name}${query}`, { token });
const paths = (res: { body: any }) => res.body.error.details.issues.map((i: { path: string }) => i.path);

describe('stats queries', () => {
  it('when a query is hostile or malformed, then it is refused with 400 naming the parameter, and never reaches a report', async () => {
    const cases: Array<[string, string]> = [
      ['', 'query.from'],
      ['?from=2026-03-01', 'query.to'],
      ['?from=2026-02-30&to=2026-03-01', 'query.from'],
      ['?from=2026-3-1&to=2026-03-01', 'query.from'],
      ['?from=2026-03-05&to=2026-03-01', 'query.to'],
      ['?from=2025-03-01&to=2026-03-02', 'query.to'], // 367 days
      ['?from=2026-03-01&to=2026-03-02&interval=hour', 'query.interval'],
      ['?from[$gt]=&to=2026-03-01', 'query'],
      ['?from=2026-03-01&from=2026-03-02&to=2026-03-03', 'query.from'],
      ['?from=2026-03-01&to=2026-03-02&limit=5', 'query'],
      ['?from=2026-03-01T00:00:00Z&to=2026-03-02', 'query.from'],
    ];
    for (const [query, path] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe('VALIDATION_FAILED');
      expect(paths(res).join(' '), query).toContain(path);
    }
    for (const top of ['0', '101', '1.5', 'ten']) {
      const res = await get(`?from=2026-03-01&to=2026-03-02&top=${top}`, ops, 'referrals');
      expect(res.status, top).toBe(400);
      expect(paths(res)).toContain('query.top');
    }
    expect((await get('?from=2026-03-01&to=2026-03-02&top=5', ops, 'points')).status).toBe(400); // top belongs to referrals
  });

  it('when the range is exactly 366 days, then it is answered; when the caller is not ops, then 401 or 403', async () => {
    const year = await get('?from=2025-03-02&to=2026-03-02&interval=month');
    expect(year.status, year.text).toBe(200);
    expect(year.body.intervals).toHaveLength(13);
    expect(year.body.intervals[0]).toMatchObject({ start: '2025-03-02', end: '2025-03-31', earned: 0, liability: { points: 0 } });
    expect((await get('?from=2026-03-01&to=2026-03-01', service)).status).toBe(403);
    expect((await get('?from=2026-03-01&to=2026-03-01', tokenFor('member', 'x'))).status).toBe(403);
    expect((await api.request('GET', '/v1/admin/stats/points?from=2026-03-01&to=2026-03-01')).status).toBe(401);
    expect((await get('?from=2026-03-01&to=2026-03-01', ops, 'everything')).status).toBe(404);
  });
});
