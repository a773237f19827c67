import { describe, expect, it } from 'vitest';
import { addDays, checkIn, currentStreak, emptyState, makeUp, monthOf, type CheckinState } from '../../src/modules/checkins/checkins.state.js';
import type { CheckinConfig } from '../../src/modules/checkins/checkins.schemas.js';
import { AppError } from '../../src/platform/errors.js';

/**
 * The check-in state keeps only the current month's days and a few counters. Checked here against a brute-force model
 * that keeps every day ever checked, over random months of check-ins and make-ups (a seeded generator, so a failure
 * replays).
 */
const config: CheckinConfig = {
  cycle: [1, 2, 3, 4, 5],
  milestones: [{ streak: 3, points: 30, growth: 0 }, { streak: 10, points: 100, growth: 0 }, { streak: 40, points: 400, growth: 0 }],
  growthPerCheckin: 1,
  makeup: { cost: 0, perMonth: 3 },
};

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Runs of the brute-force model: days ending at / starting after a day. */
const runBack = (days: Set<string>, day: string) => {
  let n = 0;
  for (let d = day; days.has(d); d = addDays(d, -1)) n++;
  return n;
};
const runForward = (days: Set<string>, day: string) => {
  let n = 0;
  for (let d = day; days.has(d); d = addDays(d, 1)) n++;
  return n;
};
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
};

describe('check-in state against a brute-force model', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('when a member checks in and makes up at random for five months (seed %i), then streaks, rewards and refusals match the model', (seed) => {
    const rand = prng(seed);
    let state: CheckinState = emptyState();
    const days = new Set<string>();
    const makeupsByMonth = new Map<string, number>();
    let best = 0;
    const registeredOn = '2026-01-03';
    for (let today = registeredOn; today < '2026-06-01'; today = addDays(today, 1)) {
      const now = new Date(`${today}T12:00:00Z`);
      if (rand() < 0.75) {
        const before = runBack(days, addDays(today, -1));
        const result = checkIn(state, { today, now, timezone: 'UTC' }, config);
        days.add(today);
        best = Math.max(best, before + 1);
        expect(result.plan.cycleDay).toBe((before % 5) + 1);
        expect(result.plan.milestones.map((m) => m.streak)).toEqual(config.milestones.filter((m) => m.streak === before + 1).map((m) => m.streak));
        state = result.state;
        expect(code(() => checkIn(state, { today, now, timezone: 'UTC' }, config))).toBe('ALREADY_CHECKED_IN');
      }
      if (rand() < 0.3) {
        const offset = 1 + Math.floor(rand() * 40);
        const day = addDays(today, -offset);
        const used = makeupsByMonth.get(monthOf(today)) ?? 0;
        const expected =
          monthOf(day) !== monthOf(today) || day < registeredOn ? 'MAKEUP_NOT_ALLOWED' : days.has(day) ? 'ALREADY_CHECKED_IN' : used >= 3 ? 'LIMIT_REACHED' : undefined;
        let plan;
        const refused = code(() => {
          const r = makeUp(state, { day, today, registeredOn }, config);
          state = r.state;
          plan = r.plan;
        });
        expect(refused, `make-up of ${day} on ${today}`).toBe(expected);
        if (!refused && plan) {
          const before = runBack(days, addDays(day, -1));
          const after = runForward(days, addDays(day, 1));
          days.add(day);
          makeupsByMonth.set(monthOf(today), used + 1);
          best = Math.max(best, before + 1 + after);
          expect(plan).toMatchObject({ run: before + 1 + after, cycleDay: (before % 5) + 1 });
          const reached = config.milestones.filter((m) => Math.max(before, after) < m.streak && m.streak <= before + 1 + after).map((m) => m.streak);
          expect((plan as { milestones: Array<{ streak: number }> }).milestones.map((m) => m.streak)).toEqual(reached);
        }
      }
      const last = [...days].sort().at(-1) ?? null;
      expect(state.lastDay).toBe(last);
      expect(state.streak).toBe(last ? runBack(days, last) : 0);
      expect(state.best).toBe(best);
      expect(state.total).toBe(days.size);
      expect(currentStreak(state, today)).toBe(days.has(today) ? runBack(days, today) : runBack(days, addDays(today, -1)));
      if (last) {
        const month = monthOf(last);
        expect(state.days).toEqual([...days].filter((d) => monthOf(d) === month).map((d) => Number(d.slice(8))).sort((a, b) => a - b));
      }
    }
  });
});
