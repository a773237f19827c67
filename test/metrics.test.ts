import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ env: { BODY_LIMIT_BYTES: '1024' } });
});
afterAll(async () => {
  await api?.close();
});

type Sample = { method: string; route: string; status?: string };

/** One sample of the last scrape (0 when the series does not exist yet), e.g. http_requests_total{method,route,status}. */
function sampleOf(text: string, name: string, { method, route, status }: Sample): number {
  const labels = `method="${method}",route="${route}"${status ? `,status="${status}"` : ''}`;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function scrape(): Promise<string> {
  const res = await api.request('GET', '/metrics');
  expect(res.status).toBe(200);
  return res.text;
}

const STATUSES = ['201', '400', '401', '403', '404', '409', '413', '415'];
const ROUTES = [
  { method: 'POST', route: '/v1/members' },
  { method: 'POST', route: '/v1/events' },
];

/** The request counter of each route and status, and each route's duration count. */
async function counts(): Promise<Record<string, number>> {
  const text = await scrape();
  const out: Record<string, number> = {};
  for (const r of ROUTES) {
    for (const status of STATUSES) out[`${r.route} ${status}`] = sampleOf(text, 'http_requests_total', { ...r, status });
    out[`${r.route} duration`] = sampleOf(text, 'http_request_duration_seconds_count', r);
  }
  return out;
}

const register = (body: unknown, opts: { token?: string; headers?: Record<string, string> } = { token: service }) =>
  api.request('POST', '/v1/members', { body, ...opts });

describe('/metrics request counters', () => {
  it('when error answers are sent, then each is counted under the status the client received and none under 404', async () => {
    const before = await counts();
    const sent: Array<[string, number]> = [];
    const expectStatus = async (route: string, answer: Promise<{ status: number }>, status: number) => {
      expect((await answer).status, `${route} ${status}`).toBe(status);
      sent.push([route, status]);
    };

    await expectStatus('/v1/members', register({ memberId: 'metrics-1' }), 201);
    await expectStatus('/v1/members', register({ memberId: 'metrics-1' }), 409);
    await expectStatus('/v1/members', register({ memberId: 'metrics-2', unknown: true }), 400);
    await expectStatus('/v1/members', register({ memberId: 'metrics-3' }, {}), 401);
    await expectStatus('/v1/members', register({ memberId: 'metrics-4' }, { token: tokenFor('member', 'metrics-4') }), 403);
    await expectStatus('/v1/members', register('memberId=metrics-5', { token: service, headers: { 'content-type': 'text/plain' } }), 415);
    await expectStatus('/v1/members', register({ memberId: 'metrics-6', displayName: 'x'.repeat(2000) }), 413);

    const event = { eventId: 'metrics-ev-1', memberId: 'metrics-1', type: 'order.paid', occurredAt: api.clock.now().toISOString(), properties: { orderId: 'SO-M1', amount: 10 } };
    const send = (body: unknown) => api.request('POST', '/v1/events', { token: service, body });
    await expectStatus('/v1/events', send(event), 201);
    await expectStatus('/v1/events', send(event), 201); // replayed from the idempotency record
    await expectStatus('/v1/events', send({ ...event, properties: { orderId: 'SO-M1', amount: 20 } }), 409);

    const after = await counts();
    const expected: Record<string, number> = {};
    for (const r of ROUTES) {
      for (const status of STATUSES) expected[`${r.route} ${status}`] = before[`${r.route} ${status}`]!;
      expected[`${r.route} duration`] = before[`${r.route} duration`]!;
    }
    for (const [route, status] of sent) {
      expected[`${route} ${status}`]! += 1;
      expected[`${route} duration`]! += 1;
    }
    expect(after).toEqual(expected);
  });
});
