import type { Calendar } from '../../platform/calendar.js';
import type { Clock } from '../../platform/clock.js';
import { checkinsReport, referralsReport } from './activity.report.js';
import { benefitsReport, type Catalogue } from './benefits.report.js';
import { membersReport } from './members.report.js';
import { pointsReport } from './points.report.js';
import type { StatsQuery } from './stats.schemas.js';
import type { StatsReader } from './view.js';

export type StatsDeps = {
  reader: StatsReader;
  calendar: Calendar;
  clock: Clock;
  /** ACTIVE_DAYS: how recent an activity makes a member active. */
  activeDays: number;
  /** The ladder's tier codes, bottom first (members without a tier change are in the first); none without a ladder. */
  ladderTiers: () => Promise<string[]>;
  catalogue: Catalogue;
};

/**
 * The ops reports (PRODUCT.md §10, docs/ANALYTICS.md). Each reads the closed days and the open days' facts of its range
 * and shapes them; none scans a business collection. Errors: none beyond the routes' 400s.
 */
export function statsService(deps: StatsDeps) {
  const { reader, calendar, clock } = deps;
  const open = (q: { from: string; to: string }) => {
    const now = clock.now();
    return reader.view(q.from, q.to, now).then((view) => ({ view, now }));
  };
  return {
    /** The program's calendar as ops see it: its time zone, today there and the instant; what a date range starts from. */
    async calendar() {
      const now = clock.now();
      return { timezone: calendar.zone, today: calendar.dayOf(now), now: now.toISOString() };
    },
    async points(q: StatsQuery) {
      const { view, now } = await open(q);
      return pointsReport(view, q, calendar, now);
    },
    async members(q: StatsQuery) {
      const [{ view, now }, ladder] = await Promise.all([open(q), deps.ladderTiers()]);
      return membersReport(view, q, { calendar, activeDays: deps.activeDays, ladder }, now);
    },
    async checkins(q: StatsQuery) {
      const { view, now } = await open(q);
      return checkinsReport(view, q, calendar, now);
    },
    async referrals(q: StatsQuery & { top: number }) {
      const { view, now } = await open(q);
      return referralsReport(view, q, calendar, now);
    },
    /**
     * The reports an overview shows together (points, members, check-ins, the referral funnel), from one read of the
     * rollup: each report's own call reads the closed days, the snapshot and the open days' facts again, which on a
     * large store is most of its time (docs/ANALYTICS.md). The same figures as the four calls at one instant.
     */
    async overview(q: StatsQuery & { top: number }) {
      const [{ view, now }, ladder] = await Promise.all([open(q), deps.ladderTiers()]);
      return {
        points: pointsReport(view, q, calendar, now),
        members: await membersReport(view, q, { calendar, activeDays: deps.activeDays, ladder }, now),
        checkins: checkinsReport(view, q, calendar, now),
        referrals: referralsReport(view, q, calendar, now),
      };
    },
    async benefits(q: StatsQuery) {
      const { view, now } = await open(q);
      return benefitsReport(view, q, { calendar, catalogue: deps.catalogue }, now);
    },
  };
}
export type StatsService = ReturnType<typeof statsService>;
