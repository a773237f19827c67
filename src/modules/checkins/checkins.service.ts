import { cachedFor } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { isDuplicateKey } from '../../platform/db/connection.js';
import { AppError, conflict } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import { KeyedQueue } from '../../platform/keyed-queue.js';
import type { Metrics } from '../../platform/metrics.js';
import type { RecordAudit } from '../audit/index.js';
import type { TaskEffect } from '../events/index.js';
import { COMMIT_ATTEMPTS, derivedOpId, landed, raceBackoff, type LedgerService, type Operation } from '../ledger/index.js';
import type { MembersService, MemberView } from '../members/index.js';
import type { TierChange } from '../tiers/index.js';
import { checkinEntryId, dayKey, type CheckinEntry, type CheckinHead, type CheckinsStore } from './checkins.model.js';
import type { CheckinConfig } from './checkins.schemas.js';
import * as rules from './checkins.state.js';
import type { CheckinState, RewardPlan } from './checkins.state.js';

/** The program a fresh installation runs until ops configure one (docs/DECISIONS.md). */
export const DEFAULT_CONFIG: CheckinConfig = {
  cycle: [5, 5, 10, 5, 5, 10, 30],
  milestones: [{ streak: 30, points: 100, growth: 0 }],
  growthPerCheckin: 1,
  makeup: { cost: 20, perMonth: 2 },
};

/** How long an instance serves the configuration from memory (changes made on this instance apply at once). */
const CACHE_MS = 2000;
/** How old an unpaid entry must be before another request pays it (its own request has answered or died by then). */
const SETTLE_GRACE_MS = 60_000;

/** A check-in is a `member.checked_in` event too (tasks and rules react to it); answers what that event did. */
export type ReportCheckin = (
  event: { eventId: string; memberId: string; type: string; occurredAt: string; properties: Record<string, string | number | boolean> },
  retry: boolean,
) => Promise<{ effects: { points: Array<{ rule: string; points: number; entryId: string }>; tasks: TaskEffect[]; tierChange: TierChange | null } }>;

export type CheckinsDeps = {
  store: CheckinsStore;
  clock: Clock;
  audit: RecordAudit;
  members: MembersService;
  points: LedgerService;
  growth: LedgerService;
  report: ReportCheckin;
  onGrowth: (memberId: string) => Promise<TierChange | undefined>;
  metrics: Metrics;
  faults?: Faults;
};

type Draft = { kind: CheckinEntry['kind']; day: string; timezone: string; plan: RewardPlan; cost: number; state: CheckinState };

export function checkinsService(deps: CheckinsDeps) {
  const { store, clock } = deps;
  const faults = deps.faults ?? noFaults;
  const queue = new KeyedQueue();
  const program = cachedFor(CACHE_MS, async () => {
    const doc = await store.getConfig();
    return { config: doc?.config ?? DEFAULT_CONFIG, updatedAt: doc?.updatedAt ?? null };
  });

  const emptyHead = (): CheckinHead => ({ seq: 0, state: rules.emptyState() });

  /** Counts a check-in or make-up by outcome (checkins_total on /metrics). */
  async function counted<T extends { entry: CheckinEntry; replayed: boolean }>(kind: CheckinEntry['kind'], run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      deps.metrics.checkins.inc({ kind, outcome: result.replayed ? 'replayed' : 'committed' });
      return result;
    } catch (err) {
      deps.metrics.checkins.inc({ kind, outcome: err instanceof AppError ? err.code : 'error' });
      throw err;
    }
  }

  /** Decides against the newest entry and commits it with one insert; see docs/CHECKINS.md for why a day pays once. */
  async function commit(memberId: string, op: Operation, decide: (state: CheckinState, now: Date) => Draft): Promise<{ entry: CheckinEntry; replayed: boolean }> {
    // A retry reads the newest entries, since its own may be among them; a first attempt trusts the head it knows.
    let head = (op.retry ? undefined : store.knownHead(memberId)) ?? (await store.freshHead(memberId)) ?? emptyHead();
    if (op.retry) {
      const earlier = landed(op, await store.findByOpId(memberId, op.opId, head.seq));
      if (earlier) return earlier;
    }
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const now = clock.now();
      const draft = decide(head.state, now);
      const seq = head.seq + 1;
      const entry: CheckinEntry = {
        _id: checkinEntryId(memberId, seq),
        memberId,
        seq,
        opId: op.opId,
        fingerprint: op.fingerprint ?? null,
        dayKey: dayKey(memberId, draft.day),
        at: now,
        ...draft,
      };
      try {
        await store.insert(entry);
        return { entry, replayed: false };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const atSeq = await store.get(memberId, seq);
        const replay = landed(op, atSeq);
        if (replay) return replay;
        if (atSeq) {
          store.forgetHead(memberId); // another commit took this seq: decide again on the newest state
          await raceBackoff(attempt);
          head = (await store.freshHead(memberId)) ?? emptyHead();
          continue;
        }
        // The seq is free, so the day or the operation is taken.
        const earlier = landed(op, await store.findByOpId(memberId, op.opId, head.seq));
        if (earlier) return earlier;
        throw conflict('ALREADY_CHECKED_IN', `${draft.day} is already checked`, { day: draft.day });
      }
    }
    throw new AppError(503, 'CONTENTION', 'too many check-ins at once for this member; retry with the same idempotency key');
  }

  /**
   * Pays what a committed day earns — the cycle day, each milestone, and growth, each with an op id derived from the
   * member and the day, so a retry (or a second request for the same day) pays once — and reports the check-in as a
   * `member.checked_in` event.
   */
  async function settle(member: MemberView, entry: CheckinEntry, actor: Caller, retry: boolean) {
    const m = member.memberId;
    const { day, plan } = entry;
    const ref = { type: 'checkin', id: day };
    if (plan.points > 0) {
      await deps.points.earnPoints(m, { amount: plan.points, code: 'checkin', ref }, { opId: derivedOpId('points', 'checkin', m, day), actor, retry });
    }
    for (const ms of plan.milestones.filter((x) => x.points > 0)) {
      const opId = derivedOpId('points', 'checkin-milestone', m, day, String(ms.streak));
      await deps.points.earnPoints(m, { amount: ms.points, code: 'checkin_milestone', ref }, { opId, actor, retry });
    }
    const growth = plan.growth + plan.milestones.reduce((s, x) => s + x.growth, 0);
    if (growth > 0) await deps.growth.earnPoints(m, { amount: growth, code: 'checkin', ref }, { opId: derivedOpId('growth', 'checkin', m, day), actor, retry });
    faults.at('checkin:before-event');
    const { effects } = await deps.report(
      {
        eventId: `member.checked_in:${m}:${day}`,
        memberId: m,
        type: 'member.checked_in',
        occurredAt: entry.at.toISOString(),
        properties: { day, streak: plan.run, makeup: entry.kind === 'makeup' },
      },
      retry,
    );
    const tierChange = effects.tierChange ?? (growth > 0 ? ((await deps.onGrowth(m)) ?? null) : null);
    await store.markSettled(m, entry.seq, clock.now());
    const today = rules.localDay(clock.now(), member.timezone);
    return {
      day,
      makeup: entry.kind === 'makeup',
      streak: rules.currentStreak(entry.state, today),
      bestStreak: entry.state.best,
      reward: {
        points: plan.points + plan.milestones.reduce((s, x) => s + x.points, 0),
        growth,
        cycleDay: plan.cycleDay,
        milestones: plan.milestones,
      },
      cost: entry.cost,
      ruleRewards: effects.points,
      tasks: effects.tasks,
      tierChange,
    };
  }


  /**
   * Pays the member's newest entry if its own request died between committing and paying and was never retried: its
   * day is checked, so its reward is owed. Left alone while young (its request may still be paying it); the payments'
   * op ids make a second attempt land nothing twice. Runs before each new check-in or make-up, so every entry is paid
   * by the time the next one commits.
   */
  async function payOverdue(member: MemberView): Promise<void> {
    const head = store.knownHead(member.memberId) ?? (await store.freshHead(member.memberId));
    if (!head || head.seq === 0 || (await store.isSettled(member.memberId, head.seq))) return;
    const entry = await store.get(member.memberId, head.seq);
    if (!entry || clock.now().getTime() - entry.at.getTime() < SETTLE_GRACE_MS) return;
    await settle(member, entry, { role: 'service', sub: 'checkins' }, true);
  }

  /**
   * Refuses a make-up the newest state does not allow (before anything is spent), spends its cost — keyed by the day,
   * not the request, so an attempt that died after paying is completed by the next, never charged twice — and commits
   * the day; if the commit is then refused (another request took the day or the month's last make-up), the spend is
   * reversed.
   */
  async function spendAndCommitMakeup(member: MemberView, day: string, op: Operation, config: CheckinConfig) {
    const memberId = member.memberId;
    const registeredOn = rules.localDay(new Date(member.createdAt), member.timezone);
    const head = (await store.freshHead(memberId)) ?? emptyHead();
    if (op.retry) {
      const earlier = landed(op, await store.findByOpId(memberId, op.opId, head.seq));
      if (earlier) return earlier;
    }
    rules.refuseMakeup(head.state, { day, today: rules.localDay(clock.now(), member.timezone), registeredOn }, config);
    const cost = config.makeup.cost;
    const ref = { type: 'checkin', id: day };
    const spend = cost > 0
      ? await deps.points.spendPoints(memberId, { amount: cost, code: 'checkin_makeup', ref }, { opId: derivedOpId('points', 'checkin-makeup', memberId, day), actor: op.actor, retry: op.retry === true })
      : undefined;
    try {
      return await commit(memberId, op, (state, now) => {
        const next = rules.makeUp(state, { day, today: rules.localDay(now, member.timezone), registeredOn }, config);
        return { kind: 'makeup', day, timezone: member.timezone, cost, ...next };
      });
    } catch (err) {
      if (spend && err instanceof AppError && err.status === 409) {
        await deps.points.reverseEntry(spend.entry._id, { code: 'checkin_makeup_refund' }, { opId: derivedOpId('points', 'checkin-makeup-undo', memberId, day), actor: op.actor });
      }
      throw err;
    }
  }

  return {
    /**
     * Checks the member in for today in its time zone and pays the day (PRODUCT.md §7).
     * Errors: 404 NOT_FOUND, 409 MEMBER_FROZEN, 409 ALREADY_CHECKED_IN (today is checked, or the time zone changed
     * less than 24 h after the last check-in), 503 CONTENTION.
     */
    async checkIn(memberId: string, op: Operation) {
      const member = await deps.members.assertActive(memberId);
      const { config } = await program.get();
      await payOverdue(member);
      const { entry, replayed } = await counted('checkin', () =>
        queue.run(memberId, () =>
          commit(memberId, op, (state, now) => {
            const today = rules.localDay(now, member.timezone);
            const next = rules.checkIn(state, { today, now, timezone: member.timezone }, config);
            return { kind: 'checkin', day: today, timezone: member.timezone, cost: 0, ...next };
          }),
        ),
      );
      faults.at('checkin:after-commit');
      return settle(member, entry, op.actor as Caller, op.retry === true || replayed);
    },

    /**
     * Checks in a missed past day of the current month, at the configured cost; pays what that day would have paid and
     * joins the runs around it.
     * Errors: 404, 409 MEMBER_FROZEN, 409 MAKEUP_NOT_ALLOWED (today or later, another month, before registration),
     * 409 ALREADY_CHECKED_IN, 409 LIMIT_REACHED (monthly cap), 409 INSUFFICIENT_POINTS (nothing is written).
     */
    async makeUpCheckin(memberId: string, day: string, op: Operation) {
      const member = await deps.members.assertActive(memberId);
      const { config } = await program.get();
      await payOverdue(member);
      const { entry, replayed } = await counted('makeup', () => queue.run(memberId, () => spendAndCommitMakeup(member, day, op, config)));
      return settle(member, entry, op.actor as Caller, op.retry === true || replayed);
    },

    /** The member's check-in calendar for a month (default: the current one). Errors: 404 NOT_FOUND. */
    async getCalendar(memberId: string, month?: string) {
      const member = await deps.members.getMember(memberId);
      const { config } = await program.get();
      const today = rules.localDay(clock.now(), member.timezone);
      const head = (await store.freshHead(memberId)) ?? emptyHead();
      const state = head.state;
      const wanted = month ?? rules.monthOf(today);
      let monthState: CheckinState | null = null;
      if (state.lastDay !== null && wanted === rules.monthOf(state.lastDay)) monthState = state;
      else if (state.lastDay !== null && wanted < rules.monthOf(state.lastDay)) {
        const e = await store.newestUpToMonth(memberId, head, wanted);
        if (e && rules.monthOf(e.day) === wanted) monthState = e.state;
      }
      const dayOf = (d: number) => `${wanted}-${String(d).padStart(2, '0')}`;
      const used = state.lastDay !== null && rules.monthOf(state.lastDay) === rules.monthOf(today) ? state.makeups.length : 0;
      const { checkedToday, today: next, tomorrow } = rules.upcoming(state, today, config);
      return {
        month: wanted,
        timezone: member.timezone,
        today,
        days: (monthState?.days ?? []).map((d) => ({ day: dayOf(d), makeup: monthState?.makeups.includes(d) ?? false })),
        currentStreak: rules.currentStreak(state, today),
        bestStreak: state.best,
        totalCheckins: state.total,
        checkedInToday: checkedToday,
        next,
        tomorrow,
        makeup: { cost: config.makeup.cost, perMonth: config.makeup.perMonth, usedThisMonth: used, remaining: Math.max(config.makeup.perMonth - used, 0) },
      };
    },

    /** The member summary's check-in part (PRODUCT.md §3). */
    async summary(member: MemberView) {
      const state = ((await store.freshHead(member.memberId)) ?? emptyHead()).state;
      const today = rules.localDay(clock.now(), member.timezone);
      return { checkin: { streak: rules.currentStreak(state, today), bestStreak: state.best, lastDay: state.lastDay, total: state.total } };
    },

    async getConfig() {
      const { config, updatedAt } = await program.get();
      return { config, updatedAt: updatedAt?.toISOString() ?? null };
    },

    /** Waits for the background writes (head hints); shutdown and tests call it. */
    flush: () => store.flush(),

    /** Replaces the check-in program (audited); it applies to check-ins from now on, never to days already paid. */
    async putConfig(caller: Caller, config: CheckinConfig, requestId: string) {
      const before = (await store.getConfig())?.config ?? null;
      const at = clock.now();
      await store.saveConfig(config, at);
      program.invalidate();
      await deps.audit({ actor: caller, action: 'checkin-config.update', target: { type: 'checkin-config', id: 'current' }, before, after: config, requestId });
      return { config, updatedAt: at.toISOString() };
    },
  };
}
export type CheckinsService = ReturnType<typeof checkinsService>;
