import { z } from 'zod';
import '../../platform/openapi.js';
import { limitPeriods } from './periods.js';

/** Benefit codes read like the other codes ops choose (earning rules, tasks): 2–48 lowercase characters. */
const codePattern = /^[a-z0-9][a-z0-9_-]{1,47}$/;
export const benefitCodeSchema = z.string().regex(codePattern, 'lowercase letters, digits, _ and -, 2–48 characters');
/** Tier codes as the tier ladder spells them. */
const tierCode = z.string().regex(/^[A-Z][A-Z0-9_]{0,19}$/, 'an upper-case tier code');

export const benefitKinds = ['coupon', 'gift', 'privilege', 'voucher'] as const;

/**
 * Why a member cannot redeem a benefit now, in the order the redemption reports them (its error is the first):
 * MEMBER_FROZEN is ours, as a frozen member can neither earn nor spend (PRODUCT.md §3); the others are §8's.
 */
export const eligibilityReasons = ['MEMBER_FROZEN', 'TIER_NOT_ELIGIBLE', 'NOT_IN_WINDOW', 'OUT_OF_STOCK', 'LIMIT_REACHED', 'INSUFFICIENT_POINTS'] as const;
export type EligibilityReason = (typeof eligibilityReasons)[number];

const perMemberLimit = z
  .object({
    count: z.number().int().min(1).max(1000),
    /** Counted in the member's own calendar (periods.ts). */
    period: z.enum(limitPeriods),
  })
  .strict();

/**
 * The body of `PUT /v1/admin/benefits/:code`. `max` is MAX_POINTS_AMOUNT: a benefit cannot cost more than the ledger
 * can move in one command.
 */
export const benefitBody = (max: number) =>
  z
    .object({
      name: z.string().trim().min(1).max(80),
      description: z.string().max(500).optional(),
      kind: z.enum(benefitKinds),
      /** Points per unit; 0 is a free privilege. */
      costPoints: z.number().int().min(0).max(max),
      /** Tier codes that may redeem it; absent means every member, with a tier or without. */
      tiers: z.array(tierCode).min(1).max(20).optional(),
      /** Units in stock; null is unlimited. */
      stock: z.number().int().min(0).max(1_000_000_000).nullable(),
      perMemberLimit: perMemberLimit.optional(),
      validFrom: z.iso.datetime().optional(),
      validTo: z.iso.datetime().optional(),
      /** Days an issued voucher stays usable; absent means it does not expire. */
      voucherValidDays: z.number().int().min(1).max(3650).optional(),
      active: z.boolean(),
    })
    .strict()
    .superRefine((b, ctx) => {
      if (b.validFrom && b.validTo && Date.parse(b.validTo) <= Date.parse(b.validFrom)) {
        ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'the window ends before it starts' });
      }
      if (b.tiers && new Set(b.tiers).size !== b.tiers.length) {
        ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'a tier is listed twice' });
      }
    })
    .meta({ id: 'Benefit' });
export type BenefitInput = z.infer<ReturnType<typeof benefitBody>>;

export const benefitParams = z.object({ code: benefitCodeSchema }).strict();

/** Opaque to callers; here, the last code of the previous page. */
export const encodeCursor = (code: string) => Buffer.from(code).toString('base64url');
const cursorSchema = z
  .string()
  .max(100)
  .transform((cursor, ctx) => {
    const code = Buffer.from(cursor, 'base64url').toString();
    if (codePattern.test(code)) return code;
    ctx.addIssue({ code: 'custom', message: 'not a cursor from this list' });
    return z.NEVER;
  })
  .meta({ description: 'the nextCursor of the previous page' });

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: cursorSchema.optional(),
  })
  .strict();

const benefitFields = {
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  kind: z.enum(benefitKinds),
  costPoints: z.number().int(),
  tiers: z.array(z.string()).nullable(),
  perMemberLimit: perMemberLimit.nullable(),
  validFrom: z.iso.datetime().nullable(),
  validTo: z.iso.datetime().nullable(),
  voucherValidDays: z.number().int().nullable(),
};

/** What ops read: the definition as saved, with its version. */
export const benefitView = z
  .object({
    ...benefitFields,
    stock: z.number().int().nullable(),
    active: z.boolean(),
    /** 1 on creation, one more on every save. */
    version: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'BenefitView' });
export type BenefitView = z.infer<typeof benefitView>;

/** What a member reads: an active benefit and whether they can redeem one unit of it now, and if not, every reason. */
export const memberBenefitView = z
  .object({
    ...benefitFields,
    eligible: z.boolean(),
    reasons: z.array(z.enum(eligibilityReasons)),
    /** Units left; null is unlimited. */
    stockLeft: z.number().int().nullable(),
    /** Units the member may still redeem in the current period; null without a per-member limit. */
    limitLeft: z.number().int().nullable(),
    /** When the current period of the member's limit ends (their local midnight); null without a limit or for a lifetime one. */
    limitResetsAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'MemberBenefit' });
export type MemberBenefitView = z.infer<typeof memberBenefitView>;

/** What ops' routes answer: the definition and the units left now (the stock chains' sum; null is unlimited). */
export const adminBenefitView = benefitView.extend({ stockLeft: z.number().int().nullable() }).meta({ id: 'AdminBenefitView' });
export type AdminBenefitView = z.infer<typeof adminBenefitView>;

export const benefitResponse = z.object({ benefit: adminBenefitView }).meta({ id: 'BenefitResponse' });
export const benefitPage = z.object({ items: z.array(adminBenefitView), nextCursor: z.string().nullable() }).meta({ id: 'BenefitPage' });
export const memberBenefitPage = z.object({ items: z.array(memberBenefitView), nextCursor: z.string().nullable() }).meta({ id: 'MemberBenefitPage' });

/** The body of a redemption (`POST /v1/me/redemptions`, `POST /v1/members/:memberId/redemptions`). */
export const redemptionBody = z
  .object({
    benefitCode: benefitCodeSchema,
    quantity: z.number().int().min(1).max(10).default(1),
  })
  .strict()
  .meta({ id: 'RedeemBenefit' });
export type RedemptionInput = z.infer<typeof redemptionBody>;

/**
 * A redemption's life: pending while the saga runs; issued (a voucher, if the kind has one); then used, cancelled
 * (points and stock given back) or expired (unused past expiresAt); failed when a step refused and what was taken was given back.
 */
export const redemptionStatuses = ['pending', 'issued', 'used', 'cancelled', 'expired', 'failed'] as const;
export type RedemptionStatus = (typeof redemptionStatuses)[number];

export const redemptionView = z
  .object({
    id: z.string(),
    benefitCode: z.string(),
    memberId: z.string(),
    quantity: z.number().int(),
    status: z.enum(redemptionStatuses),
    voucherCode: z.string().nullable(),
    /** When an unused voucher expires; null when it does not. */
    expiresAt: z.iso.datetime().nullable(),
    pointsSpent: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    usedAt: z.iso.datetime().nullable(),
    cancelledAt: z.iso.datetime().nullable(),
    /** Why a failed redemption failed (the error code it answered with); null otherwise. */
    failure: z.string().nullable(),
  })
  .meta({ id: 'Redemption' });
export type RedemptionView = z.infer<typeof redemptionView>;
export const redemptionResponse = z.object({ redemption: redemptionView }).meta({ id: 'RedemptionResponse' });
