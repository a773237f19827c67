import { afterEach, describe, expect, it } from 'vitest';
import { ArmedFaults, InjectedCrash } from '../../src/platform/faults.js';
import { ops, service, startTestApp, type TestApp } from '../helpers/app.js';
import { checkedIn, configure } from '../helpers/checkins.js';
import { earned, points, registerMember } from '../helpers/ledger.js';
import { closeThrough, on, report } from '../helpers/stats.js';

/** Rollups stay exact: a fact lost between a commit and its write is rebuilt, and nothing is counted twice. */
let api: TestApp;
let faults: ArmedFaults;
const start = async () => {
  faults = new ArmedFaults();
  api = await startTestApp({ faults });
};
afterEach(async () => {
  await api.close();
});
const day1 = { from: '2026-03-01', to: '2026-03-01' };

describe('a crash between a commit and its rollup fact', () => {
  it('when the facts of a registration, an earn and a check-in are lost, then the open day misses them until the rollup rebuilds them from the records', async () => {
    await start();
    await configure(api);
    await registerMember(api, 'cr-0');
    faults.arm('stats:before-fact');
    await registerMember(api, 'cr-1'); // its registration's fact is lost
    faults.arm('stats:before-fact');
    await earned(api, 'cr-1', 100); // so is this earn's
    faults.arm('stats:before-fact');
    await checkedIn(api, 'cr-0', '2026-03-01'); // and the check-in's (its 5 points' fact is written)
    await earned(api, 'cr-0', 40);
    expect(on(await report(api, 'points', day1), '2026-03-01')).toMatchObject({ earned: 45 });
    expect(on(await report(api, 'members', day1), '2026-03-01')).toMatchObject({ new: 1 });
    expect(on(await report(api, 'checkins', day1), '2026-03-01')).toMatchObject({ checkins: 0 });

    const run = await api.built.rollup();
    expect(run).toMatchObject({ closed: [], factsRepaired: 3 });
    expect(on(await report(api, 'points', day1), '2026-03-01')).toMatchObject({ earned: 145, liability: { points: 145 } });
    const members = await report(api, 'members', day1);
    expect(on(members, '2026-03-01')).toMatchObject({ new: 2, atEnd: { members: 2 } });
    expect(members.now).toMatchObject({ members: 2, active: 2 });
    expect(on(await report(api, 'checkins', day1), '2026-03-01')).toMatchObject({ checkins: 1 });
    expect(await api.built.rollup()).toMatchObject({ factsRepaired: 0 }); // a second run finds nothing missing
  });

  it('when a fact is lost and nothing runs until its day closes, then the closed day counts the record anyway', async () => {
    await start();
    await registerMember(api, 'cl-1');
    faults.arm('stats:before-fact');
    await earned(api, 'cl-1', 70);
    await earned(api, 'cl-1', 30);
    await closeThrough(api, '2026-03-01');
    expect(on(await report(api, 'points', day1), '2026-03-01')).toMatchObject({ earned: 100, liability: { points: 100 } });
  });
});

describe('a lost fact after a closed day', () => {
  it('when the fact of a spend whose earns were on a closed day is lost, then the rollup rebuilds its change of the expiring points from the entry before it', async () => {
    await start();
    await registerMember(api, 'xp-1');
    await earned(api, 'xp-1', 40, { expiresAt: '2026-03-20T00:00:00Z' });
    await earned(api, 'xp-1', 60, { expiresAt: '2026-05-01T00:00:00Z' });
    await closeThrough(api, '2026-03-01');
    faults.arm('stats:before-fact');
    expect((await points.spend(api, 'xp-1', { amount: 50, code: 'redemption' })).status).toBe(201); // 40 of the first lot, 10 of the second
    const lost = await report(api, 'points', { from: '2026-03-02', to: '2026-03-02' });
    expect(lost.expiring).toMatchObject({ next30Days: 40, next90Days: 100 }); // the spend is not seen yet
    api.clock.set('2026-03-03T02:00:00Z');
    expect(await api.built.rollup()).toMatchObject({ closed: ['2026-03-02'] });
    const rebuilt = await report(api, 'points', { from: '2026-03-02', to: '2026-03-03' });
    expect(rebuilt.expiring).toMatchObject({ next30Days: 0, next90Days: 50 });
    expect(on(rebuilt, '2026-03-02')).toMatchObject({ spent: 50, liability: { points: 50 } });
  });
});

describe('live snapshots', () => {
  it('when a run sums the records of the day so far and more come after, then the day, the members now and the segments count each record once', async () => {
    await start();
    await registerMember(api, 'lv-1');
    await registerMember(api, 'lv-2');
    await earned(api, 'lv-1', 30);
    api.clock.set('2026-03-01T10:00:00Z'); // the records of 08:00 are settled (an hour old)
    expect(await api.built.rollup()).toMatchObject({ closed: [], through: '2026-03-01T09:00:00.000Z', factsRepaired: 0 });
    await earned(api, 'lv-2', 12);
    await registerMember(api, 'lv-3');
    const pts = await report(api, 'points', day1);
    expect(on(pts, '2026-03-01')).toMatchObject({ earned: 42, liability: { points: 42 } });
    const members = await report(api, 'members', day1);
    expect(on(members, '2026-03-01')).toMatchObject({ new: 3, atEnd: { members: 3, lifecycle: { active: 3, silent: 0, churned: 0 } } });
    expect(members.now).toMatchObject({ members: 3, active: 3 });
    api.clock.set('2026-03-09T10:00:00Z'); // lv-3 joined at 10:00 on 03-01; idle 8 days now, like the others
    await earned(api, 'lv-1', 1);
    const later = await report(api, 'members', { from: '2026-03-01', to: '2026-03-09' });
    expect(later.now).toMatchObject({ members: 3, active: 3, silent: 2, churned: 0 });
    const silent = await api.request('GET', '/v1/admin/segments/silent/members', { token: ops });
    expect(silent.body.items.map((m: any) => m.memberId)).toEqual(['lv-2', 'lv-3']);
  });
});

describe('replays', () => {
  it('when an earn is replayed with its key and the rollup runs twice at once, then it is counted once', async () => {
    await start();
    await registerMember(api, 'rp-1');
    const once = await points.earn(api, 'rp-1', { amount: 25, code: 'order' }, { key: 'rp-key' });
    const again = await points.earn(api, 'rp-1', { amount: 25, code: 'order' }, { key: 'rp-key' });
    expect([once.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
    expect(on(await report(api, 'points', day1), '2026-03-01')).toMatchObject({ earned: 25 });
    api.clock.set('2026-03-02T02:00:00Z');
    const [a, b] = await Promise.all([api.built.rollup(), api.built.rollup()]);
    expect([a.closed, b.closed]).toEqual([['2026-03-01'], ['2026-03-01']]);
    expect(await api.built.rollup()).toMatchObject({ closed: [] });
    const closed = await report(api, 'points', { from: '2026-03-01', to: '2026-03-02' });
    expect(on(closed, '2026-03-01')).toMatchObject({ earned: 25, liability: { points: 25 } });
    expect(closed.totals.earned).toBe(25);
  });
});

describe('a crash inside a rollup run', () => {
  // After the days' documents, the closed snapshot is missing and the next run closes the days again (the same
  // documents); after the snapshots, only the facts are left to repair and delete.
  for (const [point, again] of [['stats:rollup-after-days', ['2026-03-01', '2026-03-02']], ['stats:rollup-after-snapshot', []]] as const) {
    it(`when a run dies at ${point}, then the figures stay exact and the next run finishes the close`, async () => {
      await start();
      await registerMember(api, 'rc-1');
      await earned(api, 'rc-1', 60);
      api.clock.set('2026-03-02T09:00:00Z');
      await earned(api, 'rc-1', 15);
      api.clock.set('2026-03-03T02:00:00Z');
      faults.arm(point);
      await expect(api.built.rollup()).rejects.toBeInstanceOf(InjectedCrash);
      const expected = (body: any) => {
        expect(on(body, '2026-03-01')).toMatchObject({ earned: 60, liability: { points: 60 } });
        expect(on(body, '2026-03-02')).toMatchObject({ earned: 15, liability: { points: 75 } });
        expect(body.totals.earned).toBe(75);
      };
      expected(await report(api, 'points', { from: '2026-03-01', to: '2026-03-03' }));
      expect((await report(api, 'members', { from: '2026-03-01', to: '2026-03-03' })).now).toMatchObject({ members: 1, active: 1 });
      expect(await api.built.rollup()).toMatchObject({ closed: again });
      const after = await report(api, 'points', { from: '2026-03-01', to: '2026-03-03' });
      expect(after.closedThrough).toBe('2026-03-02');
      expected(after);
      await earned(api, 'rc-1', 5); // 03-03, open: on top of the closed days
      const later = await report(api, 'points', { from: '2026-03-01', to: '2026-03-03' });
      expect(on(later, '2026-03-03')).toMatchObject({ earned: 5, liability: { points: 80 } });
      expect((await api.request('GET', '/v1/members/rc-1/points', { token: service })).body.available).toBe(80);
    });
  }
});
