import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { available, calendar, checkedIn, checkIn, configure, makeUp, memberIn, PROGRAM } from '../helpers/checkins.js';
import { expectError } from '../helpers/expect.js';
import { earned, expectLedgerClean, historyOf } from '../helpers/ledger.js';

/** Make-up check-ins: a missed past day of the current month, at a cost, at most PROGRAM.makeup.perMonth a month. */
let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
  await configure(api);
});
afterAll(async () => {
  await api.close();
});

let n = 0;
/** A member registered on 1 June (Shanghai) with 100 points, who checked in on the given days of June. */
async function memberWith(days: number[], extraPoints = 100): Promise<string> {
  api.clock.set('2026-06-01T01:00:00Z');
  const m = await memberIn(api, `mu-${++n}`, 'Asia/Shanghai');
  if (extraPoints > 0) await earned(api, m, extraPoints);
  for (const d of days) {
    api.clock.set(`2026-06-${String(d).padStart(2, '0')}T01:00:00Z`);
    await checkedIn(api, m, `2026-06-${String(d).padStart(2, '0')}`);
  }
  return m;
}
const at = (day: string) => api.clock.set(`${day}T04:00:00Z`); // noon in Shanghai

describe('make-up check-in', () => {
  it('when a missed day is made up, then it costs points, pays what that day would have, joins the runs and pays the milestone the joined run reached', async () => {
    const m = await memberWith([1, 2, 4, 5]);
    at('2026-06-06');
    const before = await available(api, m);
    expect((await calendar(api, m)).currentStreak).toBe(2);
    const res = await makeUp(api, m, '2026-06-03');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      day: '2026-06-03',
      makeup: true,
      streak: 5,
      cost: 20,
      reward: { cycleDay: 3, points: 10 + 100, growth: 2 + 10, milestones: [{ streak: 3, points: 100, growth: 10 }] },
    });
    expect(await available(api, m)).toBe(before - 20 + 110);
    const cal = await calendar(api, m);
    expect(cal.days).toEqual([1, 2, 3, 4, 5].map((d) => ({ day: `2026-06-0${d}`, makeup: d === 3 })));
    expect(cal).toMatchObject({ currentStreak: 5, bestStreak: 5, makeup: { usedThisMonth: 1, remaining: 1 } });
    expect(cal.next).toMatchObject({ day: '2026-06-06', cycleDay: 6, points: 10 });
    const today = await checkedIn(api, m, '2026-06-06');
    expect(today.body).toMatchObject({ streak: 6, reward: { cycleDay: 6, points: 10, milestones: [] } });
  });

  it('when a make-up joins a run that already reached a milestone, then the milestone is not paid again', async () => {
    const m = await memberWith([1, 2, 3, 5, 6]);
    at('2026-06-07');
    const res = await makeUp(api, m, '2026-06-04');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ streak: 6, reward: { cycleDay: 4, points: 5, milestones: [] } });
    expect((await historyOf(api, m)).filter((e) => e.code === 'checkin_milestone')).toHaveLength(1);
  });

  it('when the day is today or later, then 409 MAKEUP_NOT_ALLOWED and nothing is spent', async () => {
    const m = await memberWith([1]);
    at('2026-06-05');
    const before = await available(api, m);
    for (const day of ['2026-06-05', '2026-06-06', '2026-07-01']) {
      const res = await makeUp(api, m, day);
      expectError(res, 409, 'MAKEUP_NOT_ALLOWED');
      expect(res.body.error.details).toEqual({ day, reason: 'not-past' });
    }
    expect(await available(api, m)).toBe(before);
  });

  it('when the day is already checked, then 409 ALREADY_CHECKED_IN', async () => {
    const m = await memberWith([1, 2]);
    at('2026-06-05');
    expectError(await makeUp(api, m, '2026-06-02'), 409, 'ALREADY_CHECKED_IN');
  });

  it('when the day is in the previous month, or before the member registered, then 409 MAKEUP_NOT_ALLOWED with the reason', async () => {
    const m = await memberWith([1]);
    at('2026-06-05');
    const previous = await makeUp(api, m, '2026-05-31');
    expectError(previous, 409, 'MAKEUP_NOT_ALLOWED');
    expect(previous.body.error.details).toEqual({ day: '2026-05-31', reason: 'not-this-month' });
    api.clock.set('2026-06-10T01:00:00Z');
    const late = await memberIn(api, `mu-late-${++n}`, 'Asia/Shanghai');
    await earned(api, late, 100);
    const beforeJoining = await makeUp(api, late, '2026-06-05');
    expectError(beforeJoining, 409, 'MAKEUP_NOT_ALLOWED');
    expect(beforeJoining.body.error.details.reason).toBe('before-registration');
    expect(await available(api, late)).toBe(100);
  });

  it('when the monthly cap is used, then 409 LIMIT_REACHED; next month the count starts over', async () => {
    const m = await memberWith([1]);
    at('2026-06-10');
    expect((await makeUp(api, m, '2026-06-02')).status).toBe(201);
    expect((await makeUp(api, m, '2026-06-04')).status).toBe(201);
    const third = await makeUp(api, m, '2026-06-06');
    expectError(third, 409, 'LIMIT_REACHED');
    expect((await calendar(api, m)).makeup).toEqual({ cost: 20, perMonth: 2, usedThisMonth: 2, remaining: 0 });
    at('2026-07-03');
    expect((await makeUp(api, m, '2026-07-01')).status).toBe(201);
    const june = await calendar(api, m, '2026-06');
    expect(june.days.filter((d: { makeup: boolean }) => d.makeup)).toHaveLength(2);
  });

  it('when the member has too few points, then 409 INSUFFICIENT_POINTS and nothing is written', async () => {
    const m = await memberWith([2], 0);
    at('2026-06-03');
    const before = await historyOf(api, m);
    const res = await makeUp(api, m, '2026-06-01');
    expectError(res, 409, 'INSUFFICIENT_POINTS');
    expect(await historyOf(api, m)).toEqual(before);
    expect(await available(api, m)).toBe(5);
    expect((await calendar(api, m)).days).toEqual([{ day: '2026-06-02', makeup: false }]);
  });

  it('when a make-up is retried with the same key, then it is replayed and charged once', async () => {
    const m = await memberWith([1]);
    at('2026-06-04');
    const first = await makeUp(api, m, '2026-06-02', 'mu-key');
    const again = await makeUp(api, m, '2026-06-02', 'mu-key');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await historyOf(api, m)).filter((e) => e.code === 'checkin_makeup')).toHaveLength(1);
    expectError(await makeUp(api, m, '2026-06-03', 'mu-key'), 409, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('when make-ups race on two instances for more days than the cap allows, then exactly the cap lands and refused ones cost nothing', async () => {
    const m = await memberWith([1], 1000);
    at('2026-06-12');
    const other = await startTestApp({ dbName: api.dbName, clock: api.clock });
    try {
      const days = ['2026-06-02', '2026-06-03', '2026-06-05', '2026-06-07', '2026-06-08', '2026-06-10'];
      const before = await available(api, m);
      const results = await Promise.all(days.map((d, i) => makeUp(i % 2 ? other : api, m, d)));
      const won = results.filter((r) => r.status === 201);
      expect(won).toHaveLength(PROGRAM.makeup.perMonth);
      for (const r of results.filter((x) => x.status !== 201)) expectError(r, 409, 'LIMIT_REACHED');
      const paid = won.reduce((s, r) => s + r.body.reward.points, 0);
      expect(await available(api, m)).toBe(before - 20 * won.length + paid);
      expect((await calendar(api, m)).makeup.usedThisMonth).toBe(2);
      await expectLedgerClean([api, other]);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });

  it('when make-ups are turned off (perMonth 0), then LIMIT_REACHED', async () => {
    const m = await memberWith([1]);
    await configure(api, { ...PROGRAM, makeup: { cost: 0, perMonth: 0 } });
    try {
      at('2026-06-04');
      expectError(await makeUp(api, m, '2026-06-02'), 409, 'LIMIT_REACHED');
      expect((await checkIn(api, m)).status).toBe(201);
    } finally {
      await configure(api);
    }
  });

  it('when the body is hostile or malformed, then 400 before anything runs', async () => {
    const m = await memberWith([]);
    at('2026-06-04');
    for (const day of ['2026-02-30', '2026-6-1', { $gt: '' }, 20260601, '']) {
      expectError(await makeUp(api, m, day as string), 400, 'VALIDATION_FAILED');
    }
    expect(await available(api, m)).toBe(100);
  });
});
