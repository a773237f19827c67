import { z, type ZodType } from 'zod';
import { defineRoute, type Route } from '../../platform/http/route.js';
import { benefitsStats, checkinsStats, membersStats, pointsStats, referralsQuery, referralsStats, statsOverview, statsQuery } from './stats.schemas.js';
import type { StatsService } from './stats.service.js';

const DESCRIPTION =
  'Days are calendar days of the program’s time zone (PROGRAM_TIMEZONE). Closed days (up to `closedThrough`) come from the rollup’s day ' +
  'documents, later days from their facts; every figure is defined in docs/ANALYTICS.md. 400 VALIDATION_FAILED names the failing query ' +
  'parameter: a date that is not a calendar day, `to` before `from`, a range over 366 days, an unknown parameter.';

function report<Q extends typeof statsQuery | typeof referralsQuery>(name: string, summary: string, query: Q, schema: ZodType, run: (q: z.infer<Q>) => Promise<unknown>): Route {
  return defineRoute({
    method: 'get', path: `/v1/admin/stats/${name}`, tag: 'stats', auth: ['ops'],
    summary, description: DESCRIPTION,
    request: { query },
    responses: { 200: { description: 'the report', schema } },
    errors: [400],
    handler: async ({ query: q }) => ({ status: 200, body: await run(q as z.infer<Q>) }),
  });
}

const calendarView = z
  .object({
    timezone: z.string().meta({ description: 'the program’s IANA time zone (PROGRAM_TIMEZONE, else DEFAULT_TIMEZONE)', example: 'Asia/Shanghai' }),
    today: z.string().meta({ description: 'today in that zone', example: '2026-03-01' }),
    now: z.iso.datetime(),
  })
  .meta({ id: 'ProgramCalendar' });

export function statsRoutes(stats: StatsService): Route[] {
  return [
    defineRoute({
      method: 'get', path: '/v1/admin/stats/calendar', tag: 'stats', auth: ['ops'],
      summary: 'The program’s time zone and today there: the calendar every report’s days are counted on',
      responses: { 200: { description: 'the calendar', schema: calendarView } },
      handler: async () => ({ status: 200, body: await stats.calendar() }),
    }),
    report('points', 'Points earned, spent, expired, reversed and adjusted per interval; the liability at each end; redemption and breakage rates; what expires soon', statsQuery, pointsStats, stats.points),
    report('members', 'New members, tier moves, and members by tier and lifecycle (active, silent, churned) at each interval’s end and now', statsQuery, membersStats, stats.members),
    report('checkins', 'Check-ins and make-ups per interval, and checked days by streak length', statsQuery, checkinsStats, stats.checkins),
    report('referrals', 'The referral funnel per interval (bound → qualified → rewarded, review, rejected, reversed, expired) and the top referrers', referralsQuery, referralsStats, stats.referrals),
    report('overview', 'Points, members, check-ins and the referral funnel together, read once: the same figures as those four calls at one instant, for a dashboard', referralsQuery, statsOverview, stats.overview),
    report('benefits', 'Redemptions issued, used, cancelled and expired per interval and per benefit, the use rate and the stock left', statsQuery, benefitsStats, stats.benefits),
  ];
}
