import { z } from 'zod';
import '../../platform/openapi.js';
import { memberIdSchema } from '../members/index.js';
import type { EntryDoc } from './ledger.model.js';
import { settledAt, spendable, type AccountState } from './ledger.state.js';

/** Why points moved (a TigerBeetle-style code on every entry). */
export const entryCodes = [
  'order', 'order_refund', 'registration', 'checkin', 'checkin_makeup', 'task', 'badge', 'referral', 'review', 'share',
  'birthday', 'promotion', 'redemption', 'redemption_refund', 'goodwill', 'correction', 'migration', 'expiry',
  'hold_timeout', 'adjustment', 'other',
] as const;
export const entryCodeSchema = z.enum(entryCodes);
export const entryKinds = ['earn', 'spend', 'hold', 'capture', 'release', 'expire', 'reverse', 'adjust'] as const;

/** Points are positive integers up to the configured maximum (MAX_POINTS_AMOUNT). */
export const pointsSchema = (max: number) => z.number().int().positive().max(max);

const refSchema = z
  .object({ type: z.string().min(1).max(40).regex(/^[a-z][a-z0-9_.-]*$/), id: z.string().min(1).max(128) })
  .strict()
  .meta({ id: 'Ref', description: 'What the entry is about, e.g. {type: "order", id: "SO-1001"}' });

export const memberPointsParams = z.object({ memberId: memberIdSchema }).strict();
const entryIdSchema = z.string().min(14).max(80).regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*:\d{12}$/, 'not an entry id');
export const holdParams = z.object({ holdId: entryIdSchema }).strict();
export const entryParams = z.object({ entryId: entryIdSchema }).strict();

export const earnBody = (max: number) =>
  z
    .object({
      amount: pointsSchema(max),
      code: entryCodeSchema,
      ref: refSchema.optional(),
      expiresAt: z.iso.datetime().optional(),
      availableAt: z.iso
        .datetime()
        .optional()
        .meta({ description: 'pending until then: in the balance, not spendable; in the future, at most 366 days ahead' }),
    })
    .strict()
    .refine((b) => !b.expiresAt || !b.availableAt || Date.parse(b.expiresAt) > Date.parse(b.availableAt), {
      path: ['expiresAt'],
      message: 'must be after availableAt: points never expire before they are available',
    })
    .meta({ id: 'EarnPoints' });
export const spendBody = (max: number) =>
  z.object({ amount: pointsSchema(max), code: entryCodeSchema, ref: refSchema.optional() }).strict().meta({ id: 'SpendPoints' });
export const holdBody = (max: number) =>
  z
    .object({
      amount: pointsSchema(max),
      code: entryCodeSchema,
      ref: refSchema.optional(),
      ttlSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
    })
    .strict()
    .meta({ id: 'HoldPoints' });
export const captureBody = (max: number) =>
  z
    .object({ amount: pointsSchema(max).optional() })
    .strict()
    .default({})
    .meta({ id: 'CaptureHold', description: 'Optional: without a body (or without amount) the whole hold is captured.' });
export const reverseBody = (max: number) =>
  z.object({ amount: pointsSchema(max).optional(), code: entryCodeSchema }).strict().meta({ id: 'ReverseEntry' });
export const adjustBody = (max: number) =>
  z
    .object({
      delta: z.number().int().min(-max).max(max).refine((d) => d !== 0, 'delta cannot be 0'),
      reason: z.string().trim().min(3).max(500),
      code: entryCodeSchema.default('adjustment'),
    })
    .strict()
    .meta({ id: 'AdjustPoints' });

export const historyQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().regex(/^[0-9a-z]{1,12}$/, 'not a cursor').optional(),
    kind: z
      .string()
      .transform((v) => v.split(','))
      .pipe(z.array(z.enum(entryKinds)).min(1))
      .optional()
      .meta({ description: 'comma-separated kinds, e.g. earn,spend' }),
  })
  .strict();

const lotPart = z.object({ lot: z.string(), amount: z.number().int() });
export const entryView = z
  .object({
    id: z.string(),
    memberId: z.string(),
    seq: z.number().int(),
    kind: z.enum(entryKinds),
    amount: z.number().int().meta({ description: 'signed effect on available + held' }),
    points: z.number().int().meta({ description: 'the gross points moved' }),
    code: z.string(),
    ref: refSchema.nullable(),
    holdId: z.string().nullable(),
    reverses: z.string().nullable(),
    lots: z.array(lotPart),
    expired: z.number().int(),
    expiresAt: z.iso.datetime().nullable(),
    availableAt: z.iso.datetime().nullable().meta({ description: 'of an earn into pending points: when they become available' }),
    createdAt: z.iso.datetime(),
    balanceAfter: z.object({ available: z.number().int(), held: z.number().int(), pending: z.number().int() }),
  })
  .meta({ id: 'LedgerEntry' });

export const balanceView = z
  .object({
    memberId: z.string(),
    available: z.number().int().meta({ description: 'spendable now (negative while a debt is open)' }),
    held: z.number().int(),
    pending: z.number().int().meta({ description: 'in the balance but not spendable yet (a return window, a hold period)' }),
    becomingAvailable: z
      .array(z.object({ availableAt: z.iso.datetime(), points: z.number().int() }))
      .meta({ description: 'pending points by when they become available, soonest first (at most 12)' }),
    debt: z.number().int(),
    expiringIn30Days: z.number().int(),
    expiring: z
      .array(z.object({ expiresAt: z.iso.datetime(), points: z.number().int() }))
      .meta({ description: 'points not spent yet by when they expire, soonest first (at most 12), pending points included' }),
    lifetime: z.object({ earned: z.number().int(), spent: z.number().int(), expired: z.number().int(), reversed: z.number().int(), adjusted: z.number().int() }),
    seq: z.number().int(),
  })
  .meta({ id: 'PointsBalance' });

export const holdView = z
  .object({
    id: z.string(),
    memberId: z.string(),
    amount: z.number().int(),
    status: z.enum(['active', 'captured', 'released']),
    captured: z.number().int(),
    expiresAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'PointsHold' });

export const entryResponse = z.object({ entry: entryView, balance: balanceView }).meta({ id: 'EntryWithBalance' });
export const holdResponse = z.object({ hold: holdView, entry: entryView, balance: balanceView }).meta({ id: 'HoldWithBalance' });
export const historyResponse = z.object({ items: z.array(entryView), nextCursor: z.string().nullable() }).meta({ id: 'EntryPage' });

export const toEntryView = (e: EntryDoc): z.infer<typeof entryView> => ({
  id: e._id,
  memberId: e.memberId,
  seq: e.seq,
  kind: e.kind,
  amount: e.amount,
  points: e.points,
  code: e.code,
  ref: e.ref,
  holdId: e.holdId,
  reverses: e.reverses,
  lots: e.lots,
  expired: e.expired,
  expiresAt: e.expiresAt ? e.expiresAt.toISOString() : null,
  availableAt: e.availableAt ? e.availableAt.toISOString() : null,
  createdAt: e.createdAt.toISOString(),
  balanceAfter: { available: e.state.available, held: e.state.held, pending: e.state.pending ?? 0 },
});

const DAY = 86_400_000;
/** Sums points by an instant, soonest first (lots of one expiry may be available and pending at once). */
function byInstant(items: Array<{ at: Date; points: number }>): Array<{ at: string; points: number }> {
  const sums = new Map<number, number>();
  for (const { at, points } of items) sums.set(at.getTime(), (sums.get(at.getTime()) ?? 0) + points);
  return [...sums].sort(([a], [b]) => a - b).map(([at, points]) => ({ at: new Date(at).toISOString(), points }));
}

/** The balance as of `now`: holds past their time released, pending points whose time has come available. */
export function toBalanceView(memberId: string, seq: number, head: AccountState, now: Date): z.infer<typeof balanceView> {
  const s = settledAt(head, now);
  const upcoming = byInstant(
    s.lots.filter((l) => l.expiresAt && l.expiresAt.getTime() > now.getTime() && l.remaining > l.held).map((l) => ({ at: l.expiresAt as Date, points: l.remaining - l.held })),
  );
  const becoming = byInstant(s.lots.filter((l) => l.availableAt).map((l) => ({ at: l.availableAt as Date, points: l.remaining })));
  return {
    memberId,
    available: spendable(s, now),
    held: s.held,
    pending: s.pending ?? 0,
    becomingAvailable: becoming.slice(0, 12).map((b) => ({ availableAt: b.at, points: b.points })),
    debt: s.debt,
    expiringIn30Days: upcoming.filter((l) => Date.parse(l.at) <= now.getTime() + 30 * DAY).reduce((sum, l) => sum + l.points, 0),
    expiring: upcoming.slice(0, 12).map((u) => ({ expiresAt: u.at, points: u.points })),
    lifetime: s.totals,
    seq,
  };
}

/** Cursors are opaque to callers; here, the seq to read before, in base 36. */
export const encodeCursor = (beforeSeq: number) => beforeSeq.toString(36);
export const decodeCursor = (cursor: string) => parseInt(cursor, 36);
