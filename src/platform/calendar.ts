import { DateTime } from 'luxon';

const DAY_MS = 86_400_000;
/** Every time zone's offset is a whole number of quarter hours, and so is every change of it: a day starts on one. */
const QUARTER_MS = 15 * 60_000;

/** True when `YYYY-MM-DD` is a real calendar date. */
export const isCalendarDay = (day: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(day) && addDays(day, 0) === day;
/** The day `n` days after (or before) `day`, on the civil calendar (no time zone involved). */
export const addDays = (day: string, n: number): string => new Date(dayNumber(day) * DAY_MS + n * DAY_MS).toISOString().slice(0, 10);
/** Days since 1970-01-01 of a civil date: subtracting two gives the whole days between them. */
export const dayNumber = (day: string): number => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / DAY_MS;
export const dayOfNumber = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/**
 * The calendar of one time zone (the program's, for ops figures): which day an instant falls on, and when a day
 * starts. `dayOf` is called for every record a rollup reads, so it remembers the day of each quarter hour it saw.
 *
 *     const cal = calendar('Asia/Shanghai'); cal.dayOf(new Date('2026-03-01T16:30:00Z')) === '2026-03-02'
 */
export function calendar(zone: string) {
  const quarters = new Map<number, string>();
  return {
    zone,
    dayOf(at: Date | number): string {
      const ms = typeof at === 'number' ? at : at.getTime();
      const q = Math.floor(ms / QUARTER_MS);
      let day = quarters.get(q);
      if (day === undefined) {
        day = DateTime.fromMillis(q * QUARTER_MS, { zone }).toISODate() as string;
        if (quarters.size > 50_000) quarters.clear();
        quarters.set(q, day);
      }
      return day;
    },
    /** The first instant of a day in the zone; the next day's start ends it. */
    startOf: (day: string): Date => DateTime.fromISO(day, { zone }).startOf('day').toJSDate(),
  };
}
export type Calendar = ReturnType<typeof calendar>;
