import { addDays, type Calendar } from '../../platform/calendar.js';
import type { Flows } from './days.js';
import { asOfEnd, flowsOver, headerOf, intervalsOf, n, ratio } from './intervals.js';
import type { StatsQuery } from './stats.schemas.js';
import type { StatsView } from './view.js';

const pointsFlows = (f: Flows) => {
  const earned = n(f, 'points.earned');
  const spent = n(f, 'points.spent');
  const expired = n(f, 'points.expired');
  return {
    earned,
    spent,
    expired,
    reversed: { earned: n(f, 'points.reversedEarned'), spent: n(f, 'points.reversedSpent') },
    adjusted: { credited: n(f, 'points.adjustedIn'), debited: n(f, 'points.adjustedOut') },
    net: n(f, 'points.net'),
    redemptionRate: ratio(spent, earned),
    breakageRate: ratio(expired, earned),
  };
};

/**
 * Points per interval (docs/ANALYTICS.md): earned, spent, expired, reversed, adjusted, the change of the liability,
 * the outstanding liability at each interval's end, the rates, and what expires in the next 30 and 90 days.
 */
export function pointsReport(view: StatsView, q: StatsQuery, cal: Calendar, now: Date) {
  const intervals = intervalsOf(q.from, q.to, q.interval).map((iv) => ({
    ...iv,
    ...pointsFlows(flowsOver(view, iv)),
    liability: { asOf: asOfEnd(cal.startOf(addDays(iv.end, 1)), now), points: view.liabilityAt(iv.end) },
  }));
  return {
    ...headerOf(q, view, cal.zone, now),
    intervals,
    totals: pointsFlows(flowsOver(view, { start: q.from, end: q.to })),
    expiring: { asOf: now.toISOString(), next30Days: view.expiringWithin(now, 30), next90Days: view.expiringWithin(now, 90) },
  };
}
