import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { available, calendar, checkedIn, checkIn, configure, growthOf, memberIn, PROGRAM } from '../helpers/checkins.js';
import { expectError, issuePaths } from '../helpers/expect.js';
import { expectLedgerClean, historyOf, ops } from '../helpers/ledger.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
  await configure(api);
});
afterAll(async () => {
  await api.close();
});

let n = 0;
const fresh = (tz = 'Asia/Shanghai') => memberIn(api, `ci-${++n}`, tz);

describe('check-in', () => {
  it('when a member checks in, then it gets the first cycle day, growth, and its calendar and summary show it', async () => {
    api.clock.set('2026-03-10T02:00:00Z'); // 10:00 in Shanghai
    const m = await fresh();
    const res = await checkIn(api, m);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ day: '2026-03-10', makeup: false, streak: 1, bestStreak: 1, cost: 0, reward: { points: 5, growth: 2, cycleDay: 1, milestones: [] } });
    expect(await available(api, m)).toBe(5);
    expect(await growthOf(api, m)).toBe(2);
    const cal = await calendar(api, m);
    expect(cal).toMatchObject({ month: '2026-03', today: '2026-03-10', days: [{ day: '2026-03-10', makeup: false }], currentStreak: 1, checkedInToday: true, next: null });
    expect(cal.tomorrow).toMatchObject({ day: '2026-03-11', cycleDay: 2, points: 5 });
    const me = await api.request('GET', '/v1/me', { token: tokenFor('member', m) });
    expect(me.body.summary.checkin).toEqual({ streak: 1, bestStreak: 1, lastDay: '2026-03-10', total: 1 });
  });

  it('when the member checks in again the same day, then 409 ALREADY_CHECKED_IN and nothing more is paid', async () => {
    api.clock.set('2026-03-10T02:00:00Z');
    const m = await fresh();
    await checkedIn(api, m, '2026-03-10');
    api.clock.advance({ hours: 13 }); // 23:00 the same local day
    const again = await checkIn(api, m);
    expectError(again, 409, 'ALREADY_CHECKED_IN');
    expect(again.body.error.details).toEqual({ day: '2026-03-10' });
    expect(await available(api, m)).toBe(5);
  });

  it('when a tap is retried with the same Idempotency-Key, then the first answer is replayed and paid once', async () => {
    api.clock.set('2026-03-10T02:00:00Z');
    const m = await fresh();
    const first = await checkIn(api, m, 'tap-1');
    const again = await checkIn(api, m, 'tap-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await available(api, m)).toBe(5);
    const noKey = await api.request('POST', '/v1/me/checkins', { token: tokenFor('member', m) });
    expectError(noKey, 400, 'IDEMPOTENCY_KEY_REQUIRED');
  });

  it('when 20 taps race with different keys, then exactly one checks in and the others get 409', async () => {
    api.clock.set('2026-03-10T02:00:00Z');
    const m = await fresh();
    const taps = await Promise.all(Array.from({ length: 20 }, () => checkIn(api, m)));
    expect(taps.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of taps.filter((x) => x.status !== 201)) expectError(r, 409, 'ALREADY_CHECKED_IN');
    expect(await available(api, m)).toBe(5);
    expect(await growthOf(api, m)).toBe(2);
    const metrics = (await api.request('GET', '/metrics')).text;
    const refused = Number(/^checkins_total\{kind="checkin",outcome="ALREADY_CHECKED_IN"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(19);
  });

  it('when two instances take taps for one member at once, then the day is checked once across them', async () => {
    api.clock.set('2026-03-10T02:00:00Z');
    const m = await fresh();
    const other = await startTestApp({ dbName: api.dbName, clock: api.clock });
    try {
      const taps = await Promise.all(Array.from({ length: 16 }, (_, i) => checkIn(i % 2 ? other : api, m)));
      expect(taps.filter((r) => r.status === 201)).toHaveLength(1);
      expect(taps.filter((r) => r.status === 409)).toHaveLength(15);
      expect(await available(api, m)).toBe(5);
      expect((await calendar(other, m)).days).toHaveLength(1);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });

  it('when a member checks in 9 days in a row, then the cycle pays 5,5,10,5,5,10,30 and wraps, and the 3-day milestone pays once', async () => {
    api.clock.set('2026-04-01T01:00:00Z');
    const m = await fresh();
    const paid: number[] = [];
    for (let d = 1; d <= 9; d++) {
      const res = await checkedIn(api, m, `2026-04-0${d}`);
      expect(res.body.streak).toBe(d);
      expect(res.body.reward.cycleDay).toBe(((d - 1) % 7) + 1);
      paid.push(res.body.reward.points);
      api.clock.advance({ days: 1 });
    }
    expect(paid).toEqual([5, 5, 110, 5, 5, 10, 30, 5, 5]);
    expect(await available(api, m)).toBe(180);
    expect(await growthOf(api, m)).toBe(9 * 2 + 10);
    const history = await historyOf(api, m);
    expect(history.filter((e) => e.code === 'checkin_milestone')).toHaveLength(1);
  });

  it('when a day is missed, then the streak and the cycle start over, and a new run pays the milestone again', async () => {
    api.clock.set('2026-04-01T01:00:00Z');
    const m = await fresh();
    for (const day of ['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04']) {
      await checkedIn(api, m, day);
      api.clock.advance({ days: 1 });
    }
    api.clock.advance({ days: 1 }); // 04-05 missed
    const cal = await calendar(api, m);
    expect(cal.currentStreak).toBe(0);
    expect(cal.next).toMatchObject({ day: '2026-04-06', cycleDay: 1, points: 5 });
    const restart = await checkedIn(api, m, '2026-04-06');
    expect(restart.body).toMatchObject({ streak: 1, bestStreak: 4, reward: { cycleDay: 1, points: 5 } });
    api.clock.advance({ days: 1 });
    await checkedIn(api, m, '2026-04-07');
    api.clock.advance({ days: 1 });
    const third = await checkedIn(api, m, '2026-04-08');
    expect(third.body.reward).toMatchObject({ points: 110, milestones: [{ streak: 3, points: 100, growth: 10 }] });
  });

  it('when another instance that never saw the member checks it in, then it continues the streak, even from a head hint left behind', async () => {
    api.clock.set('2026-07-01T01:00:00Z');
    const m = await fresh();
    for (let d = 1; d <= 10; d++) {
      await checkedIn(api, m, `2026-07-${String(d).padStart(2, '0')}`);
      api.clock.advance({ days: 1 });
    }
    await api.built.flush();
    // A hint written late by a racing process points at an older entry: the entries, not the hint, decide.
    const third = await api.db.collection('checkin_log').findOne({ _id: `${m}#0000000003` } as never);
    await api.db.collection('checkin_heads').replaceOne({ _id: m } as never, { seq: 3, state: third?.state });
    const other = await startTestApp({ dbName: api.dbName, clock: api.clock });
    try {
      const res = await checkedIn(other, m, '2026-07-11');
      expect(res.body).toMatchObject({ streak: 11, bestStreak: 11, reward: { cycleDay: 4 } });
      expect((await calendar(other, m)).days).toHaveLength(11);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });

  it('when the member is frozen, then 409 MEMBER_FROZEN and nothing is checked', async () => {
    api.clock.set('2026-03-10T02:00:00Z');
    const m = await fresh();
    expect((await api.request('PATCH', `/v1/members/${m}`, { token: ops, body: { status: 'frozen' } })).status).toBe(200);
    expectError(await checkIn(api, m), 409, 'MEMBER_FROZEN');
    expect((await calendar(api, m)).days).toEqual([]);
  });

  it('when a service or ops token calls the member route, then 403; and no member id can be smuggled in', async () => {
    expectError(await api.request('POST', '/v1/me/checkins', { token: tokenFor('service', 'orders'), headers: { 'Idempotency-Key': 'k' } }), 403, 'FORBIDDEN');
    const m = await fresh();
    const other = await fresh();
    expectError(await api.request('GET', `/v1/members/${other}/checkins`, { token: tokenFor('member', m) }), 404, 'NOT_FOUND');
    expectError(await api.request('GET', '/v1/me/checkins?month=2026-13', { token: tokenFor('member', m) }), 400, 'VALIDATION_FAILED');
    expectError(await api.request('GET', '/v1/me/checkins?month[$gt]=', { token: tokenFor('member', m) }), 400, 'VALIDATION_FAILED');
  });
});

describe('check-in configuration', () => {
  it('when ops read the configuration, then they get what they set; a fresh install answers the default program', async () => {
    const res = await api.request('GET', '/v1/admin/checkin-config', { token: ops });
    expect(res.status).toBe(200);
    expect(res.body.config).toEqual(PROGRAM);
    const other = await startTestApp();
    try {
      const dflt = await other.request('GET', '/v1/admin/checkin-config', { token: ops });
      expect(dflt.body).toMatchObject({ config: { cycle: [5, 5, 10, 5, 5, 10, 30] }, updatedAt: null });
    } finally {
      await other.close();
    }
  });

  it('when the configuration is invalid, then 400 names each failing path and nothing changes', async () => {
    const bad = await api.request('PUT', '/v1/admin/checkin-config', {
      token: ops,
      body: { cycle: [], milestones: [{ streak: 7, points: 10 }, { streak: 7, points: 20 }, { streak: 9, points: 0 }], growthPerCheckin: -1, makeup: { cost: 1.5, perMonth: 40 } },
    });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(issuePaths(bad).sort()).toEqual(['body.cycle', 'body.growthPerCheckin', 'body.makeup.cost', 'body.makeup.perMonth', 'body.milestones.1.streak', 'body.milestones.2'].sort());
    expectError(await api.request('PUT', '/v1/admin/checkin-config', { token: ops, body: { ...PROGRAM, extra: 1 } }), 400, 'VALIDATION_FAILED');
    expectError(await api.request('PUT', '/v1/admin/checkin-config', { token: tokenFor('member', 'x'), body: PROGRAM }), 403, 'FORBIDDEN');
    expect((await api.request('GET', '/v1/admin/checkin-config', { token: ops })).body.config).toEqual(PROGRAM);
  });

  it('when ops change the program, then it is audited and applies to the next check-in', async () => {
    api.clock.set('2026-05-01T02:00:00Z');
    const m = await fresh();
    await checkedIn(api, m, '2026-05-01');
    await configure(api, { ...PROGRAM, cycle: [1, 50] });
    try {
      api.clock.advance({ days: 1 });
      expect((await checkedIn(api, m, '2026-05-02')).body.reward.points).toBe(50);
      const audit = await api.request('GET', '/v1/admin/audit?limit=5', { token: ops });
      expect(audit.body.items.find((a: { action: string }) => a.action === 'checkin-config.update')).toMatchObject({ after: { cycle: [1, 50] } });
    } finally {
      await configure(api);
    }
  });
});

describe('crash recovery', () => {
  it.each(['checkin:after-commit', 'checkin:before-event', 'idempotency:before-record'])(
    'when the process dies at %s, then the retry on a new instance pays the day exactly once',
    async (point) => {
      const start = new Date('2026-03-10T02:00:00Z');
      const faults = new ArmedFaults();
      const crashed = await startTestApp({ dbName: api.dbName, faults, clock: new ManualClock(start) });
      const m = await memberIn(crashed, `crash-${point.replace(/[^a-z]+/g, '-')}`, 'Asia/Shanghai');
      faults.arm(point);
      expectError(await checkIn(crashed, m, 'tap'), 500, 'INTERNAL');
      await crashed.close({ keepDatabase: true });

      const restarted = await startTestApp({ dbName: api.dbName, clock: new ManualClock(new Date(start.getTime() + 31_000)) });
      try {
        const retried = await checkIn(restarted, m, 'tap');
        expect(retried.status, retried.text).toBe(201);
        expect(retried.body).toMatchObject({ day: '2026-03-10', streak: 1, reward: { points: 5, growth: 2 } });
        expect(await available(restarted, m)).toBe(5);
        expect(await growthOf(restarted, m)).toBe(2);
        expectError(await checkIn(restarted, m), 409, 'ALREADY_CHECKED_IN');
        await expectLedgerClean([restarted]);
      } finally {
        await restarted.close({ keepDatabase: true });
      }
    },
  );

  it('when the process dies after the commit and the tap is never retried, then the next check-in is paid as usual and the sweep pays the day left unpaid', async () => {
    const start = new Date('2026-03-10T02:00:00Z');
    const faults = new ArmedFaults();
    const crashed = await startTestApp({ dbName: api.dbName, faults, clock: new ManualClock(start) });
    const m = await memberIn(crashed, 'crash-abandoned', 'Asia/Shanghai');
    faults.arm('checkin:after-commit');
    expectError(await checkIn(crashed, m, 'abandoned-tap'), 500, 'INTERNAL');
    expect(await available(crashed, m)).toBe(0);
    await crashed.close({ keepDatabase: true });

    const nextDay = await startTestApp({ dbName: api.dbName, clock: new ManualClock(new Date(start.getTime() + 86_400_000)) });
    try {
      const res = await checkIn(nextDay, m);
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ day: '2026-03-11', streak: 2, reward: { points: 5 } });
      await nextDay.built.sweep();
      expect(await available(nextDay, m)).toBe(10);
      expect(await growthOf(nextDay, m)).toBe(4);
      expect((await historyOf(nextDay, m)).filter((e) => e.code === 'checkin')).toHaveLength(2);
      await expectLedgerClean([nextDay]);
    } finally {
      await nextDay.close({ keepDatabase: true });
    }
  });
});
