import { DateTime } from 'luxon';

/**
 * When points earned at `now` expire under a policy (POINTS_EXPIRY), in the program's time zone:
 *   never                          they never expire
 *   rolling:<days>[:<period>-end]  after <days> days, rounded up to the end of that day / month / quarter / year
 *   end-of-year-after-next         on the last instant of the year after next (earned 2026 → 2028-12-31 end)
 * Rounding to a period end makes earns of one period share a lot, which keeps each account's state small.
 */
export function expiryFor(policy: string, now: Date, timezone: string): Date | null {
  if (policy === 'never') return null;
  const rounded = policy === 'end-of-year-after-next' || policy.split(':').length === 3;
  if (!rounded) return computeExpiry(policy, DateTime.fromJSDate(now, { zone: timezone }));
  // Rounded to a period end, the answer depends only on the local day: every earn asks, so it is worked out once a day.
  const t = now.getTime();
  const hit = lastDay.get(`${policy}|${timezone}`);
  if (hit && t >= hit.from && t < hit.to) return hit.expiry && new Date(hit.expiry);
  const local = DateTime.fromJSDate(now, { zone: timezone });
  const expiry = computeExpiry(policy, local);
  lastDay.set(`${policy}|${timezone}`, { from: local.startOf('day').toMillis(), to: local.endOf('day').toMillis() + 1, expiry });
  return expiry;
}

/** Per policy and zone, the local day last asked about and its answer (a handful of entries per process). */
const lastDay = new Map<string, { from: number; to: number; expiry: Date | null }>();

function computeExpiry(policy: string, local: DateTime): Date | null {
  if (policy === 'end-of-year-after-next') return local.plus({ years: 2 }).endOf('year').toJSDate();
  const [, days, rounding] = policy.split(':');
  const due = local.plus({ days: Number(days) });
  switch (rounding) {
    case 'day-end':
      return due.endOf('day').toJSDate();
    case 'month-end':
      return due.endOf('month').toJSDate();
    case 'quarter-end':
      return due.endOf('quarter').toJSDate();
    case 'year-end':
      return due.endOf('year').toJSDate();
    default:
      return due.toJSDate();
  }
}
