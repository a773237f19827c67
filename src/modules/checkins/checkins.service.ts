import { cachedFor } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { isDuplicateKey } from '../../platform/db/connection.js';
import { AppError, conflict } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import { KeyedQueue } from '../../platform/keyed-queue.js';
import { countedStep, type Metrics } from '../../platform/metrics.js';
import type { DueRecord, Sweeper } from '../../platform/sweeper.js';
import type { AuditTrail } from '../audit/index.js';
import type { TaskEffect } from '../events/index.js';
import { COMMIT_ATTEMPTS, derivedOpId, landed, raceBackoff, type LedgerService, type Operation } from '../ledger/index.js';
import type { MembersService, MemberView } from '../members/index.js';
import type { TierChange } from '../tiers/index.js';
import { checkinEntryId, type CheckinEntry, type CheckinHead, type CheckinsStore } from './checkins.model.js';
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
/**
 * How long after a check-in or make-up starts the sweeper may finish it: by then its own request has answered or died
 * (a request still running then only meets the sweeper's work already done, or does it again harmlessly).
 */
const SWEEP_GRACE_MS = 60_000;
const KIND_CHECKIN = 'checkin.pay';
const KIND_MAKEUP = 'checkin.makeup';

/** A check-in is a `member.checked_in` event too (tasks and rules react to it); answers what that event did. */
export type ReportCheckin = (
  event: { eventId: string; memberId: string; type: string; occurredAt: string; properties: Record<string, string | number | boolean> },
  retry: boolean,
) => Promise<{ effects: { points: Array<{ rule: string; points: number; entryId: string }>; tasks: TaskEffect[]; tierChange: TierChange | null } }>;

export type CheckinsDeps = {
  store: CheckinsStore;
  clock: Clock;
  audit: AuditTrail;
  members: MembersService;
  points: LedgerService;
  growth: LedgerService;
  report: ReportCheckin;
  onGrowth: (memberId: string) => Promise<TierChange | undefined>;
  metrics: Metrics;
  /** Records each check-in and make-up before its first step, so an interrupted one is finished by the sweep. */
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
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
          deps.metrics.seqRaceRetries.inc({ log: 'checkins' });
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
    const growth = plan.growth + plan.milestones.reduce((s, x) => s + x.growth, 0);
    // The two ledgers are independent accounts, so their payments go at once (each has its own op id, so either may
    // land without the other and a retry pays only what is missing). Both are awaited before a failure is thrown, so
    // nothing of this request is still writing once it has failed.
    const payPoints = async () => {
      if (plan.points > 0) {
        await deps.points.earnPoints(m, { amount: plan.points, code: 'checkin', ref }, { opId: derivedOpId('points', 'checkin', m, day), actor, retry });
      }
      for (const ms of plan.milestones.filter((x) => x.points > 0)) {
        const opId = derivedOpId('points', 'checkin-milestone', m, day, String(ms.streak));
        await deps.points.earnPoints(m, { amount: ms.points, code: 'checkin_milestone', ref }, { opId, actor, retry });
      }
    };
    const payGrowth = async () => {
      if (growth > 0) await deps.growth.earnPoints(m, { amount: growth, code: 'checkin', ref }, { opId: derivedOpId('growth', 'checkin', m, day), actor, retry });
    };
    const paid = await Promise.allSettled([payPoints(), payGrowth()]);
    const failed = paid.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
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
   * Records a check-in or make-up as due work before its first step (the sweeper finishes it if its request dies), runs
   * it, and forgets the record once it is done. `refused` marks a refusal of the commit stage (nothing was committed, or
   * the spend was given back): then nothing is left to finish either. A failure anywhere else leaves the record.
   */
  async function recorded<T>(kind: string, memberId: string, op: Operation, data: Record<string, unknown>, flow: (refused: (err: unknown) => never) => Promise<T>): Promise<T> {
    const id = `${kind}|${memberId}|${op.opId}`;
    await deps.sweeper.owe([{ _id: id, kind, memberId, dueAt: new Date(clock.now().getTime() + SWEEP_GRACE_MS), data: { opId: op.opId, ...data } }]);
    const result = await flow((err) => {
      if (err instanceof AppError && err.status < 500) deps.sweeper.discharge(id);
      throw err;
    });
    deps.sweeper.discharge(id);
    return result;
  }

  const SYSTEM: Caller = { role: 'service', sub: 'checkins' };

  /** The sweeper's side of a check-in: pays the day its request committed, if it committed one. */
  async function finishCheckin(record: DueRecord): Promise<void> {
    const entry = await findOwn(record.memberId, String(record.data.opId));
    if (entry) await settle(await deps.members.getMember(record.memberId), entry, SYSTEM, true);
  }

  /**
   * The sweeper's side of a make-up: pays the day if it was committed; else, if its cost was spent, commits the day
   * the member paid for (as the request would have), or — when that is refused now (another request took the day, or
   * the month's last make-up) — gives the points back. A make-up never spent has nothing to finish.
   */
  async function finishMakeup(record: DueRecord): Promise<void> {
    const memberId = record.memberId;
    const op: Operation = { opId: String(record.data.opId), fingerprint: (record.data.fingerprint as string | null) ?? undefined, actor: SYSTEM, retry: true };
    const member = await deps.members.getMember(memberId);
    const committed = await findOwn(memberId, op.opId);
    if (committed) {
      await settle(member, committed, SYSTEM, true);
      return;
    }
    const spend = await deps.points.findOperation(memberId, makeupSpendOp(op));
    if (!spend) return;
    const { config } = await program.get();
    const day = String(record.data.day);
    const result = await queue.run(memberId, () => commitMakeup(member, day, op, config, spend._id)).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 409) return undefined; // refused, and its cost given back
      throw err;
    });
    if (result) await settle(member, result.entry, SYSTEM, true);
  }

  /** An entry this operation committed, if any. */
  async function findOwn(memberId: string, opId: string): Promise<CheckinEntry | null> {
    const head = (await store.freshHead(memberId)) ?? emptyHead();
    const e = await store.findByOpId(memberId, opId, head.seq);
    return e && e.opId === opId ? e : null;
  }

  deps.sweeper.on(KIND_CHECKIN, finishCheckin);
  deps.sweeper.on(KIND_MAKEUP, finishMakeup);

  /** A make-up's cost is spent under an op id of its own request: another request for the same day never shares it. */
  const makeupSpendOp = (op: Operation) => derivedOpId('points', 'checkin-makeup', op.opId);
  const makeupRefundOp = (op: Operation) => derivedOpId('points', 'checkin-makeup-undo', op.opId);

  /** A step of a make-up (spend, commit, refund), counted on /metrics (saga_steps_total{saga="checkin_makeup"}). */
  const makeupStep = <T>(name: string, run: () => Promise<T>) => countedStep(deps.metrics, 'checkin_makeup', name, run);

  /** Commits a make-up day whose cost was spent (entry `spentEntry`); if the commit is refused, gives the cost back. */
  async function commitMakeup(member: MemberView, day: string, op: Operation, config: CheckinConfig, spentEntry: string | undefined) {
    const memberId = member.memberId;
    const registeredOn = rules.localDay(new Date(member.createdAt), member.timezone);
    try {
      return await makeupStep('commit', () =>
        commit(memberId, op, (state, now) => {
          const next = rules.makeUp(state, { day, today: rules.localDay(now, member.timezone), registeredOn }, config);
          return { kind: 'makeup', day, timezone: member.timezone, cost: config.makeup.cost, ...next };
        }),
      );
    } catch (err) {
      if (spentEntry && err instanceof AppError && err.status === 409) {
        await makeupStep('refund', () => deps.points.reverseEntry(spentEntry, { code: 'checkin_makeup_refund' }, { opId: makeupRefundOp(op), actor: op.actor }));
      }
      throw err;
    }
  }

  /**
   * Refuses a make-up the newest state does not allow (before anything is spent), spends its cost under the request's
   * own op id (a retry of the request replays it; another request pays its own), and commits the day; if the commit is
   * then refused (another request took the day or the month's last make-up), the spend is reversed.
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
      ? await makeupStep('spend', () => deps.points.spendPoints(memberId, { amount: cost, code: 'checkin_makeup', ref }, { opId: makeupSpendOp(op), actor: op.actor, retry: op.retry === true }))
      : undefined;
    faults.at('checkin:makeup-after-spend');
    return commitMakeup(member, day, op, config, spend?.entry._id);
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
      return recorded(KIND_CHECKIN, memberId, op, {}, async (refused) => {
        const { entry, replayed } = await counted('checkin', () =>
          queue.run(memberId, () =>
            commit(memberId, op, (state, now) => {
              const today = rules.localDay(now, member.timezone);
              const next = rules.checkIn(state, { today, now, timezone: member.timezone }, config);
              return { kind: 'checkin', day: today, timezone: member.timezone, cost: 0, ...next };
            }),
          ),
        ).catch(refused);
        faults.at('checkin:after-commit');
        return settle(member, entry, op.actor as Caller, op.retry === true || replayed);
      });
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
      return recorded(KIND_MAKEUP, memberId, op, { day, fingerprint: op.fingerprint ?? null }, async (refused) => {
        const { entry, replayed } = await counted('makeup', () => queue.run(memberId, () => spendAndCommitMakeup(member, day, op, config))).catch(refused);
        return settle(member, entry, op.actor as Caller, op.retry === true || replayed);
      });
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
      const current = await store.getConfig();
      const at = clock.now();
      const change = {
        kind: 'checkin-config.put', actor: caller, action: 'checkin-config.update', target: { type: 'checkin-config', id: 'current' },
        before: current?.config ?? null, after: config, requestId, replaces: current?.auditId,
      };
      await deps.audit.audited(change, async (auditId) => {
        await store.saveConfig(config, at, auditId);
        program.invalidate();
      });
      return { config, updatedAt: at.toISOString() };
    },
  };
}
export type CheckinsService = ReturnType<typeof checkinsService>;
