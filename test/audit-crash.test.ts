import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_GRACE_MS } from '../src/modules/audit/index.js';
import { ManualClock } from '../src/platform/clock.js';
import { ArmedFaults } from '../src/platform/faults.js';
import { freshDbName, ops, startTestApp, type ApiResponse, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';
import { balanceOf, earned, newKey, points, registerMember } from './helpers/ledger.js';

/**
 * A mutation and its audit record cannot part: the request dies (an injected crash) between the mutation and its
 * record, and the sweep of another instance, once the grace period is over, writes the record from what committed —
 * exactly once, with the request's time and id. A mutation that did not happen (it died before, or was refused)
 * leaves no record and no work behind.
 */
const dbName = freshDbName('audit_crash');
const faults = new ArmedFaults();
/** The instance whose requests die at the armed point. */
let live: TestApp;
/** Another instance over the same database, which sweeps once the grace period of what died is over. */
let sweeper: TestApp;

beforeAll(async () => {
  live = await startTestApp({ dbName, faults });
  sweeper = await startTestApp({ dbName, clock: new ManualClock(live.clock.now()) });
});
afterAll(async () => {
  await sweeper.close({ keepDatabase: true });
  await live.close();
});

const rule = { name: '1 point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } };
const ladder = { tiers: [{ code: 'BASE', name: 'Member', threshold: 0 }, { code: 'GOLD', name: 'Gold', threshold: 500 }], policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 } };
const task = { name: 'Answer a quiz', eventType: 'quiz.answered', target: 2, window: { type: 'lifetime' }, reward: { points: 10 } };
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const auditOf = async (targetId: string): Promise<any[]> => {
  const res = await live.request('GET', `/v1/admin/audit?targetId=${encodeURIComponent(targetId)}&limit=100`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.items;
};
/** Intents still owed in the database. */
const owedIntents = async () => {
  await live.built.flush();
  return live.db.collection('due_work').countDocuments({ kind: 'audit.intent' });
};
/** The other instance's sweep, once the grace period of everything sent so far is over. */
async function sweepLater(): Promise<void> {
  sweeper.clock.set(new Date(live.clock.now().getTime() + AUDIT_GRACE_MS + 1000));
  expect((await sweeper.built.sweep()).failed, 'every due record is handled').toBe(0);
}
/** Sends with the fault armed at `point` and expects the request to die there. */
async function crashing(send: () => Promise<ApiResponse>, point = 'audit:after-mutation'): Promise<{ requestId: string | null; at: string }> {
  live.clock.advance({ minutes: 5 });
  const at = live.clock.now().toISOString();
  faults.arm(point);
  const res = await send();
  expectError(res, 500, 'INTERNAL');
  return { requestId: res.headers.get('x-request-id'), at };
}

describe('a crash between a mutation and its audit record is repaired by the sweep', () => {
  it('when an earning rule is saved and the request dies before its record, then the sweep writes it once from the saved rule', async () => {
    const code = unique('rule');
    const died = await crashing(() => live.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body: rule }));
    expect((await live.request('GET', `/v1/admin/earning-rules/${code}`, { token: ops })).body.rule).toMatchObject({ code, name: rule.name });
    expect(await auditOf(code)).toEqual([]);
    await sweepLater();
    await sweepLater();
    const records = await auditOf(code);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'earning-rule.create', actor: { role: 'ops', sub: 'ops-1' }, before: null, after: { code, name: rule.name }, ...died });
  });

  it('when a tier ladder version is saved and the request dies, then the sweep finds the version its audit id is stamped on', async () => {
    const died = await crashing(() => live.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder }));
    const version = (await live.request('GET', '/v1/tiers', { token: ops })).body.ladder.version as number;
    expect(await auditOf(String(version))).toEqual([]);
    await sweepLater();
    const records = (await auditOf(String(version))).filter((r) => r.target.type === 'tier-ladder');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'tier-ladder.update', before: null, after: { version, tiers: ladder.tiers }, ...died });
  });

  it('when an adjustment lands and the request dies, then the client’s retry and the sweep write its record once between them', async () => {
    const memberId = unique('adj');
    await registerMember(live, memberId);
    const key = newKey();
    const body = { delta: 40, reason: 'goodwill after the outage' };
    const died = await crashing(() => points.adjust(live, memberId, body, { key }));
    const retried = await points.adjust(live, memberId, body, { key });
    expect(retried.status, retried.text).toBe(201);
    await sweepLater();
    const records = await auditOf(memberId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'points.adjust', reason: body.reason, before: body, after: { entryId: retried.body.entry.id, amount: 40, available: 40 } });
    expect(records[0].at).toBe(died.at);
    expect((await balanceOf(live, memberId)).available).toBe(40);
  });

  it('when a task is deleted and the request dies, then what the deletion leaves under its code lets the sweep record it', async () => {
    const code = unique('task');
    expect((await live.request('PUT', `/v1/admin/tasks/${code}`, { token: ops, body: task })).status).toBe(201);
    const died = await crashing(() => live.request('DELETE', `/v1/admin/tasks/${code}`, { token: ops }));
    expect((await live.request('GET', `/v1/admin/tasks/${code}`, { token: ops })).status).toBe(404);
    await sweepLater();
    const records = await auditOf(code);
    expect(records.map((r) => r.action)).toEqual(['task.delete', 'task.create']);
    expect(records[0]).toMatchObject({ before: { code, name: task.name }, after: null, ...died });
  });

  it('when a freeze lands, its request dies and ops change the member again before the sweep, then both changes are recorded once', async () => {
    const memberId = unique('frz');
    await registerMember(live, memberId);
    const died = await crashing(() => live.request('PATCH', `/v1/members/${memberId}`, { token: ops, body: { status: 'frozen' } }));
    live.clock.advance({ seconds: 10 });
    expect((await live.request('PATCH', `/v1/members/${memberId}`, { token: ops, body: { status: 'active' } })).status).toBe(200);
    const settled = await auditOf(memberId);
    expect(settled.map((r) => [r.before, r.after])).toEqual([
      [{ status: 'frozen' }, { status: 'active' }],
      [{ status: 'active' }, { status: 'frozen' }],
    ]);
    expect(settled[1]).toMatchObject(died);
    await sweepLater();
    expect(await auditOf(memberId)).toEqual(settled);
    expect(await owedIntents()).toBe(0);
  });
});

describe('a mutation that did not happen leaves no record', () => {
  it('when the request dies before its mutation, then nothing is saved and the sweep records nothing', async () => {
    const code = unique('rule');
    await crashing(() => live.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body: rule }), 'audit:before-mutation');
    expect((await live.request('GET', `/v1/admin/earning-rules/${code}`, { token: ops })).status).toBe(404);
    await sweepLater();
    expect(await auditOf(code)).toEqual([]);
    expect(await owedIntents()).toBe(0);
  });

  it('when several mutations die and three instances sweep at the same moment, then each is recorded exactly once', async () => {
    // A third instance over the same database, its clock with the sweeper's: three sweeps race for the same intents.
    const third = await startTestApp({ dbName, clock: new ManualClock(live.clock.now()) });
    try {
      const codes = [unique('race-a'), unique('race-b'), unique('race-c')];
      const died: Record<string, { requestId: string | null; at: string }> = {};
      for (const code of codes) died[code] = await crashing(() => live.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body: rule }));
      const memberId = unique('race-adj');
      await registerMember(live, memberId);
      const adjusted = await crashing(() => points.adjust(live, memberId, { delta: 25, reason: 'three sweepers' }));
      const after = new Date(live.clock.now().getTime() + AUDIT_GRACE_MS + 1000);
      for (const app of [live, sweeper, third]) app.clock.set(after);
      const results = await Promise.all([live.built.sweep(), sweeper.built.sweep(), third.built.sweep()]);
      expect(results.map((r) => r.failed)).toEqual([0, 0, 0]);
      for (const code of codes) {
        const records = await auditOf(code);
        expect(records, code).toHaveLength(1);
        expect(records[0]).toMatchObject({ action: 'earning-rule.create', after: { code }, ...died[code] });
      }
      const adjustments = await auditOf(memberId);
      expect(adjustments).toHaveLength(1);
      expect(adjustments[0]).toMatchObject({ action: 'points.adjust', reason: 'three sweepers', at: adjusted.at });
      expect((await balanceOf(live, memberId)).available).toBe(25);
      expect(await owedIntents()).toBe(0);
    } finally {
      await third.close({ keepDatabase: true });
    }
  });

  it('when ops ask for a mutation that is refused, then there is no record and no work left behind', async () => {
    const memberId = unique('poor');
    await registerMember(live, memberId);
    await earned(live, memberId, 10);
    expectError(await points.adjust(live, memberId, { delta: -50, reason: 'more than it has' }), 409, 'INSUFFICIENT_POINTS');
    expectError(await live.request('DELETE', `/v1/admin/tasks/${unique('none')}`, { token: ops }), 404, 'NOT_FOUND');
    expect(await auditOf(memberId)).toEqual([]);
    expect(await owedIntents()).toBe(0);
  });
});
