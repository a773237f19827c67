import { z } from 'zod';
import '../../platform/openapi.js';

/**
 * Words that name a route under /v1/admin/earning-rules/ (POST .../dry-run): a rule with one as its code would share
 * its path with that route. A new sub-route adds its word here.
 */
export const reservedRuleCodes: readonly string[] = ['dry-run'];

export const ruleCodeSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{1,47}$/, 'lowercase letters, digits, _ and -, 2–48 characters')
  .refine((code) => !reservedRuleCodes.includes(code), { message: `reserved for a route: ${reservedRuleCodes.join(', ')}` });
export const eventTypeSchema = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'dotted lowercase, e.g. order.paid').max(64);
const propertyName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'a property name');
const tierCode = z.string().regex(/^[A-Z][A-Z0-9_]{0,19}$/, 'an upper-case tier code');

/** Fixed points, or points per unit of a numeric event property, rounded down. */
export const formulaSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), amount: z.number().int().min(0).max(1_000_000) }).strict(),
  z
    .object({
      kind: z.literal('per-unit'),
      property: propertyName,
      /** Size of one unit of the property (e.g. 1 yuan, or 10 for "per 10 yuan"). */
      unit: z.number().positive().max(1_000_000),
      /** Points per unit. */
      points: z.number().int().min(0).max(1_000_000),
      /** Cap on what one event can earn through this formula. */
      max: z.number().int().positive().max(100_000_000).optional(),
    })
    .strict(),
]);
export type Formula = z.infer<typeof formulaSchema>;

export const conditionsSchema = z
  .object({
    /** The numeric property tested by minAmount (default `amount`). */
    amountProperty: propertyName.optional(),
    minAmount: z.number().min(0).optional(),
    categories: z.array(z.string().min(1).max(64)).min(1).max(100).optional(),
    /** ISO weekdays in the program's time zone: 1 = Monday … 7 = Sunday. */
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
    /** Days of the month (1–31), e.g. [8, 18, 28] for a member day. */
    monthDays: z.array(z.number().int().min(1).max(31)).min(1).max(31).optional(),
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
    tiers: z.array(tierCode).min(1).max(20).optional(),
    /** Fires only in the member's birthday month (in the member's time zone). */
    birthdayMonth: z.boolean().optional(),
  })
  .strict();
export type Conditions = z.infer<typeof conditionsSchema>;

export const ruleBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    eventType: eventTypeSchema,
    points: formulaSchema.optional(),
    growth: formulaSchema.optional(),
    conditions: conditionsSchema.default({}),
    /** Multiplier of the points per tier (e.g. {"GOLD": 1.5}); a tier not listed uses its ladder earnMultiplier. */
    tierMultipliers: z.record(tierCode, z.number().min(0).max(100)).optional(),
    caps: z
      .object({
        perDay: z.number().int().min(1).max(1000).optional(),
        perMonth: z.number().int().min(1).max(10_000).optional(),
      })
      .strict()
      .default({}),
    active: z.boolean().default(true),
    /**
     * Days after the event's time before the points this rule pays become spendable (a return window): pending until
     * then, shown in the balance. Growth is never pending.
     */
    pendingDays: z.number().int().min(0).max(365).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.points && !r.growth) ctx.addIssue({ code: 'custom', path: ['points'], message: 'a rule pays points, growth or both' });
    if (r.pendingDays && !r.points) ctx.addIssue({ code: 'custom', path: ['pendingDays'], message: 'only points are ever pending, and this rule pays none' });
    const c = r.conditions;
    if (c.from && c.to && Date.parse(c.from) >= Date.parse(c.to)) {
      ctx.addIssue({ code: 'custom', path: ['conditions', 'to'], message: 'the window ends before it starts' });
    }
    if (r.caps.perDay && r.caps.perMonth && r.caps.perDay > r.caps.perMonth) {
      ctx.addIssue({ code: 'custom', path: ['caps', 'perDay'], message: 'a daily cap above the monthly cap can never be reached' });
    }
    if (c.weekdays && new Set(c.weekdays).size !== c.weekdays.length) {
      ctx.addIssue({ code: 'custom', path: ['conditions', 'weekdays'], message: 'a weekday is listed twice' });
    }
    if (c.tiers && r.tierMultipliers) {
      for (const t of Object.keys(r.tierMultipliers)) {
        if (!c.tiers.includes(t)) ctx.addIssue({ code: 'custom', path: ['tierMultipliers', t], message: `tier ${t} is excluded by conditions.tiers` });
      }
    }
  })
  .meta({ id: 'EarningRule' });
export type RuleInput = z.infer<typeof ruleBody>;

