import { z } from 'zod';
import { dayNumber, isCalendarDay } from '../../platform/calendar.js';
import '../../platform/openapi.js';

/** The longest range a report covers (a leap year). */
export const MAX_RANGE_DAYS = 366;

const day = z.string().refine(isCalendarDay, 'a calendar day, YYYY-MM-DD');
const rangeFields = {
  from: day.meta({ description: 'first day, in the program’s time zone (PROGRAM_TIMEZONE)', example: '2026-03-01' }),
  to: day.meta({ description: 'last day, included', example: '2026-03-31' }),
  interval: z.enum(['day', 'week', 'month']).default('day').meta({ description: 'weeks start on Monday; the first and last interval may be partial' }),
};
type Range = { from: string; to: string };
const checkRange = (q: Range, ctx: z.RefinementCtx) => {
  if (!isCalendarDay(q.from) || !isCalendarDay(q.to)) return;
  if (q.to < q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  else if (dayNumber(q.to) - dayNumber(q.from) + 1 > MAX_RANGE_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `a report covers at most ${MAX_RANGE_DAYS} days` });
};

export const statsQuery = z.object(rangeFields).strict().superRefine(checkRange);
export const referralsQuery = z
  .object({ ...rangeFields, top: z.coerce.number().int().min(1).max(100).default(10).meta({ description: 'how many referrers to list' }) })
  .strict()
  .superRefine(checkRange);
export type StatsQuery = z.infer<typeof statsQuery>;

const count = z.number().int();
const rate = z.number().nullable().meta({ description: 'a ratio rounded to 6 decimals; null when its denominator is 0' });
const interval = { start: z.string(), end: z.string() };
const header = {
  from: z.string(),
  to: z.string(),
  interval: z.enum(['day', 'week', 'month']),
  timezone: z.string(),
  generatedAt: z.iso.datetime(),
  closedThrough: z.string().nullable().meta({ description: 'the newest day closed by the rollup; later days are summed from their facts' }),
};

const pointsFlows = {
  earned: count,
  spent: count,
  expired: count,
  reversed: z.object({ earned: count, spent: count }).meta({ description: 'earns taken back (refunds), spends given back (cancellations)' }),
  adjusted: z.object({ credited: count, debited: count }),
  net: count.meta({ description: 'the change of the outstanding liability over the interval' }),
  redemptionRate: rate.meta({ description: 'spent ÷ earned' }),
  breakageRate: rate.meta({ description: 'expired ÷ earned' }),
};
export const pointsStats = z
  .object({
    ...header,
    intervals: z.array(z.object({ ...interval, ...pointsFlows, liability: z.object({ asOf: z.iso.datetime(), points: count }) })),
    totals: z.object(pointsFlows),
    expiring: z.object({ asOf: z.iso.datetime(), next30Days: count, next90Days: count }),
  })
  .meta({ id: 'PointsStats' });

const lifecycle = z.object({ active: count, silent: count, churned: count });
export const membersStats = z
  .object({
    ...header,
    activeDays: count,
    intervals: z.array(
      z.object({
        ...interval,
        new: count,
        tierMoves: z.object({ up: count, down: count, renewed: count, placed: count }),
        atEnd: z.object({ asOf: z.iso.datetime(), members: count, tiers: z.record(z.string(), count), lifecycle }),
      }),
    ),
    now: z.object({ asOf: z.iso.datetime(), members: count }).extend(lifecycle.shape),
  })
  .meta({ id: 'MembersStats' });

export const checkinsStats = z
  .object({
    ...header,
    intervals: z.array(z.object({ ...interval, checkins: count, makeups: count })),
    totals: z.object({ checkins: count, makeups: count }),
    streaks: z.array(z.object({ streak: z.string(), days: count })).meta({ description: 'checked days (check-ins and make-ups) by the length of the run they are part of' }),
  })
  .meta({ id: 'CheckinsStats' });

const funnel = { bound: count, qualified: count, review: count, approved: count, rejected: count, rewarded: count, reversed: count, expired: count, settled: count };
export const referralsStats = z
  .object({
    ...header,
    intervals: z.array(z.object({ ...interval, ...funnel })),
    totals: z.object(funnel),
    topReferrers: z.array(z.object({ memberId: z.string(), invites: count })),
  })
  .meta({ id: 'ReferralsStats' });

const redemptionFlows = { issued: count, used: count, cancelled: count, expired: count };
export const benefitsStats = z
  .object({
    ...header,
    intervals: z.array(z.object({ ...interval, ...redemptionFlows })),
    benefits: z.array(
      z.object({
        code: z.string(),
        name: z.string().nullable(),
        ...redemptionFlows,
        useRate: rate.meta({ description: 'used ÷ issued' }),
        stockLeft: count.nullable().meta({ description: 'now; null for an unlimited stock' }),
      }),
    ),
  })
  .meta({ id: 'BenefitsStats' });

export const statsOverview = z
  .object({ points: pointsStats, members: membersStats, checkins: checkinsStats, referrals: referralsStats })
  .meta({ id: 'StatsOverview' });
