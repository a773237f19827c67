import { z } from 'zod';
import '../../platform/openapi.js';
import { memberIdSchema } from '../members/index.js';
import { eventTypeSchema, ruleBody, ruleCodeSchema } from '../rules/index.js';

/**
 * A numeric property is finite and within ±(2^53 − 1): beyond that a number is no longer exact, and formulas multiply
 * it into points (what they pay is bounded again by MAX_POINTS_AMOUNT when the event is decided).
 */
const propertyNumber = z.number().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
/** Event properties are a flat bag of scalars (and lists of scalars): nothing nested, nothing that looks like an operator. */
const propertyValue = z.union([
  z.string().max(256),
  propertyNumber,
  z.boolean(),
  z.null(),
  z.array(z.union([z.string().max(256), propertyNumber])).max(50),
]);

export const eventBody = z
  .object({
    eventId: z.string().regex(/^[\x21-\x7e]{1,128}$/, '1–128 printable characters without spaces'),
    memberId: memberIdSchema,
    type: eventTypeSchema,
    occurredAt: z.iso.datetime({ offset: true }),
    properties: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'a property name'), propertyValue).refine((p) => Object.keys(p).length <= 50, 'at most 50 properties').default({}),
  })
  .strict()
  .superRefine((e, ctx) => {
    const p = e.properties;
    if (e.type === 'order.paid' || e.type === 'order.refunded') {
      if (typeof p.orderId !== 'string' || p.orderId.length === 0) ctx.addIssue({ code: 'custom', path: ['properties', 'orderId'], message: `${e.type} needs a string orderId` });
      if (typeof p.amount !== 'number' || p.amount <= 0) ctx.addIssue({ code: 'custom', path: ['properties', 'amount'], message: `${e.type} needs a positive amount` });
    }
  })
  .meta({ id: 'Event' });
export type EventInput = z.infer<typeof eventBody>;

export const dryRunBody = z
  .object({
    event: eventBody,
    /** An unsaved rule to try (the console's editor): it replaces the saved rule of its code for this dry run only. */
    draft: z.object({ code: ruleCodeSchema, rule: ruleBody }).strict().optional(),
  })
  .strict()
  .meta({ id: 'DryRun' });

/** A referral's states (docs/REFERRALS.md); defined here because an event's answer reports them. */
export const referralStates = ['bound', 'qualified', 'review', 'rewarded', 'rejected', 'reversed', 'expired'] as const;
const referralSide = z.object({ points: z.number().int(), benefitCode: z.string().nullable() });
/** What an event did to the member's referral (as its invitee). */
const referralEffect = z.object({
  invitee: z.string(),
  referrer: z.string(),
  /** `qualified`: this event is the referral's qualifying event; `not-qualified`: it is of the qualifying type but does not qualify (`reason`); `reversed`, `rejected`, `kept`: what a refund of the qualifying order did. */
  outcome: z.enum(['qualified', 'not-qualified', 'reversed', 'rejected', 'kept']),
  reason: z.string().nullable(),
  /** The referral's state after the event. */
  state: z.enum(referralStates),
  /** Why the referral waits for ops instead of paying (fraud guards, the monthly cap). */
  reviewReasons: z.array(z.string()),
  /** What the qualification paid (or the reversal took back) on each side; points become spendable at `availableAt`. */
  rewards: z.object({ referrer: referralSide, invitee: referralSide, availableAt: z.iso.datetime() }).nullable(),
  /** Milestone bonuses the referrer reached with this referral. */
  milestones: z.array(z.object({ count: z.number().int(), points: z.number().int() })),
});
export type ReferralEffect = z.infer<typeof referralEffect>;

const effects = z.object({
  /** `availableAt`: set when the entry's points are pending until then (the latest window of the rules that paid). */
  points: z.array(z.object({ rule: z.string(), points: z.number().int(), entryId: z.string(), availableAt: z.iso.datetime().optional() })),
  growth: z.array(z.object({ rule: z.string(), growth: z.number().int(), entryId: z.string() })),
  notFired: z.array(z.object({ rule: z.string(), reason: z.string() })),
  reversed: z.array(z.object({ ledger: z.enum(['points', 'growth']), entryId: z.string(), reversalId: z.string(), amount: z.number().int() })),
  /** Every task the event advanced; `reward` is set only on the event that completed the task and paid it. */
  tasks: z.array(
    z.object({
      task: z.string(),
      progress: z.number().int(),
      target: z.number().int(),
      completed: z.boolean(),
      reward: z.object({ points: z.number().int(), growth: z.number().int(), badge: z.string().nullable() }).nullable(),
    }),
  ),
  /** What the event did to the member's referral (PRODUCT.md §9). */
  referral: z.array(referralEffect),
  /** The tier change the growth caused (threshold mode upgrades at once). */
  tierChange: z.object({ from: z.string().nullable(), to: z.string() }).nullable(),
});
export type Effects = z.infer<typeof effects>;
export type TaskEffect = Effects['tasks'][number];

export const eventResponse = z
  .object({ event: z.object({ eventId: z.string(), memberId: z.string(), type: z.string(), occurredAt: z.string() }), effects })
  .meta({ id: 'EventResult' });

export const dryRunResponse = z
  .object({
    evaluations: z.array(
      z.object({
        rule: z.string(),
        fired: z.boolean(),
        reason: z.string().optional(),
        points: z.number().int().optional(),
        growth: z.number().int().optional(),
        multiplier: z.number().optional(),
        pendingDays: z.number().int().optional(),
      }),
    ),
    totalPoints: z.number().int(),
    totalGrowth: z.number().int(),
  })
  .meta({ id: 'DryRunResult' });
