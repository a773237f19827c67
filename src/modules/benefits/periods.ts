/**
 * The calendar periods a per-member limit counts in (PRODUCT.md §8), taken in the member's own time zone: a member in
 * Honolulu who redeemed at 23:30 local time on the 31st may redeem again at 00:00 local time on the 1st, whatever UTC
 * says. Weeks are ISO weeks (Monday first, the week-numbering year), so the last days of December can belong to week 1
 * of the next year and the first days of January to week 52 or 53 of the year before.
 */
import { DateTime } from 'luxon';

export const limitPeriods = ['day', 'week', 'month', 'year', 'lifetime'] as const;
export type LimitPeriod = (typeof limitPeriods)[number];

/** The key of the one period a lifetime limit counts in. */
export const LIFETIME_KEY = 'life';

const formats: Record<Exclude<LimitPeriod, 'lifetime'>, string> = {
  day: 'yyyy-MM-dd',
  // kkkk is the ISO week-numbering year, which is the right year for a week that straddles New Year.
  week: "kkkk-'W'WW",
  month: 'yyyy-MM',
  year: 'yyyy',
};

function local(at: Date, zone: string): DateTime {
  const dt = DateTime.fromJSDate(at, { zone });
  // An unknown zone would quietly give an invalid DateTime and keys like "Invalid DateTime": a bug, not a member's fault.
  if (!dt.isValid) throw new Error(`not a time zone: ${zone}`);
  return dt;
}

/**
 * The key of the period `at` falls in, in `zone`'s calendar: `2026-03-01`, `2026-W09`, `2026-03`, `2026`, or `life`.
 *
 *     periodKey('week', new Date('2026-12-31T12:00:00Z'), 'Pacific/Kiritimati') // '2026-W53'
 */
export function periodKey(period: LimitPeriod, at: Date, zone: string): string {
  if (period === 'lifetime') return LIFETIME_KEY;
  return local(at, zone).toFormat(formats[period]);
}

/**
 * The instant the period `at` falls in ends (the next period's local midnight), or null for a lifetime: when a
 * member's used-up limit comes back.
 *
 *     periodEnd('day', new Date('2026-03-01T09:59:00Z'), 'Pacific/Honolulu') // 2026-03-01T10:00:00.000Z
 */
export function periodEnd(period: LimitPeriod, at: Date, zone: string): Date | null {
  if (period === 'lifetime') return null;
  return local(at, zone).startOf(period).plus({ [period]: 1 }).toJSDate();
}
