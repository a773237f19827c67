import { cachedFor } from '../../platform/cache.js';
import { KeyedQueue } from '../../platform/keyed-queue.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, conflict, notFound, validationFailed } from '../../platform/errors.js';
import type { Caller } from '../../platform/http/route.js';
import type { AuditTrail } from '../audit/index.js';
import { spendable, type LedgerService } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { Benefit, BenefitsRepository } from './benefits.model.js';
import type { BenefitInput, BenefitView, EligibilityReason, MemberBenefitView } from './benefits.schemas.js';
import { periodEnd, periodKey } from './periods.js';

/** How long an instance serves the catalogue from memory (a save on this instance applies at once). */
const CACHE_MS = 2000;
/** Saves racing for the next version: each loser re-reads and tries the one after. */
const SAVE_ATTEMPTS = 10;

/** How much of a benefit is left, kept by the stock and limit chains (another engineer's part of issue 12). */
export type Availability = {
  /** Units left; null is unlimited. */
  stockLeft(code: string): Promise<number | null>;
  /** Units the member has taken in the limit period `periodKey` (periods.ts). */
  limitUsed(memberId: string, code: string, periodKey: string): Promise<number>;
};

export type BenefitsDeps = {
  repo: BenefitsRepository;
  clock: Clock;
  audit: AuditTrail;
  /** The member's time zone (limit periods) and status (a frozen member cannot spend). */
  members: Pick<MembersService, 'getMember'>;
  /** The member's available points. */
  points: Pick<LedgerService, 'getBalance'>;
  /** The member's tier code; null without a tier (or without a ladder). */
  tierOf: (memberId: string) => Promise<string | null>;
  /** The benefit codes the member's tier makes free privileges (the tier's `benefitCodes`). */
  privilegesOf: (memberId: string) => Promise<string[]>;
  availability: Availability;
  /**
   * Brings a benefit's stock to `units` in all (initial plus restocks and corrections; null: unlimited), as a save of
   * version `version` asks, before that save lands. Errors: 409 when the stock cannot go that low.
   */
  setStock: (code: string, units: number | null, version: number) => Promise<void>;
  /** MAX_POINTS_AMOUNT: the most one redemption may cost. */
  maxPointsAmount: number;
};

/** Whether a member can redeem `quantity` units now, and every reason why not. */
export type Eligibility = {
  eligible: boolean;
  reasons: EligibilityReason[];
  stockLeft: number | null;
  limitLeft: number | null;
  /** The limit period the redemption counts in (for the limit slot); null without a limit. */
  limitPeriodKey: string | null;
  limitResetsAt: Date | null;
};

/** What a member's eligibility depends on besides the benefit, read once per request. */
type MemberContext = { memberId: string; timezone: string; frozen: boolean; tier: string | null; privileges: string[]; available: number };

const iso = (d: Date | null) => d?.toISOString() ?? null;

const definition = (b: Benefit) => ({
  code: b.code,
  name: b.name,
  description: b.description,
  kind: b.kind,
  costPoints: b.costPoints,
  tiers: b.tiers,
  perMemberLimit: b.perMemberLimit,
  validFrom: iso(b.validFrom),
  validTo: iso(b.validTo),
  voucherValidDays: b.voucherValidDays,
});

export const toBenefitView = (b: Benefit): BenefitView => ({
  ...definition(b),
  stock: b.stock,
  active: b.active,
  version: b.version,
  createdAt: b.createdAt.toISOString(),
  updatedAt: b.updatedAt.toISOString(),
});

/** A page of a list in code order: `limit` items and the code to continue after, if there is more. */
export type Page<T> = { items: T[]; next: string | null };
const pageOf = <T extends { code: string }>(rows: T[], limit: number): Page<T> => {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? (items[items.length - 1] as T).code : null };
};

const benefitAction = (before: Benefit | null) => (before ? 'benefit.update' : 'benefit.create');
const auditView = (b: Benefit | null) => (b ? toBenefitView(b) : null);

export function benefitsService(deps: BenefitsDeps) {
  const { repo, clock } = deps;
  // A save committed when a version after the newest it saw carries its audit id.
  deps.audit.check('benefit.put', async (intent) => {
    for (let v = Number(intent.hint.after) + 1; ; v++) {
      const saved = await repo.revision(intent.target.id, v);
      if (!saved) return undefined;
      if (saved.auditId !== intent.id) continue;
      const before = await repo.revision(intent.target.id, v - 1);
      return { action: benefitAction(before), before: auditView(before), after: auditView(saved) };
    }
  });
  const catalogue = cachedFor(CACHE_MS, () => repo.all());
  const saves = new KeyedQueue();

  async function memberContext(memberId: string): Promise<MemberContext> {
    const [member, tier, privileges, balance] = await Promise.all([
      deps.members.getMember(memberId),
      deps.tierOf(memberId),
      deps.privilegesOf(memberId),
      deps.points.getBalance(memberId),
    ]);
    // A hold past its time that the sweeper has not released yet still counts as held here; the redemption's own hold
    // decides on the ledger's truth, so this can only under-promise for up to one sweep interval.
    const available = spendable(balance.head.state, balance.now);
    return { memberId, timezone: member.timezone, frozen: member.status === 'frozen', tier, privileges, available };
  }

  async function judge(ctx: MemberContext, b: Benefit, quantity: number, now: Date): Promise<Eligibility> {
    const limit = b.perMemberLimit;
    const limitPeriodKey = limit ? periodKey(limit.period, now, ctx.timezone) : null;
    const [stockLeft, used] = await Promise.all([
      deps.availability.stockLeft(b.code),
      limit ? deps.availability.limitUsed(ctx.memberId, b.code, limitPeriodKey as string) : Promise.resolve(0),
    ]);
    const limitLeft = limit ? Math.max(limit.count - used, 0) : null;
    const reasons: EligibilityReason[] = [];
    if (ctx.frozen) reasons.push('MEMBER_FROZEN');
    const privileged = ctx.privileges.includes(b.code);
    if (!privileged && b.tiers && !(ctx.tier && b.tiers.includes(ctx.tier))) reasons.push('TIER_NOT_ELIGIBLE');
    if ((b.validFrom && now < b.validFrom) || (b.validTo && now >= b.validTo)) reasons.push('NOT_IN_WINDOW');
    if (stockLeft !== null && stockLeft < quantity) reasons.push('OUT_OF_STOCK');
    if (limitLeft !== null && limitLeft < quantity) reasons.push('LIMIT_REACHED');
    // A free privilege needs no points, even from a member whose balance is in debt.
    // So is a tier privilege: the tier's benefit codes are free for its members, within their limits.
    if (!privileged && b.costPoints > 0 && ctx.available < b.costPoints * quantity) reasons.push('INSUFFICIENT_POINTS');
    return {
      eligible: reasons.length === 0,
      reasons,
      stockLeft,
      limitLeft,
      limitPeriodKey,
      limitResetsAt: limit ? periodEnd(limit.period, now, ctx.timezone) : null,
    };
  }

  /**
   * Saves one version. Saves of one benefit run one at a time in this process, so each moves the stock to its own
   * total in the order their versions are claimed (across processes, racing saves of one benefit are ops' rare case:
   * the last stock move wins, docs/BENEFITS.md).
   */
  async function save(caller: Caller, code: string, input: BenefitInput, requestId: string): Promise<{ benefit: Benefit; created: boolean }> {
    // The newest version from the database, never the cache: an older one held in memory would claim a taken number.
    const known = await repo.latest(code);
    const change = {
      kind: 'benefit.put', actor: caller, action: benefitAction(known), target: { type: 'benefit', id: code }, before: auditView(known), after: input, requestId,
      hint: { after: known?.version ?? 0 },
      outcome: (saved: { benefit: Benefit; before: Benefit | null }) => ({ action: benefitAction(saved.before), before: auditView(saved.before), after: auditView(saved.benefit) }),
    };
    const { benefit, before } = await deps.audit.audited(change, async (auditId) => {
      let before = known;
      for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++, before = await repo.latest(code)) {
        const now = clock.now();
        const benefit: Benefit = {
          code,
          name: input.name,
          description: input.description ?? null,
          kind: input.kind,
          costPoints: input.costPoints,
          tiers: input.tiers ?? null,
          stock: input.stock,
          perMemberLimit: input.perMemberLimit ?? null,
          validFrom: input.validFrom ? new Date(input.validFrom) : null,
          validTo: input.validTo ? new Date(input.validTo) : null,
          voucherValidDays: input.voucherValidDays ?? null,
          active: input.active,
          version: (before?.version ?? 0) + 1,
          createdAt: before?.createdAt ?? now,
          updatedAt: now,
          updatedBy: `${caller.role}:${caller.sub}`,
          ...(auditId ? { auditId } : {}),
        };
        // The stock moves first, under the version's own op id: a save refused for it changes nothing, and a save
        // that dies after it leaves a stock its retry finds already there (the target is a total, not a delta).
        await deps.setStock(code, benefit.stock, benefit.version);
        if (!(await repo.claim(benefit))) continue;
        await repo.publish(benefit);
        catalogue.invalidate();
        return { benefit, before };
      }
      throw new AppError(503, 'CONTENTION', 'the benefit is being changed concurrently; retry');
    });
    return { benefit, created: !before };
  }

  return {
    /**
     * Creates or replaces a benefit (audited with before and after): each save is a new version, the creation time is
     * kept. Returns whether it was created.
     * Errors: 503 CONTENTION when other saves of the same code take the next version ten times in a row.
     */
    putBenefit: (caller: Caller, code: string, input: BenefitInput, requestId: string) => saves.run(code, () => save(caller, code, input, requestId)),


    /**
     * One benefit, active or not, from the catalogue held in memory (up to 2 s behind a save on another instance), or
     * from the database with `fresh`. A code the cache does not know is read from the database, so a benefit created a
     * moment ago elsewhere is found. Errors: 404 NOT_FOUND.
     */
    async getBenefit(code: string, opts: { fresh?: boolean } = {}): Promise<Benefit> {
      const cached = opts.fresh ? undefined : (await catalogue.get()).find((b) => b.code === code);
      const benefit = cached ?? (await repo.get(code));
      if (!benefit) throw notFound('benefit');
      return benefit;
    },

    /**
     * What a redemption of `quantity` units costs the member now, once they may ask for it at all: active, in its
     * window, for their tier (or a privilege of it). Stock, limit and points are the saga's to decide on their truth.
     * Errors: 404 NOT_FOUND (benefit, or not active), 403 TIER_NOT_ELIGIBLE, 409 NOT_IN_WINDOW, 400 (cost too large).
     */
    async quote(memberId: string, code: string, quantity: number, now: Date) {
      const [b, member, tier, privileges] = await Promise.all([
        repo.get(code),
        deps.members.getMember(memberId),
        deps.tierOf(memberId),
        deps.privilegesOf(memberId),
      ]);
      if (!b?.active) throw notFound('benefit');
      const privileged = privileges.includes(code);
      if (!privileged && b.tiers && !(tier && b.tiers.includes(tier))) {
        throw new AppError(403, 'TIER_NOT_ELIGIBLE', 'the member’s tier may not redeem this benefit', { tiers: b.tiers, tier });
      }
      if ((b.validFrom && now < b.validFrom) || (b.validTo && now >= b.validTo)) throw conflict('NOT_IN_WINDOW', 'the benefit cannot be redeemed at this time');
      const unitCost = privileged ? 0 : b.costPoints;
      if (unitCost * quantity > deps.maxPointsAmount) {
        throw validationFailed([{ path: 'body.quantity', message: `costs ${unitCost * quantity} points, more than one redemption may move (MAX_POINTS_AMOUNT)` }]);
      }
      const limit = b.perMemberLimit ? { count: b.perMemberLimit.count, period: b.perMemberLimit.period, key: periodKey(b.perMemberLimit.period, now, member.timezone) } : null;
      return { name: b.name, kind: b.kind, unitCost, stocked: b.stock !== null, limit, voucherValidDays: b.voucherValidDays };
    },

    /** Every benefit, active or not, in code order, from the database (what ops just saved is there). */
    async listBenefits(opts: { limit: number; after?: string }): Promise<Page<Benefit>> {
      return pageOf(await repo.page(opts.limit + 1, opts.after), opts.limit);
    },

    /**
     * Whether `memberId` can redeem `quantity` units of `benefit` at `now`, with every reason why not (in the order of
     * `eligibilityReasons`, so the first is the error to answer). It does not look at `active`: an inactive benefit
     * is not offered at all. Errors: 404 NOT_FOUND (member).
     */
    async eligibility(memberId: string, benefit: Benefit, quantity: number, now: Date): Promise<Eligibility> {
      return judge(await memberContext(memberId), benefit, quantity, now);
    },

    /** The active catalogue as a member sees it, one unit of each judged for them, in code order. Errors: 404 NOT_FOUND. */
    async listMemberBenefits(memberId: string, opts: { limit: number; after?: string }): Promise<Page<MemberBenefitView>> {
      const ctx = await memberContext(memberId);
      const now = clock.now();
      const active = (await catalogue.get()).filter((b) => b.active && (!opts.after || b.code > opts.after));
      const page = pageOf(active.slice(0, opts.limit + 1), opts.limit);
      const items = await Promise.all(
        page.items.map(async (b) => {
          const e = await judge(ctx, b, 1, now);
          return { ...definition(b), eligible: e.eligible, reasons: e.reasons, stockLeft: e.stockLeft, limitLeft: e.limitLeft, limitResetsAt: iso(e.limitResetsAt) };
        }),
      );
      return { items, next: page.next };
    },
  };
}
export type BenefitsService = ReturnType<typeof benefitsService>;
