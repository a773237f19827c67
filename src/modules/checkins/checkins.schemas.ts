import { z } from 'zod';
import '../../platform/openapi.js';
import { isCalendarDay } from './checkins.state.js';

const points = z.number().int().min(0).max(1_000_000);

/** What ops configure (PUT /v1/admin/checkin-config, PRODUCT.md §7). */
export const checkinConfigBody = z
  .object({
    /** Points for day 1, 2, … of a streak; the cycle repeats after its last day. */
    cycle: z.array(points).min(1).max(31).meta({ example: [5, 5, 10, 5, 5, 10, 30] }),
    /** Paid once per run of consecutive days, when the run first reaches `streak` days. */
    milestones: z
      .array(z.object({ streak: z.number().int().min(2).max(3650), points, growth: points.default(0) }).strict())
      .max(20)
      .default([])
      .superRefine((ms, ctx) => {
        const seen = new Set<number>();
        ms.forEach((m, i) => {
          if (seen.has(m.streak)) ctx.addIssue({ code: 'custom', path: [i, 'streak'], message: `streak ${m.streak} appears twice` });
          seen.add(m.streak);
          if (m.points === 0 && m.growth === 0) ctx.addIssue({ code: 'custom', path: [i], message: 'a milestone pays points or growth' });
        });
      }),
    /** Growth added by every check-in (make-ups too). */
    growthPerCheckin: points.default(0),
    makeup: z
      .object({
        /** Points a make-up check-in costs. */
        cost: points,
        /** Make-ups allowed per calendar month (0 turns them off). */
        perMonth: z.number().int().min(0).max(31),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'CheckinConfig' });
export type CheckinConfig = z.output<typeof checkinConfigBody>;

export const checkinConfigResponse = z
  .object({ config: checkinConfigBody, updatedAt: z.iso.datetime().nullable() })
  .meta({ id: 'CheckinConfigView' });

const dayString = z.string().refine(isCalendarDay, 'a calendar date YYYY-MM-DD');
export const makeupBody = z.object({ day: dayString }).strict().meta({ id: 'MakeupCheckin' });

export const calendarQuery = z
  .object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month YYYY-MM').optional() })
  .strict();

const plan = z.object({
  run: z.number().int().meta({ description: 'the run of consecutive days this day is part of, once checked' }),
  cycleDay: z.number().int(),
  points: z.number().int(),
  growth: z.number().int(),
  milestones: z.array(z.object({ streak: z.number().int(), points: z.number().int(), growth: z.number().int() })),
});

const taskEffect = z.object({
  task: z.string(),
  progress: z.number().int(),
  target: z.number().int(),
  completed: z.boolean(),
  reward: z.object({ points: z.number().int(), growth: z.number().int(), badge: z.string().nullable() }).nullable(),
});

export const checkinResponse = z
  .object({
    day: z.string().meta({ description: "the member's calendar day checked" }),
    makeup: z.boolean(),
    streak: z.number().int().meta({ description: 'the current streak after this check-in' }),
    bestStreak: z.number().int(),
    reward: z.object({
      /** Everything paid: the cycle day's points plus any milestones'. */
      points: z.number().int(),
      growth: z.number().int(),
      cycleDay: z.number().int(),
      milestones: plan.shape.milestones,
    }),
    /** Points a make-up cost (0 for a check-in). */
    cost: z.number().int(),
    /** Points that earning rules on `member.checked_in` paid besides the check-in program. */
    ruleRewards: z.array(z.object({ rule: z.string(), points: z.number().int(), entryId: z.string() })),
    /** Tasks the check-in advanced (check-ins are `member.checked_in` events, PRODUCT.md §7). */
    tasks: z.array(taskEffect),
    tierChange: z.object({ from: z.string().nullable(), to: z.string() }).nullable(),
  })
  .meta({ id: 'CheckinResult' });

export const calendarResponse = z
  .object({
    month: z.string(),
    timezone: z.string(),
    today: z.string(),
    days: z.array(z.object({ day: z.string(), makeup: z.boolean() })),
    currentStreak: z.number().int(),
    bestStreak: z.number().int(),
    totalCheckins: z.number().int(),
    checkedInToday: z.boolean(),
    /** What checking in today pays (null once checked in). */
    next: plan.extend({ day: z.string() }).nullable(),
    /** What tomorrow pays, if today is (or gets) checked. */
    tomorrow: plan.extend({ day: z.string() }),
    makeup: z.object({ cost: z.number().int(), perMonth: z.number().int(), usedThisMonth: z.number().int(), remaining: z.number().int() }),
  })
  .meta({ id: 'CheckinCalendar' });
