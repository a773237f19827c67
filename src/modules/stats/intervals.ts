import { addDays, dayNumber } from '../../platform/calendar.js';
import { addFlows, emptyFlows, type Flows } from './days.js';
import type { StatsView } from './view.js';

export type Interval = { start: string; end: string };

/** The first day of the interval a day is in: itself, its ISO week's Monday, or its month's first. */
function startOf(day: string, interval: 'day' | 'week' | 'month'): string {
  if (interval === 'day') return day;
  if (interval === 'month') return `${day.slice(0, 7)}-01`;
  const weekday = (dayNumber(day) + 3) % 7; // 1970-01-01 was a Thursday: 0 = Monday
  return addDays(day, -weekday);
}

/** Days, weeks (Monday to Sunday) or calendar months covering [from, to], the first and last cut to the range. */
export function intervalsOf(from: string, to: string, interval: 'day' | 'week' | 'month'): Interval[] {
  const out: Interval[] = [];
  for (let start = from; start <= to; ) {
    let next = start;
    while (next <= to && startOf(next, interval) === startOf(start, interval)) next = addDays(next, 1);
    out.push({ start, end: addDays(next, -1) });
    start = next;
  }
  return out;
}

/** The flows summed over an interval's days. */
export function flowsOver(view: StatsView, iv: Interval): Flows {
  const total = emptyFlows();
  for (let d = iv.start; d <= iv.end; d = addDays(d, 1)) addFlows(total, view.flows(d));
  return total;
}

/** A ratio rounded to 6 decimals, or null when there is nothing to divide by. */
export const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 1e6) / 1e6);

/** The counter `name` of `flows` (0 when nothing counted it). */
export const n = (flows: Flows, name: string): number => flows.c[name] ?? 0;

/** What every report starts with. */
export const headerOf = (q: { from: string; to: string; interval: 'day' | 'week' | 'month' }, view: StatsView, timezone: string, now: Date) => ({
  from: q.from,
  to: q.to,
  interval: q.interval,
  timezone,
  generatedAt: now.toISOString(),
  closedThrough: view.closedThrough,
});

/** When a figure at the end of `day` is taken: the day's end, or now for a day not over yet. */
export const asOfEnd = (dayEnd: Date, now: Date): string => (dayEnd.getTime() < now.getTime() ? dayEnd : now).toISOString();
