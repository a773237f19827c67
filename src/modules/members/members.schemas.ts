import { z } from 'zod';
import '../../platform/openapi.js';
import { isTimeZone } from '../../platform/time.js';

const daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export const memberIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits and _ . : - only')
  .meta({ example: 'm-10001' });

export const timezoneSchema = z.string().max(64).refine(isTimeZone, 'not an IANA time zone').meta({ example: 'Asia/Shanghai' });

export const birthdaySchema = z
  .string()
  .regex(/^\d{2}-\d{2}$/, 'use MM-DD')
  .refine((v) => {
    const [m, d] = v.split('-').map(Number) as [number, number];
    return m >= 1 && m <= 12 && d >= 1 && d <= (daysInMonth[m - 1] ?? 0);
  }, 'not a calendar day')
  .meta({ example: '07-14' });

export const displayNameSchema = z.string().trim().min(1).max(80);
export const memberStatusSchema = z.enum(['active', 'frozen']);

/** Where a request came from, as the backend or the app reports it; stored only as keyed hashes (referral guards). */
export const deviceSchema = z
  .object({ id: z.string().min(1).max(128).optional(), ip: z.union([z.ipv4(), z.ipv6()]).optional() })
  .strict()
  .meta({ id: 'Device' });

export const createMemberBody = z
  .object({
    memberId: memberIdSchema,
    displayName: displayNameSchema.optional(),
    birthday: birthdaySchema.optional(),
    timezone: timezoneSchema.optional(),
    /** An invite code to bind the new member to its referrer (docs/REFERRALS.md); a code that cannot bind does not stop the registration. */
    referralCode: z.string().regex(/^[A-Za-z0-9]{4,16}$/, 'a referral code is 4–16 letters and digits').optional(),
    /** The device the member registered from: only keyed hashes of it are stored, for the referral fraud guards. */
    device: deviceSchema.optional(),
  })
  .strict()
  .meta({ id: 'CreateMember' });
export type CreateMemberInput = z.infer<typeof createMemberBody>;

export const updateMemberBody = z
  .object({
    displayName: displayNameSchema.optional(),
    timezone: timezoneSchema.optional(),
    birthday: birthdaySchema.optional(),
    status: memberStatusSchema.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change')
  .meta({ id: 'UpdateMember' });
export type UpdateMemberInput = z.infer<typeof updateMemberBody>;

export const memberParams = z.object({ memberId: memberIdSchema }).strict();

export const memberView = z
  .object({
    memberId: z.string(),
    displayName: z.string().nullable(),
    birthday: z.string().nullable(),
    timezone: z.string(),
    status: memberStatusSchema,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Member' });
export type MemberView = z.infer<typeof memberView>;

/** The member summary; each later module (points, tier, growth, check-in, referral, badges) adds its part. */
export const memberSummary = z.record(z.string(), z.unknown()).meta({ id: 'MemberSummary' });

export const memberResponse = z.object({ member: memberView }).meta({ id: 'MemberResponse' });

/** What became of the `referralCode` sent at registration: bound, or why not (the member can still bind it later). */
export const registrationReferral = z
  .object({
    code: z.string(),
    bound: z.boolean(),
    refusal: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ id: 'RegistrationReferral' });
export type RegistrationReferral = z.infer<typeof registrationReferral>;
export const registrationResponse = z.object({ member: memberView, referral: registrationReferral.optional() }).meta({ id: 'RegistrationResponse' });
export type RegistrationAnswer = { referral?: RegistrationReferral };
export const memberWithSummaryResponse = z.object({ member: memberView, summary: memberSummary }).meta({ id: 'MemberWithSummary' });
