import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, startTestApp, type TestApp } from '../helpers/app.js';
import { available, calendar, checkedIn, checkIn, configure, growthOf, makeUp, memberIn, PROGRAM } from '../helpers/checkins.js';
import { expectError } from '../helpers/expect.js';
import { earned, expectLedgerClean, historyOf } from '../helpers/ledger.js';

/**
 * Check-ins and make-ups are flows of several steps (spend, commit the day, pay it). A request can die between any two
 * of them; the sweeper must finish or undo what it left, whatever the member does next, on any process.
 */
const clock = new ManualClock('2026-06-01T01:00:00Z');
const dbName = freshDbName('checkin_interrupted');
let api: TestApp;
let other: TestApp;

beforeAll(async () => {
  api = await startTestApp({ dbName, clock });
  other = await startTestApp({ dbName, clock });
  await configure(api);
});
afterAll(async () => {
  await other.close({ keepDatabase: true });
  await api.close();
});

let n = 0;
/** A member registered on 1 June (Shanghai) with `points`, who checked in on the given days of June. */
async function memberWith(days: number[], points = 100): Promise<string> {
  clock.set('2026-06-01T01:00:00Z');
  const m = await memberIn(api, `int-${++n}`, 'Asia/Shanghai');
  if (points > 0) await earned(api, m, points);
  for (const d of days) {
    clock.set(`2026-06-${String(d).padStart(2, '0')}T01:00:00Z`);
    await checkedIn(api, m, `2026-06-${String(d).padStart(2, '0')}`);
  }
  return m;
}
const noonOf = (day: string) => clock.set(`${day}T04:00:00Z`);

/** An instance whose next pass through `point` dies, over the same database and clock. */
async function crashingAt(point: string): Promise<TestApp> {
  const faults = new ArmedFaults();
  const crashing = await startTestApp({ dbName, clock, faults });
  faults.arm(point);
  return crashing;
}

const makeupSpends = async (m: string) => (await historyOf(api, m)).filter((e) => e.code === 'checkin_makeup');
const refunds = async (m: string) => (await historyOf(api, m)).filter((e) => e.code === 'checkin_makeup_refund');

describe('two make-ups of one day at once', () => {
  it('when two processes make up the same day for one member at the same moment, then one lands, the other is refused, and the day is paid for once', async () => {
    for (let round = 0; round < 6; round++) {
      const m = await memberWith([1]);
      noonOf('2026-06-05');
      const before = await available(api, m);
      const [x, y] = await Promise.all([makeUp(api, m, '2026-06-03'), makeUp(other, m, '2026-06-03')]);
      const won = [x, y].filter((r) => r.status === 201);
      expect(won, `${x.text} / ${y.text}`).toHaveLength(1);
      const lost = [x, y].find((r) => r.status !== 201);
      expectError(lost as typeof x, 409, 'ALREADY_CHECKED_IN');
      const reward = won[0]?.body.reward.points as number;
      expect(await available(api, m)).toBe(before - PROGRAM.makeup.cost + reward);
      const spends = await makeupSpends(m);
      const refunded = await refunds(m);
      expect(spends.length - refunded.length).toBe(1);
    }
    await expectLedgerClean([api, other]);
  });
});

describe('interrupted check-ins and make-ups are finished by the sweeper', () => {
  it('when a check-in dies after its commit and the member makes up an earlier day within the minute, then the sweep still pays the check-in', async () => {
    const m = await memberWith([1]);
    noonOf('2026-06-04');
    const crashing = await crashingAt('checkin:after-commit');
    try {
      expectError(await checkIn(crashing, m, 'dies-after-commit'), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    const before = await available(api, m);
    clock.advance({ seconds: 10 });
    const made = await makeUp(api, m, '2026-06-02');
    expect(made.status, made.text).toBe(201);
    expect(await available(api, m)).toBe(before - PROGRAM.makeup.cost + made.body.reward.points);

    clock.advance({ minutes: 2 });
    await other.built.sweep();
    const checkinEarns = (await historyOf(api, m)).filter((e) => e.code === 'checkin' && e.ref?.id === '2026-06-04');
    expect(checkinEarns).toHaveLength(1);
    expect(await available(api, m)).toBe(before - PROGRAM.makeup.cost + made.body.reward.points + checkinEarns[0].points);
    await other.built.sweep();
    expect((await historyOf(api, m)).filter((e) => e.code === 'checkin' && e.ref?.id === '2026-06-04')).toHaveLength(1);
    await expectLedgerClean([api, other]);
  });

  it('when a check-in dies after its commit and the member never taps again, then the sweep pays the day, growth included', async () => {
    const m = await memberWith([]);
    noonOf('2026-06-08');
    const crashing = await crashingAt('checkin:after-commit');
    try {
      expectError(await checkIn(crashing, m, 'never-retried'), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    clock.advance({ minutes: 2 });
    await api.built.sweep();
    expect(await available(api, m)).toBe(100 + PROGRAM.cycle[0]!);
    expect(await growthOf(api, m)).toBe(PROGRAM.growthPerCheckin);
    // The tap retried later still answers the day it checked, paid once.
    const retried = await checkIn(other, m, 'never-retried');
    expect(retried.status, retried.text).toBe(201);
    expect(retried.body).toMatchObject({ day: '2026-06-08', reward: { points: 5 } });
    expect(await available(api, m)).toBe(105);
  });

  it('when a make-up dies between its spend and its commit and is never retried, then the sweep makes the day up it was paid for', async () => {
    const m = await memberWith([1, 3]);
    noonOf('2026-06-05');
    const crashing = await crashingAt('checkin:makeup-after-spend');
    try {
      expectError(await makeUp(crashing, m, '2026-06-02', 'dies-after-spend'), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    const spentNotMade = await available(api, m);
    expect(spentNotMade).toBe(100 + 5 + 5 - PROGRAM.makeup.cost);
    expect((await calendar(api, m)).days.map((d: { day: string }) => d.day)).toEqual(['2026-06-01', '2026-06-03']);

    clock.advance({ minutes: 2 });
    await other.built.sweep();
    const cal = await calendar(api, m);
    expect(cal.days).toEqual([
      { day: '2026-06-01', makeup: false },
      { day: '2026-06-02', makeup: true },
      { day: '2026-06-03', makeup: false },
    ]);
    // Day 2 pays cycle day 2 (5) and the 3-day milestone the joined run reached (100).
    expect(await available(api, m)).toBe(spentNotMade + 5 + 100);
    const retried = await makeUp(api, m, '2026-06-02', 'dies-after-spend');
    expect(retried.status, retried.text).toBe(201);
    expect(await available(api, m)).toBe(spentNotMade + 105);
    expect(await makeupSpends(m)).toHaveLength(1);
    await expectLedgerClean([api, other]);
  });

  it('when a make-up dies after its spend and another request takes the day first, then the sweep gives the dead one its points back', async () => {
    const m = await memberWith([1]);
    noonOf('2026-06-06');
    const crashing = await crashingAt('checkin:makeup-after-spend');
    try {
      expectError(await makeUp(crashing, m, '2026-06-04', 'dies-too'), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    const made = await makeUp(api, m, '2026-06-04', 'second-tap');
    expect(made.status, made.text).toBe(201);
    clock.advance({ minutes: 2 });
    await api.built.sweep();
    expect(await makeupSpends(m)).toHaveLength(2);
    expect(await refunds(m)).toHaveLength(1);
    expect(await available(api, m)).toBe(100 + 5 - PROGRAM.makeup.cost + made.body.reward.points);
    await expectLedgerClean([api, other]);
  });
});
