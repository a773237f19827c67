import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ops, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { earned, registerMember } from '../helpers/ledger.js';
import { closeThrough, on, report } from '../helpers/stats.js';

let api: TestApp;
beforeEach(async () => {
  api = await startTestApp(); // UTC program zone, 2026-03-01T08:00Z
});
afterEach(async () => {
  await api.close();
});

const ladder = {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'SILVER', name: 'Silver', threshold: 100, keepThreshold: 100 },
    { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400 },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 0 },
};

let op = 0;
/** Growth as rules and check-ins pay it, then the tier decision an event would make. */
async function grow(memberId: string, amount: number): Promise<void> {
  const { growth, tiers } = api.built.services;
  await growth.earnPoints(memberId, { amount, code: 'order' }, { opId: `stats-growth-${++op}`, actor: { role: 'service', sub: 'test' } });
  await tiers.onGrowth(memberId);
}

async function segment(name: string, query = ''): Promise<any> {
  const res = await api.request('GET', `/v1/admin/segments/${name}/members${query}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body;
}
const ids = (page: any) => page.items.map((m: any) => m.memberId);

describe('members stats', () => {
  it('when members register and move up the ladder, then new members, moves and the tiers at each day’s end are counted, every tier listed', async () => {
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
    for (const m of ['t1', 't2', 't3']) await registerMember(api, m);
    await grow('t1', 150); // BASE → SILVER
    await grow('t2', 600); // BASE → GOLD
    api.clock.set('2026-03-02T10:00:00Z');
    await registerMember(api, 't4');
    await grow('t3', 120); // BASE → SILVER
    await grow('t1', 400); // SILVER → GOLD
    const check = (body: any) => {
      expect(on(body, '2026-03-01')).toMatchObject({ new: 3, tierMoves: { up: 2, down: 0, renewed: 0, placed: 0 }, atEnd: { members: 3, tiers: { BASE: 1, SILVER: 1, GOLD: 1 } } });
      expect(on(body, '2026-03-02')).toMatchObject({ new: 1, tierMoves: { up: 2, down: 0, renewed: 0, placed: 0 }, atEnd: { members: 4, tiers: { BASE: 1, SILVER: 1, GOLD: 2 } } });
    };
    check(await report(api, 'members', { from: '2026-03-01', to: '2026-03-02' }));
    await closeThrough(api, '2026-03-02');
    const closed = await report(api, 'members', { from: '2026-03-01', to: '2026-03-02' });
    expect(closed.closedThrough).toBe('2026-03-02');
    check(closed);
    expect(ids(await segment('tier:GOLD'))).toEqual(['t1', 't2']);
    expect(ids(await segment('tier:BASE'))).toEqual(['t4']);
  });

  it('when members move after the last snapshot and segments are read between reports, then each report counts each move once (the kept snapshot rows are never changed)', async () => {
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
    for (const m of ['k1', 'k2', 'k3']) await registerMember(api, m);
    await grow('k1', 150); // BASE → SILVER, before the snapshot
    await closeThrough(api, '2026-03-01');
    api.clock.set('2026-03-02T09:00:00Z');
    await grow('k2', 600); // BASE → GOLD, after it: a live fact
    const today = async () => on(await report(api, 'members', { from: '2026-03-02', to: '2026-03-02' }), '2026-03-02').atEnd.tiers;
    expect(await today()).toEqual({ BASE: 1, SILVER: 1, GOLD: 1 });
    // Segment pages apply the live facts to the snapshot's rows; the report after them must still see the rows as written.
    expect(ids(await segment('tier:GOLD'))).toEqual(['k2']);
    expect(ids(await segment('tier:GOLD'))).toEqual(['k2']);
    expect(await today()).toEqual({ BASE: 1, SILVER: 1, GOLD: 1 });
    await grow('k1', 400); // SILVER → GOLD, another live fact
    expect(ids(await segment('tier:GOLD'))).toEqual(['k1', 'k2']);
    expect(await today()).toEqual({ BASE: 1, SILVER: 0, GOLD: 2 });
    expect(ids(await segment('tier:BASE'))).toEqual(['k3']);
  });

  it('when a tier period ends, then a member who kept the threshold is counted renewed and one who did not is counted down', async () => {
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
    await registerMember(api, 'k1');
    await registerMember(api, 'k2');
    await grow('k1', 600); // GOLD until 2027-03-01T08:00Z
    await grow('k2', 150); // SILVER until then
    api.clock.set('2027-03-02T09:00:00Z'); // the growth of 2026 has left the window
    await grow('k1', 450); // keeps GOLD (keep threshold 400) at period end
    await api.built.services.tiers.runEvaluation('2027-03-02');
    const body = await report(api, 'members', { from: '2027-03-01', to: '2027-03-02' });
    expect(on(body, '2027-03-02')).toMatchObject({ tierMoves: { up: 0, down: 1, renewed: 1, placed: 0 }, atEnd: { members: 2, tiers: { BASE: 1, SILVER: 0, GOLD: 1 } } });
  });

  it('when members were last active at different times, then active, silent and churned are counted now and at closed days’ ends, and each segment lists its members', async () => {
    await registerMember(api, 'l-old'); // registered 03-01, never active since: churned by 04-05
    await registerMember(api, 'l-quiet');
    await registerMember(api, 'l-busy');
    api.clock.set('2026-03-20T12:00:00Z');
    await earned(api, 'l-quiet', 10); // idle 16 days on 04-05: silent, still active (ACTIVE_DAYS 30)
    api.clock.set('2026-04-05T06:00:00Z');
    await earned(api, 'l-busy', 10);
    api.clock.set('2026-04-05T07:00:00Z');
    await registerMember(api, 'l-new');

    const live = await report(api, 'members', { from: '2026-04-04', to: '2026-04-05' });
    expect(live.now).toMatchObject({ members: 4, active: 3, silent: 1, churned: 1 });
    expect(on(live, '2026-04-05').atEnd).toMatchObject({ members: 4, lifecycle: { active: 3, silent: 1, churned: 1 } });
    expect(on(live, '2026-04-04').atEnd).toMatchObject({ members: 3, lifecycle: { active: 1, silent: 1, churned: 2 } }); // l-busy idle since it registered
    expect(ids(await segment('active'))).toEqual(['l-busy', 'l-new', 'l-quiet']);
    expect(ids(await segment('silent'))).toEqual(['l-quiet']);
    expect(ids(await segment('churned'))).toEqual(['l-old']);
    expect(ids(await segment('cohort:2026-03'))).toEqual(['l-busy', 'l-old', 'l-quiet']);
    expect(ids(await segment('cohort:2026-04'))).toEqual(['l-new']);
    const quiet = (await segment('silent')).items[0];
    expect(quiet).toEqual({ memberId: 'l-quiet', registeredAt: '2026-03-01T08:00:00.000Z', lastActivityAt: '2026-03-20T12:00:00.000Z', tier: null });

    await closeThrough(api, '2026-04-05');
    const closed = await report(api, 'members', { from: '2026-04-04', to: '2026-04-06' });
    expect(on(closed, '2026-04-04').atEnd.lifecycle).toEqual({ active: 1, silent: 1, churned: 2 });
    expect(on(closed, '2026-04-05').atEnd.lifecycle).toEqual({ active: 3, silent: 1, churned: 1 });
    expect(closed.now).toMatchObject({ members: 4, active: 3, silent: 1, churned: 1 });
    expect(ids(await segment('silent'))).toEqual(['l-quiet']); // from the snapshot now
  });

  it('when a segment is paged, then each member comes once in id order, and bad segments, cursors and callers are refused', async () => {
    for (const m of ['p-a', 'p-b', 'p-c']) await registerMember(api, m);
    const first = await segment('active', '?limit=2');
    expect(ids(first)).toEqual(['p-a', 'p-b']);
    const second = await segment('active', `?limit=2&cursor=${first.nextCursor}`);
    expect(ids(second)).toEqual(['p-c']);
    expect(second.nextCursor).toBeNull();
    for (const [path, field] of [
      ['/v1/admin/segments/sleepy/members', 'params.segment'],
      ['/v1/admin/segments/tier:gold/members', 'params.segment'],
      ['/v1/admin/segments/cohort:2026-13/members', 'params.segment'],
      ['/v1/admin/segments/active/members?limit=0', 'query.limit'],
      ['/v1/admin/segments/active/members?cursor=nope', 'query.cursor'],
      ['/v1/admin/segments/active/members?limit[$gt]=1', 'query'],
    ] as const) {
      const res = await api.request('GET', path, { token: ops });
      expect(res.status, path).toBe(400);
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path).join(), path).toContain(field);
    }
    expect((await api.request('GET', '/v1/admin/segments/active/members', { token: tokenFor('member', 'p-a') })).status).toBe(403);
  });
});
