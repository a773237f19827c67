import { DateTime } from 'luxon';
import type { Clock } from '../../platform/clock.js';
import type { FactSink } from '../../platform/facts.js';
import { AppError } from '../../platform/errors.js';
import type { Caller } from '../../platform/http/route.js';
import type { JobRunner } from '../../platform/jobs.js';
import type { AuditTrail } from '../audit/index.js';
import { spendable, type LedgerService } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import { tierFact } from './tiers.facts.js';
import { changeIdOf, type LadderDoc, type TierChangeDoc, type TiersRepository } from './tiers.model.js';
import type { LadderInput } from './tiers.schemas.js';

export type TierChange = { from: string | null; to: string };

/** The highest tier whose threshold the growth reaches (the ladder is ordered bottom-up). */
export function tierForGrowth<T extends { threshold: number }>(ladder: { tiers: T[] }, growth: number): T {
  return ladder.tiers.reduce((best, t) => (growth >= t.threshold ? t : best), ladder.tiers[0] as T);
}

/**
 * Percentile assignment (policy.mode = percentile): members ranked by growth, highest first, fill the buckets top tier
 * first; members tied on growth always share a tier (the better one), so a tie never splits across a boundary.
 */
export function assignPercentiles(ladder: LadderInput, growthByMember: Array<{ memberId: string; growth: number }>): Map<string, string> {
  const ranked = [...growthByMember].sort((a, b) => b.growth - a.growth || a.memberId.localeCompare(b.memberId));
  const buckets = ladder.policy.buckets ?? [];
  const out = new Map<string, string>();
  let cumulative = 0;
  let i = 0;
  for (const bucket of buckets) {
    cumulative += bucket.percent;
    const end = bucket === buckets[buckets.length - 1] ? ranked.length : Math.floor((ranked.length * cumulative) / 100 + 1e-9);
    while (i < ranked.length && (i < end || (i > 0 && ranked[i]?.growth === ranked[i - 1]?.growth && out.get(ranked[i - 1]?.memberId ?? '') === bucket.tier))) {
      out.set((ranked[i] as { memberId: string }).memberId, bucket.tier);
      i++;
    }
  }
  return out;
}

export type TiersDeps = {
  repo: TiersRepository;
  clock: Clock;
  audit: AuditTrail;
  growth: LedgerService;
  members: MembersService;
  programTimezone: string;
  jobs: JobRunner;
  /** Receives each tier change's rollup fact once it landed (docs/ANALYTICS.md). */
  facts: FactSink;
};

/**
 * Told when a member reaches a tier that has a welcome benefit: `before` the change is appended (record the work, so a
 * crash after the append leaves it behind), `after` it landed (do it). Both must be safe to repeat.
 */
export type TierReachedListener = {
  before: (memberId: string, tier: string, benefitCode: string) => Promise<void>;
  after: (memberId: string, tier: string, benefitCode: string) => Promise<void>;
};

const ladderTarget = (version: number) => ({ type: 'tier-ladder', id: String(version) });
/** A ladder as its audit record shows it. */
const ladderAudit = (d: LadderDoc | null) => (d ? { version: d._id, tiers: d.tiers, policy: d.policy } : null);

export function tiersService(deps: TiersDeps) {
  const { repo, clock } = deps;
  // A ladder save committed when a version after the newest it saw carries its audit id.
  deps.audit.check('tier-ladder.put', async (intent) => {
    for (let v = Number(intent.hint.after) + 1; ; v++) {
      const doc = await repo.ladderVersion(v);
      if (!doc) return undefined;
      if (doc.auditId === intent.id) return { target: ladderTarget(v), before: ladderAudit(await repo.ladderVersion(v - 1)), after: ladderAudit(doc) };
    }
  });
  const DAY = 86_400_000;
  const reachedListeners: TierReachedListener[] = [];

  /** Appends a tier change (a unique insert: racing evaluations change once), with its welcome benefit if it has one. */
  async function append(change: Omit<TierChangeDoc, '_id'>, ladder: LadderInput): Promise<boolean> {
    const welcome = change.from !== change.to ? ladder.tiers.find((t) => t.code === change.to)?.welcomeBenefit : undefined;
    if (welcome) for (const l of reachedListeners) await l.before(change.memberId, change.to, welcome);
    if (!(await repo.append(change))) return false;
    deps.facts.record(tierFact({ ...change, _id: changeIdOf(change) }, ladder));
    if (welcome) for (const l of reachedListeners) await l.after(change.memberId, change.to, welcome);
    return true;
  }

  /** Growth in the window: the growth ledger's balance (its lots expire as they leave the window). */
  const growthOf = async (memberId: string) => {
    const { head, now } = await deps.growth.getBalance(memberId);
    return Math.max(spendable(head.state, now), 0);
  };

  /** How long a tier reached at `at` lasts before it is re-evaluated at period end. */
  function validUntil(ladder: LadderInput, at: Date): Date {
    if (ladder.policy.window === 'calendar-year') return DateTime.fromJSDate(at, { zone: deps.programTimezone }).plus({ years: 1 }).endOf('year').toJSDate();
    return new Date(at.getTime() + 365 * 86_400_000);
  }

  async function current(memberId: string, ladder: LadderDoc | null) {
    const changes = await repo.changes(memberId);
    const last = changes[changes.length - 1];
    const code = last?.to ?? ladder?.tiers[0]?.code ?? null;
    return { changes, last, tier: ladder?.tiers.find((t) => t.code === code) ?? null };
  }

  /**
   * Decides one member's tier now and appends the change, if any: an upgrade when growth reaches a higher tier; at the
   * end of the tier's validity a renewal when growth keeps the keep-threshold, else (after the grace days) a drop of one
   * tier; a member whose tier left the ladder goes where its growth puts it; in percentile mode, the assigned tier.
   * Idempotent: a second evaluation of the same state changes nothing.
   */
  async function evaluateMember(memberId: string, ladder: LadderDoc, now: Date, assigned?: string): Promise<TierChange | undefined> {
    const growth = await growthOf(memberId);
    const { changes, tier, last } = await current(memberId, ladder);
    const rank = (code: string | undefined) => ladder.tiers.findIndex((t) => t.code === code);
    let to: string | undefined;
    let reason = '';
    if (ladder.policy.mode === 'percentile') {
      to = assigned ?? ladder.tiers[0]?.code;
      reason = `percentile rank on growth ${growth}`;
      if (to === tier?.code && !(last?.validUntil && now >= last.validUntil)) return undefined;
    } else {
      const reached = tierForGrowth(ladder, growth);
      if (!tier) [to, reason] = [reached.code, `the ladder changed; growth ${growth} reaches ${reached.code}`];
      else if (rank(reached.code) > rank(tier.code)) [to, reason] = [reached.code, `growth ${growth} reached ${reached.threshold}`];
      else if (last?.validUntil && now >= last.validUntil) {
        const keep = tier.keepThreshold ?? tier.threshold;
        if (growth >= keep) [to, reason] = [tier.code, `kept: growth ${growth} ≥ ${keep} at period end`];
        else if (rank(tier.code) > 0 && now.getTime() >= last.validUntil.getTime() + ladder.policy.graceDays * DAY) {
          to = ladder.tiers[rank(tier.code) - 1]?.code; // the bottom tier has nowhere to drop to
          reason = `growth ${growth} below the keep threshold ${keep} at period end`;
        }
      }
    }
    if (!to) return undefined;
    const change: Omit<TierChangeDoc, '_id'> = {
      memberId, seq: changes.length + 1, from: last?.to ?? tier?.code ?? null, to, reason, growth, ladderVersion: ladder._id, at: now, validUntil: validUntil(ladder, now),
    };
    return (await append(change, ladder)) ? { from: change.from, to } : undefined;
  }

  return {
    /**
     * Evaluates every member once for `runKey` (a day, or a ladder version), at most once across processes, resuming
     * after a crash. Errors: none; a run already done or held elsewhere answers ran: false.
     */
    async runEvaluation(runKey: string) {
      // A day's run is due when the day starts in the program's calendar; a ladder version's at once (no lag kept).
      const day = DateTime.fromISO(runKey, { zone: deps.programTimezone });
      return deps.jobs.run('tiers.evaluate', runKey, async (ctx) => {
        // Read from the database, not memory: the run for a ladder version must not judge members by an older ladder
        // (and would mark the version done having done so).
        const ladder = await repo.latestLadder();
        if (!ladder) return { members: 0, changes: 0 };
        const ids = (await deps.members.listMemberIds()).sort();
        const assigned =
          ladder.policy.mode === 'percentile'
            ? assignPercentiles(ladder, await Promise.all(ids.map(async (memberId) => ({ memberId, growth: await growthOf(memberId) }))))
            : undefined;
        let changed = 0;
        const todo = ctx.resumeAfter ? ids.filter((id) => id > (ctx.resumeAfter as string)) : ids;
        for (const [i, memberId] of todo.entries()) {
          if (await evaluateMember(memberId, ladder, clock.now(), assigned?.get(memberId))) changed++;
          if (i % 100 === 99) await ctx.checkpoint(memberId);
        }
        return { members: todo.length, changes: changed };
      }, day.isValid ? { dueAt: day.toJSDate() } : {});
    },

    /** The run key of today's evaluation in the program's calendar. */
    todayKey: () => DateTime.fromJSDate(clock.now(), { zone: deps.programTimezone }).toISODate() as string,

    /**
     * Replaces the ladder with a new version (audited). The next version is chosen from the database, never from
     * memory: an older ladder held there would make every attempt claim a taken version.
     * Errors: 503 CONTENTION when other writers take the next version ten times in a row.
     */
    async putLadder(caller: Caller, input: LadderInput, requestId: string): Promise<LadderDoc> {
      const known = await repo.latestLadder();
      const from = known?._id ?? 0;
      const change = {
        kind: 'tier-ladder.put', actor: caller, action: 'tier-ladder.update', target: ladderTarget(from + 1), before: ladderAudit(known), after: input, requestId,
        hint: { after: from },
        outcome: (saved: { doc: LadderDoc; before: LadderDoc | null }) => ({ target: ladderTarget(saved.doc._id), before: ladderAudit(saved.before), after: ladderAudit(saved.doc) }),
      };
      const { doc } = await deps.audit.audited(change, async (auditId) => {
        let before = known;
        for (let attempt = 0; attempt < 10; attempt++) {
          const doc: LadderDoc = { ...input, _id: (before?._id ?? 0) + 1, updatedAt: clock.now(), actor: `${caller.role}:${caller.sub}`, ...(auditId ? { auditId } : {}) };
          if (await repo.insertLadder(doc)) return { doc, before };
          before = await repo.latestLadder();
        }
        throw new AppError(503, 'CONTENTION', 'the ladder is being changed concurrently; retry');
      });
      return doc;
    },

    getLadder: () => repo.currentLadder(),

    /** Registers what happens when a member reaches a tier with a welcome benefit (the benefits module grants it). */
    onTierReached(listener: TierReachedListener): void {
      reachedListeners.push(listener);
    },

    /** The benefit codes the member's tier makes free privileges (PRODUCT.md §8); none without a tier. */
    async privilegesOf(memberId: string): Promise<string[]> {
      const ladder = await repo.currentLadder();
      if (!ladder) return [];
      const { tier } = await current(memberId, ladder);
      return tier?.benefitCodes ?? [];
    },

    /** The member's tier and what the rules multiply its points by. */
    async tierContext(memberId: string): Promise<{ tier: string | null; tierMultiplier: number }> {
      const ladder = await repo.currentLadder();
      if (!ladder) return { tier: null, tierMultiplier: 1 };
      const { tier } = await current(memberId, ladder);
      return { tier: tier?.code ?? null, tierMultiplier: tier?.earnMultiplier ?? 1 };
    },

    /**
     * Threshold mode: upgrades at once when the member's growth reaches a higher tier (never downgrades here; that
     * happens at period end). Appending the change is a unique insert, so racing events upgrade once.
     */
    async onGrowth(memberId: string): Promise<TierChange | undefined> {
      const ladder = await repo.currentLadder();
      if (!ladder || ladder.policy.mode !== 'threshold') return undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        const growth = await growthOf(memberId);
        const { changes, tier, last } = await current(memberId, ladder);
        const target = tierForGrowth(ladder, growth);
        const rank = (code: string | undefined) => ladder.tiers.findIndex((t) => t.code === code);
        if (rank(target.code) <= rank(tier?.code)) return undefined;
        const now = clock.now();
        const change: Omit<TierChangeDoc, '_id'> = {
          memberId, seq: changes.length + 1, from: last?.to ?? tier?.code ?? null, to: target.code,
          reason: `growth ${growth} reached ${target.threshold}`, growth, ladderVersion: ladder._id, at: now, validUntil: validUntil(ladder, now),
        };
        if (await append(change, ladder)) return { from: change.from, to: change.to };
      }
      return undefined;
    },

    /** A member's tier changes, newest first. */
    async history(memberId: string): Promise<TierChangeDoc[]> {
      await deps.members.getMember(memberId);
      return (await repo.changes(memberId)).reverse();
    },

    /** "With this ladder, how many members would be in each tier today", without changing anyone. */
    async preview(input?: LadderInput): Promise<{ members: number; counts: Record<string, number> }> {
      const ladder = input ?? (await repo.currentLadder());
      if (!ladder) throw new AppError(404, 'NOT_FOUND', 'no tier ladder is configured; send one to preview');
      const growth = await Promise.all((await deps.members.listMemberIds()).map(async (memberId) => ({ memberId, growth: await growthOf(memberId) })));
      const counts: Record<string, number> = Object.fromEntries(ladder.tiers.map((t) => [t.code, 0]));
      if (ladder.policy.mode === 'percentile') {
        for (const tier of assignPercentiles(ladder, growth).values()) counts[tier] = (counts[tier] ?? 0) + 1;
      } else {
        for (const g of growth) counts[tierForGrowth(ladder, g.growth).code]! += 1;
      }
      return { members: growth.length, counts };
    },

    /** The member summary's tier and growth parts (PRODUCT.md §3). */
    async summary(memberId: string) {
      const ladder = await repo.currentLadder();
      const value = await growthOf(memberId);
      if (!ladder) return { growth: { value, nextTier: null, missingToNext: null } };
      const { tier, last } = await current(memberId, ladder);
      const next = ladder.tiers[ladder.tiers.findIndex((t) => t.code === tier?.code) + 1];
      return {
        tier: tier ? { code: tier.code, name: tier.name, since: last?.at.toISOString() ?? null, validUntil: last?.validUntil?.toISOString() ?? null } : null,
        growth: { value, nextTier: next?.code ?? null, missingToNext: next ? Math.max(next.threshold - value, 0) : null },
      };
    },
  };
}
export type TiersService = ReturnType<typeof tiersService>;
