import { DateTime } from 'luxon';
import { conflict } from '../../platform/errors.js';
import type { CheckinConfig } from './checkins.schemas.js';

/**
 * A member's check-in state after a commit (PRODUCT.md §7). Pure data, carried by every log entry, so the newest entry
 * alone decides the next check-in or make-up.
 */
export type CheckinState = {
  /** The latest day checked, by a check-in or a make-up (`YYYY-MM-DD`, the member's calendar). */
  lastDay: string | null;
  /** The run of consecutive checked days that ends at `lastDay`. */
  streak: number;
  best: number;
  total: number;
  /** The latest check-in proper (not a make-up): the time zone rule looks at it. */
  last: { day: string; at: Date; timezone: string } | null;
  /** Days of lastDay's month that are checked, and which of them were made up. */
  days: number[];
  makeups: number[];
  /** The run that ended on the last day of the month before lastDay's (a make-up on the 1st joins it). */
  prevMonthEndRun: number;
};

export const emptyState = (): CheckinState => ({ lastDay: null, streak: 0, best: 0, total: 0, last: null, days: [], makeups: [], prevMonthEndRun: 0 });

/** What a committed day pays: its place in the cycle, and the streak milestones it reached. */
export type RewardPlan = {
  /** The run of consecutive days the checked day is part of, once checked. */
  run: number;
  cycleDay: number;
  points: number;
  growth: number;
  milestones: Array<{ streak: number; points: number; growth: number }>;
};

const DAY_MS = 86_400_000;
const parseDay = (day: string) => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));

/** The calendar day of an instant in a time zone (DST-aware). */
export const localDay = (at: Date, timezone: string): string => DateTime.fromJSDate(at, { zone: timezone }).toISODate() as string;
export const addDays = (day: string, n: number): string => new Date(parseDay(day) + n * DAY_MS).toISOString().slice(0, 10);
export const monthOf = (day: string): string => day.slice(0, 7);
const dayOfMonth = (day: string): number => Number(day.slice(8, 10));
/** The first instant of a day in a time zone, as a JS date (the next local midnight is `startOfDay(addDays(day, 1))`). */
export const startOfDay = (day: string, timezone: string): Date => DateTime.fromISO(day, { zone: timezone }).startOf('day').toJSDate();
/** True when `YYYY-MM-DD` is a real calendar date. */
export const isCalendarDay = (day: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(day) && addDays(day, 0) === day;

/** Changing time zone cannot buy a second check-in sooner than this after the last one. */
export const TIMEZONE_COOLDOWN_MS = DAY_MS;

/** The run of checked days ending at `day` as the state knows it (0 when `day` is not checked). */
function runEndingAt(state: CheckinState, day: string): number {
  if (state.lastDay === null || day > state.lastDay) return 0;
  if (day === state.lastDay) return state.streak;
  if (monthOf(day) !== monthOf(state.lastDay)) {
    // Only the month of lastDay is kept; earlier days are reachable just at the month boundary.
    return day === addDays(`${monthOf(state.lastDay)}-01`, -1) ? state.prevMonthEndRun : 0;
  }
  const has = new Set(state.days);
  let run = 0;
  for (let d = dayOfMonth(day); d >= 1 && has.has(d); d--) run++;
  return run === dayOfMonth(day) ? run + state.prevMonthEndRun : run;
}

/** The state as of a commit in `month`: a later month starts an empty day list, keeping the run that crosses into it. */
function forMonth(state: CheckinState, month: string): CheckinState {
  if (state.lastDay === null || month === monthOf(state.lastDay)) return state;
  const lastOfPrevious = addDays(`${month}-01`, -1);
  return { ...state, days: [], makeups: [], prevMonthEndRun: runEndingAt(state, lastOfPrevious) };
}

/** What checking `day` pays, given the runs before and after it that it joins. */
export function planFor(config: CheckinConfig, before: number, after: number): RewardPlan {
  const position = before % config.cycle.length;
  const joined = before + 1 + after;
  const milestones = config.milestones
    .filter((m) => Math.max(before, after) < m.streak && m.streak <= joined)
    .map((m) => ({ streak: m.streak, points: m.points, growth: m.growth }));
  return {
    run: joined,
    cycleDay: position + 1,
    points: config.cycle[position] ?? 0,
    growth: config.growthPerCheckin,
    milestones,
  };
}

/**
 * Marks `day` checked and answers the new state with what the day pays. A make-up joins the runs on either side of
 * the day it fills; milestones pay when the joined run first reaches them (never again for a run that already had).
 */
function markDay(state: CheckinState, day: string, config: CheckinConfig, makeup: boolean): { state: CheckinState; plan: RewardPlan } {
  const s = forMonth(state, monthOf(day));
  const before = runEndingAt(s, addDays(day, -1));
  const has = new Set(s.days);
  let after = 0;
  if (s.lastDay !== null && monthOf(s.lastDay) === monthOf(day)) {
    for (let d = dayOfMonth(day) + 1; has.has(d); d++) after++;
  }
  const joined = before + 1 + after;
  const lastDay = s.lastDay === null || day > s.lastDay ? day : s.lastDay;
  const streak = addDays(day, after) === lastDay ? joined : s.streak;
  const next: CheckinState = {
    ...s,
    lastDay,
    streak,
    best: Math.max(s.best, joined),
    total: s.total + 1,
    days: [...s.days, dayOfMonth(day)].sort((a, b) => a - b),
    makeups: makeup ? [...s.makeups, dayOfMonth(day)].sort((a, b) => a - b) : s.makeups,
  };
  return { state: next, plan: planFor(config, before, after) };
}

/**
 * A check-in for today. Refused (409 ALREADY_CHECKED_IN) when today is not after the last day checked in — also when a
 * time zone moved west makes today an earlier date — or, after a time zone change, within 24 h of the last check-in.
 */
export function checkIn(state: CheckinState, input: { today: string; now: Date; timezone: string }, config: CheckinConfig) {
  const last = state.last;
  if (last && last.timezone !== input.timezone && input.now.getTime() - last.at.getTime() < TIMEZONE_COOLDOWN_MS) {
    throw conflict('ALREADY_CHECKED_IN', 'the time zone changed since the last check-in; the next one opens 24 hours after it', {
      day: last.day,
      nextCheckinAt: new Date(last.at.getTime() + TIMEZONE_COOLDOWN_MS).toISOString(),
    });
  }
  // Not after the last day checked: the same day, or an earlier date after a time zone moved west.
  if (state.lastDay !== null && input.today <= state.lastDay) {
    throw conflict('ALREADY_CHECKED_IN', `already checked in for ${state.lastDay}`, { day: state.lastDay });
  }
  const { state: next, plan } = markDay(state, input.today, config, false);
  return { state: { ...next, last: { day: input.today, at: input.now, timezone: input.timezone } }, plan };
}

/** Why a make-up is refused, before any point is spent (codes per PRODUCT.md §2). */
export function refuseMakeup(state: CheckinState, input: { day: string; today: string; registeredOn: string }, config: CheckinConfig): void {
  const { day, today } = input;
  const notAllowed = (reason: string, message: string) => conflict('MAKEUP_NOT_ALLOWED', message, { day, reason });
  if (day >= today) throw notAllowed('not-past', 'only a past day can be made up (check in for today instead)');
  if (monthOf(day) !== monthOf(today) || (state.lastDay !== null && monthOf(day) < monthOf(state.lastDay))) {
    throw notAllowed('not-this-month', 'only a day of the current month can be made up');
  }
  if (day < input.registeredOn) throw notAllowed('before-registration', 'a day before the member registered cannot be made up');
  const s = forMonth(state, monthOf(day));
  if (s.days.includes(dayOfMonth(day))) throw conflict('ALREADY_CHECKED_IN', `${day} is already checked`, { day });
  if (s.makeups.length >= config.makeup.perMonth) {
    throw conflict('LIMIT_REACHED', `at most ${config.makeup.perMonth} make-up check-ins a month`, { perMonth: config.makeup.perMonth });
  }
}

/** A make-up of a missed past day of the current month. Errors: those of refuseMakeup. */
export function makeUp(state: CheckinState, input: { day: string; today: string; registeredOn: string }, config: CheckinConfig) {
  refuseMakeup(state, input, config);
  return markDay(state, input.day, config, true);
}

/** The streak as a member sees it today: the run ending today or yesterday, else 0 (broken). */
export const currentStreak = (state: CheckinState, today: string): number =>
  state.lastDay !== null && state.lastDay >= addDays(today, -1) ? state.streak : 0;

/** What the next check-in pays: today's when not yet checked, and tomorrow's assuming today is (PRODUCT.md §7 calendar). */
export function upcoming(state: CheckinState, today: string, config: CheckinConfig) {
  const checkedToday = state.lastDay !== null && state.lastDay >= today;
  const runToYesterday = runEndingAt(state, addDays(today, -1));
  const todayPlan = checkedToday ? null : { day: today, ...planFor(config, runToYesterday, 0) };
  const tomorrow = { day: addDays(today, 1), ...planFor(config, checkedToday ? runEndingAt(state, today) : runToYesterday + 1, 0) };
  return { checkedToday, today: todayPlan, tomorrow };
}
