import { z } from 'zod';
import '../../platform/openapi.js';
import { memberIdSchema } from '../members/index.js';

export const tierCodeSchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,19}$/, 'an upper-case tier code');

const tierSchema = z
  .object({
    code: tierCodeSchema,
    name: z.string().trim().min(1).max(60),
    /** Growth in the window that reaches this tier. */
    threshold: z.number().int().min(0),
    /** Growth in the window needed to keep the tier at period end (default: the threshold). */
    keepThreshold: z.number().int().min(0).optional(),
    earnMultiplier: z.number().min(0).max(100).default(1),
    benefitCodes: z.array(z.string().min(1).max(48)).max(50).default([]),
    /** A benefit granted once to each member who reaches this tier (a welcome gift). */
    welcomeBenefit: z.string().min(1).max(48).optional(),
  })
  .strict();

export const ladderBody = z
  .object({
    tiers: z.array(tierSchema).min(1).max(20),
    policy: z
      .object({
        mode: z.enum(['threshold', 'percentile']).default('threshold'),
        window: z.enum(['rolling-365d', 'calendar-year']).default('rolling-365d'),
        /** Days a member keeps a tier after falling below its keep-threshold at period end. */
        graceDays: z.number().int().min(0).max(365).default(0),
        /** Percentile mode: share of ranked members per tier, top tier first, adding up to 100. */
        buckets: z.array(z.object({ tier: tierCodeSchema, percent: z.number().positive().max(100) }).strict()).optional(),
      })
      .strict()
      .default({ mode: 'threshold', window: 'rolling-365d', graceDays: 0 }),
  })
  .strict()
  .superRefine((l, ctx) => {
    const codes = l.tiers.map((t) => t.code);
    if (new Set(codes).size !== codes.length) ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'tier codes must be unique' });
    if (l.tiers[0]?.threshold !== 0) ctx.addIssue({ code: 'custom', path: ['tiers', 0, 'threshold'], message: 'the first (base) tier starts at 0' });
    l.tiers.forEach((t, i) => {
      const prev = l.tiers[i - 1];
      if (prev && t.threshold <= prev.threshold) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'threshold'], message: 'thresholds must increase up the ladder' });
      if (t.keepThreshold !== undefined && t.keepThreshold > t.threshold) {
        ctx.addIssue({ code: 'custom', path: ['tiers', i, 'keepThreshold'], message: 'keeping a tier cannot need more than reaching it' });
      }
    });
    if (l.policy.mode === 'percentile') {
      const b = l.policy.buckets;
      if (!b) ctx.addIssue({ code: 'custom', path: ['policy', 'buckets'], message: 'percentile mode needs buckets' });
      else {
        if (Math.abs(b.reduce((s, x) => s + x.percent, 0) - 100) > 1e-9) ctx.addIssue({ code: 'custom', path: ['policy', 'buckets'], message: 'bucket percentages must add up to 100' });
        const top = [...codes].reverse();
        if (b.length !== codes.length || b.some((x, i) => x.tier !== top[i])) {
          ctx.addIssue({ code: 'custom', path: ['policy', 'buckets'], message: 'one bucket per tier, top tier first' });
        }
      }
    }
  })
  .meta({ id: 'TierLadder' });
export type LadderInput = z.infer<typeof ladderBody>;

export const ladderView = z
  .object({ version: z.number().int(), tiers: z.array(z.record(z.string(), z.unknown())), policy: z.record(z.string(), z.unknown()), updatedAt: z.iso.datetime() })
  .meta({ id: 'TierLadderView' });

export const tierChangeView = z
  .object({ seq: z.number().int(), from: z.string().nullable(), to: z.string(), reason: z.string(), growth: z.number().int(), at: z.iso.datetime(), validUntil: z.iso.datetime().nullable() })
  .meta({ id: 'TierChange' });

export const memberParams = z.object({ memberId: memberIdSchema }).strict();
