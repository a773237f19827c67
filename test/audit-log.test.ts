import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';
import { expectError, issuePaths } from './helpers/expect.js';
import { registerMember } from './helpers/ledger.js';

/** `GET /v1/admin/audit`: filters by actor, action, target and time range, newest first, cursor-paginated (PRODUCT.md §2, §10). */
let api: TestApp;
const alice = tokenFor('ops', 'alice');
const bob = tokenFor('ops', 'bob');
const rule = { name: 'fixed 5', eventType: 'order.paid', points: { kind: 'fixed', amount: 5 } };
/** Instants of the records written in beforeAll, one minute apart from 09:00. */
const minute = (n: number) => new Date(Date.parse('2026-03-01T09:00:00Z') + n * 60_000).toISOString();

beforeAll(async () => {
  api = await startTestApp();
  await registerMember(api, 'log-m1');
  await registerMember(api, 'log-m2');
  // 09:00..09:05: alice creates two rules, bob updates one, alice freezes a member, bob renames it, bob freezes another.
  const writes: Array<[string, string, string, unknown]> = [
    [alice, 'PUT', '/v1/admin/earning-rules/log-a', rule],
    [alice, 'PUT', '/v1/admin/earning-rules/log-b', rule],
    [bob, 'PUT', '/v1/admin/earning-rules/log-a', { ...rule, name: 'fixed 6' }],
    [alice, 'PATCH', '/v1/members/log-m1', { status: 'frozen' }],
    [bob, 'PATCH', '/v1/members/log-m1', { displayName: 'Mia' }],
    [bob, 'PATCH', '/v1/members/log-m2', { status: 'frozen' }],
  ];
  for (const [i, [token, method, path, body]] of writes.entries()) {
    api.clock.set(minute(i));
    const res = await api.request(method, path, { token, body });
    expect(res.status, res.text).toBeLessThan(300);
  }
});
afterAll(async () => {
  await api.close();
});

const list = async (query: string) => {
  const res = await api.request('GET', `/v1/admin/audit?${query}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body as { items: any[]; nextCursor: string | null };
};
const summary = (items: any[]) => items.map((r) => `${r.actor.sub} ${r.action} ${r.target.id}`);

describe('the audit log', () => {
  it('when read without filters, then every record comes newest first', async () => {
    expect(summary((await list('limit=100')).items)).toEqual([
      'bob member.update log-m2',
      'bob member.update log-m1',
      'alice member.update log-m1',
      'bob earning-rule.update log-a',
      'alice earning-rule.create log-b',
      'alice earning-rule.create log-a',
    ]);
  });

  it('when filtered by actor, action, target type, target id or several at once, then only the matching records come back', async () => {
    expect(summary((await list('actor=bob')).items)).toEqual(['bob member.update log-m2', 'bob member.update log-m1', 'bob earning-rule.update log-a']);
    expect(summary((await list('action=earning-rule.create')).items)).toEqual(['alice earning-rule.create log-b', 'alice earning-rule.create log-a']);
    expect(summary((await list('targetType=member')).items)).toHaveLength(3);
    expect(summary((await list('targetId=log-a')).items)).toEqual(['bob earning-rule.update log-a', 'alice earning-rule.create log-a']);
    expect(summary((await list('actor=bob&targetType=member&targetId=log-m1')).items)).toEqual(['bob member.update log-m1']);
    expect((await list('actor=nobody')).items).toEqual([]);
  });

  it('when filtered by a time range, then `from` is included and `to` is not', async () => {
    expect(summary((await list(`from=${minute(2)}&to=${minute(4)}`)).items)).toEqual(['alice member.update log-m1', 'bob earning-rule.update log-a']);
    expect((await list(`from=${minute(5)}`)).items.map((r) => r.at)).toEqual([minute(5)]);
    expect((await list(`to=${minute(1)}`)).items.map((r) => r.at)).toEqual([minute(0)]);
    expect((await list(`from=${encodeURIComponent('2026-03-01T17:03:00+08:00')}&to=${minute(4)}`)).items.map((r) => r.at)).toEqual([minute(3)]);
  });

  it('when paged two at a time with a filter, then each record comes once, in order, and the last page has no cursor', async () => {
    const all = (await list('actor=alice&limit=100')).items.map((r) => r.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: any[]; nextCursor: string | null } = await list(`actor=alice&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(seen).toHaveLength(3);
  });

  it('when a record is read, then it has the actor, the action, the target, before and after, the request id and the time', async () => {
    const [freeze] = (await list('actor=alice&targetId=log-m1')).items;
    expect(freeze).toEqual({
      id: expect.stringMatching(/^member\.update:log-m1:/),
      actor: { role: 'ops', sub: 'alice' },
      action: 'member.update',
      target: { type: 'member', id: 'log-m1' },
      before: { status: 'active' },
      after: { status: 'frozen' },
      reason: null,
      requestId: expect.any(String),
      at: minute(3),
    });
  });

  it('when the query is malformed, then 400 names each failing path; only ops may read the log', async () => {
    const bad = await api.request('GET', `/v1/admin/audit?from=yesterday&to=${minute(1)}&limit=0&sort=at`, { token: ops });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(issuePaths(bad).sort()).toEqual(['query', 'query.from', 'query.limit'].sort());
    expect(issuePaths(await api.request('GET', `/v1/admin/audit?from=${minute(3)}&to=${minute(1)}`, { token: ops }))).toEqual(['query.to']);
    expect(issuePaths(await api.request('GET', '/v1/admin/audit?cursor=not-a-cursor', { token: ops }))).toEqual(['query.cursor']);
    expect(issuePaths(await api.request('GET', '/v1/admin/audit?actor=', { token: ops }))).toEqual(['query.actor']);
    expectError(await api.request('GET', '/v1/admin/audit', { token: service }), 403, 'FORBIDDEN');
    expectError(await api.request('GET', '/v1/admin/audit'), 401, 'UNAUTHENTICATED');
  });
});
