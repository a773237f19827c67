import type { Calendar } from '../../platform/calendar.js';
import { STREAK_BUCKETS } from '../checkins/index.js';
import { flowsOver, headerOf, intervalsOf, n } from './intervals.js';
import type { StatsQuery } from './stats.schemas.js';
import type { StatsView } from './view.js';

/** Check-ins and make-ups per interval, and the checked days of the range by the run they are part of (docs/ANALYTICS.md). */
export function checkinsReport(view: StatsView, q: StatsQuery, cal: Calendar, now: Date) {
  const total = flowsOver(view, { start: q.from, end: q.to });
  const streaks = total.k['checkins.streaks'] ?? {};
  return {
    ...headerOf(q, view, cal.zone, now),
    intervals: intervalsOf(q.from, q.to, q.interval).map((iv) => {
      const f = flowsOver(view, iv);
      return { ...iv, checkins: n(f, 'checkins.checkins'), makeups: n(f, 'checkins.makeups') };
    }),
    totals: { checkins: n(total, 'checkins.checkins'), makeups: n(total, 'checkins.makeups') },
    streaks: STREAK_BUCKETS.map((streak) => ({ streak, days: streaks[streak] ?? 0 })),
  };
}

const FUNNEL = ['bound', 'qualified', 'review', 'approved', 'rejected', 'rewarded', 'reversed', 'expired', 'settled'] as const;
const funnelOf = (f: ReturnType<typeof flowsOver>) => Object.fromEntries(FUNNEL.map((s) => [s, n(f, `referrals.${s}`)])) as Record<(typeof FUNNEL)[number], number>;

/** The referral funnel per interval (steps that happened in it) and the referrers with the most bindings (docs/ANALYTICS.md). */
export function referralsReport(view: StatsView, q: StatsQuery & { top: number }, cal: Calendar, now: Date) {
  const total = flowsOver(view, { start: q.from, end: q.to });
  const top = Object.entries(total.k['referrals.referrers'] ?? {})
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, q.top)
    .map(([memberId, invites]) => ({ memberId, invites }));
  return {
    ...headerOf(q, view, cal.zone, now),
    intervals: intervalsOf(q.from, q.to, q.interval).map((iv) => ({ ...iv, ...funnelOf(flowsOver(view, iv)) })),
    totals: funnelOf(total),
    topReferrers: top,
  };
}
