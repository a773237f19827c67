import { z } from 'zod';
import '../../platform/openapi.js';
import { benefitCodeSchema } from '../benefits/index.js';
import { referralStates } from '../events/index.js';
import { deviceSchema, memberIdSchema } from '../members/index.js';
import { eventTypeSchema } from '../rules/index.js';

export { referralStates };
export type ReferralState = (typeof referralStates)[number];
const MAX_REWARD = 1_000_000;

/** Codes are shown upper case; a member may type them in any case. */
export const referralCodeSchema = z
  .string()
  .regex(/^[A-Za-z0-9]{4,16}$/, 'a referral code is 4–16 letters and digits')
  .transform((c) => c.toUpperCase());

const rewardSide = z
  .object({
    points: z.number().int().min(1).max(MAX_REWARD).optional(),
    /** A benefit from the catalogue, granted free (a voucher). */
    benefitCode: benefitCodeSchema.optional(),
  })
  .strict();

const defaultQualifying = { eventType: 'order.paid', minAmount: 0, withinDays: 30 };
const defaultFraud = { maxInviteesPerDevice: 1, maxBindsPerIpPerDay: 3 };

const programFields = z.object({
  /** An inactive program binds nobody; referrals already bound still qualify and pay under their own version. */
  active: z.boolean().default(true),
  /** The invitee's first event of this type, at least `minAmount` (its `amount` property), within `withinDays` of binding. */
  qualifying: z
    .object({
      eventType: eventTypeSchema.default('order.paid'),
      minAmount: z.number().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
      withinDays: z.number().int().min(1).max(365).default(30),
    })
    .strict()
    .default(defaultQualifying),
  rewards: z.object({ referrer: rewardSide.default({}), invitee: rewardSide.default({}) }).strict(),
  /** Invites paid without review per referrer per calendar month of the program's time zone (null: no cap). */
  monthlyCap: z.number().int().min(1).max(100_000).nullable().default(null),
  /** Bonuses for the referrer when its count of rewarded invites (kept past the hold period) reaches `count`. */
  milestones: z
    .array(z.object({ count: z.number().int().min(1).max(100_000), points: z.number().int().min(1).max(MAX_REWARD) }).strict())
    .max(20)
    .default([]),
  /** Days before referral points become spendable; a refund of the qualifying order before then reverses both rewards. */
  holdDays: z.number().int().min(0).max(365).default(14),
  /** Days after registering that a member may still bind a code (default REFERRAL_BIND_WINDOW_DAYS). */
  bindWindowDays: z.number().int().min(0).max(365).optional(),
  /** Above these, a referral goes to review instead of paying (docs/REFERRALS.md). */
  fraud: z
    .object({
      /** Invitees of one referrer on one device id. */
      maxInviteesPerDevice: z.number().int().min(1).max(1000).default(1),
      /** Binds from one IP in a day of the program's calendar, whoever the referrers. */
      maxBindsPerIpPerDay: z.number().int().min(1).max(100_000).default(3),
    })
    .strict()
    .default(defaultFraud),
});

export const programBody = programFields
  .strict()
  .superRefine((p, ctx) => {
    const pays = (s: { points?: number | undefined; benefitCode?: string | undefined }) => (s.points ?? 0) > 0 || s.benefitCode !== undefined;
    if (!pays(p.rewards.referrer) && !pays(p.rewards.invitee)) ctx.addIssue({ code: 'custom', path: ['rewards'], message: 'a program rewards at least one side' });
    const counts = p.milestones.map((m) => m.count);
    if (new Set(counts).size !== counts.length) ctx.addIssue({ code: 'custom', path: ['milestones'], message: 'two milestones at one count' });
  })
  .meta({ id: 'ReferralProgram' });
export type ProgramInput = z.infer<typeof programBody>;

export const programView = z
  .object({ version: z.number().int(), updatedAt: z.iso.datetime().nullable() })
  .extend(programFields.shape)
  .meta({ id: 'ReferralProgramView' });

export const bindBody = z
  .object({
    code: referralCodeSchema,
    /** The device binding now, if the app knows it; else the one the member registered from. */
    device: deviceSchema.optional(),
  })
  .strict()
  .meta({ id: 'ReferralBind' });

const sideView = z.object({ points: z.number().int(), benefitCode: z.string().nullable() });

export const referralView = z
  .object({
    invitee: z.string(),
    referrer: z.string(),
    code: z.string(),
    via: z.enum(['registration', 'bind']),
    state: z.enum(referralStates),
    boundAt: z.iso.datetime(),
    /** The qualifying event must happen before this. */
    qualifyBy: z.iso.datetime(),
    qualifiedAt: z.iso.datetime().nullable(),
    orderId: z.string().nullable(),
    reviewReasons: z.array(z.string()),
    decision: z.object({ outcome: z.enum(['approved', 'rejected']), note: z.string().nullable(), by: z.string(), at: z.iso.datetime() }).nullable(),
    rewards: z.object({ referrer: sideView, invitee: sideView, availableAt: z.iso.datetime() }).nullable(),
    programVersion: z.number().int(),
  })
  .meta({ id: 'Referral' });
export type ReferralView = z.infer<typeof referralView>;

export const memberReferralView = z
  .object({
    code: z.string(),
    shareLink: z.string(),
    invitedCount: z.number().int(),
    /** Newest first; names masked for members. `memberId` only for the backend and ops. */
    invitees: z.array(z.object({ name: z.string(), state: z.enum(referralStates), boundAt: z.iso.datetime(), memberId: z.string().optional() })),
    nextCursor: z.string().nullable(),
    /** Invites rewarded and kept past their hold period, and the referral points they (and milestones) paid. */
    rewards: z.object({ points: z.number().int(), count: z.number().int() }),
    /** This member's own referral, as an invitee. */
    referredBy: z.object({ state: z.enum(referralStates), boundAt: z.iso.datetime() }).nullable(),
  })
  .meta({ id: 'MemberReferral' });
export type MemberReferralView = z.infer<typeof memberReferralView>;

const limit = z.coerce.number().int().min(1).max(100).default(20);
const cursor = z.string().max(200).optional();
export const pageQuery = z.object({ limit, cursor }).strict();
export const listQuery = z.object({ limit, cursor, state: z.enum(referralStates).optional(), referrer: memberIdSchema.optional() }).strict();
export const inviteeParams = z.object({ id: memberIdSchema }).strict();
export const memberParams = z.object({ memberId: memberIdSchema }).strict();
export const decisionBody = z
  .object({ note: z.string().trim().min(1).max(500).optional() })
  .strict()
  .default({})
  .meta({ id: 'ReferralDecision' });
