/**
 * What a task counts, with no I/O (PRODUCT.md §7): does an event match, which period's counter it goes to, and when a
 * window closes. Periods are taken in the program's time zone, ISO weeks starting on Monday.
 */
import { DateTime } from 'luxon';
import type { Condition, TaskInput, TaskWindow } from './tasks.schemas.js';

export type Task = TaskInput & { code: string };
type Period = Extract<TaskWindow, { type: 'calendar' }>['period'];

/** The key of a counter: `all` for lifetime and from-registration windows, else the calendar period's start. */
const ALL = 'all';
/** The payout key of a task that pays once ever. */
const ONCE = 'once';
const DAY_MS = 86_400_000;

function conditionHolds(c: Condition, properties: Record<string, unknown>): boolean {
  const v = properties[c.property];
  if (c.equals !== undefined && v !== c.equals) return false;
  if (c.in !== undefined && !((typeof v === 'string' || typeof v === 'number') && c.in.includes(v))) return false;
  if (c.min !== undefined && !(typeof v === 'number' && v >= c.min)) return false;
  if (c.max !== undefined && !(typeof v === 'number' && v <= c.max)) return false;
  return true;
}

function periodStart(period: Period, at: Date, zone: string): DateTime {
  return DateTime.fromJSDate(at, { zone }).startOf(period);
}

function periodKey(period: Period, start: DateTime): string {
  if (period === 'month') return start.toFormat('yyyy-MM');
  if (period === 'year') return start.toFormat('yyyy');
  return start.toISODate() as string;
}

/** The counter an instant belongs to: its calendar period's key, or `all`. */
export function counterKey(window: TaskWindow, at: Date, zone: string): string {
  return window.type === 'calendar' ? periodKey(window.period, periodStart(window.period, at, zone)) : ALL;
}

/** The payout key: per period for repeatable tasks, `once` otherwise. */
export const payKeyOf = (task: Task, counter: string): string => (task.repeatable ? counter : ONCE);

/** When the window an instant falls in closes: registration + days, the end of the calendar period, or never (null). */
export function windowEnd(window: TaskWindow, at: Date, memberCreatedAt: Date, zone: string): Date | null {
  if (window.type === 'lifetime') return null;
  if (window.type === 'from-registration') return new Date(memberCreatedAt.getTime() + window.days * DAY_MS);
  return periodStart(window.period, at, zone).plus({ [window.period]: 1 }).toJSDate();
}

/** Does this event count for the task: its type, the condition, and (from registration) [createdAt, createdAt + days)? */
export function eventCounts(task: Task, event: { type: string; properties: Record<string, unknown> }, occurredAt: Date, memberCreatedAt: Date): boolean {
  if (!task.active || task.eventType !== event.type) return false;
  if (task.condition && !conditionHolds(task.condition, event.properties)) return false;
  if (task.window.type === 'from-registration') {
    const since = occurredAt.getTime() - memberCreatedAt.getTime();
    if (since < 0 || since >= task.window.days * DAY_MS) return false;
  }
  return true;
}
