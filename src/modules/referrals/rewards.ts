import { DateTime } from 'luxon';
import type { Clock } from '../../platform/clock.js';
import { AppError, conflict } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import type { Sweeper } from '../../platform/sweeper.js';
import { derivedOpId, type LedgerService, type Operation } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { ReferralPrograms } from './programs.js';
import type { PaidStep, Referral, ReferralsRepository, RouteStep, SidePaid } from './referrals.model.js';

const DAY_MS = 86_400_000;
export const KIND_SETTLE = 'referrals.settle';
export const KIND_REVERSE = 'referrals.reverse';
export const SYSTEM: Caller = { role: 'service', sub: 'referrals' };
type Side = 'referrer' | 'invitee';
export type Milestone = { count: number; points: number };

/** The benefits module's grant path, as referral rewards use it (src/modules/benefits/grants.ts). */
export type GrantPort = {
  give(memberId: string, benefitCode: string, grantId: string, actor: Caller): Promise<{ redemptionId: string; status: string }>;
  revoke(memberId: string, grantId: string, actor: Caller): Promise<string>;
};

export type RewardsDeps = {
  repo: ReferralsRepository;
  clock: Clock;
  members: MembersService;
  points: LedgerService;
  grants: GrantPort;
  programs: ReferralPrograms;
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
  programTimezone: string;
  faults?: Faults;
};

/** A referral's grant id per side: the benefit is given once per referral and side, whoever runs the payout. */
const grantIdOf = (invitee: string, side: Side) => `referral:${invitee}:${side}`;
const memberOf = (r: Referral, side: Side) => (side === 'referrer' ? r.binding.referrer : r.binding._id);

/**
 * Paying a referral (docs/REFERRALS.md): route it (pay, or review with reasons), pay both sides, then at the end of the
 * hold period keep it (count it towards milestones) or, on a refund before then, take both rewards back. Each step
 * is a unique insert and each payout has a deterministic op id, so the request, a retry, another instance and the
 * sweeper can all run `drive` at once and the referral still pays each side once.
 */
export function referralRewards(deps: RewardsDeps) {
  const { repo, clock } = deps;
  const { counters } = repo;
  const faults = deps.faults ?? noFaults;

  /**
   * The one place referral points are earned: pending until `availableAt`, the end of the hold period (PRODUCT.md §4;
   * an `availableAt` already past when the ledger decides, as for a milestone, credits them available at once).
   */
  async function payReferralPoints(memberId: string, amount: number, ref: { type: string; id: string }, availableAt: Date, op: Operation): Promise<string> {
    const { entry } = await deps.points.earnPoints(memberId, { amount, code: 'referral', ref, availableAt }, op);
    return entry._id;
  }

  /**
   * Routes a qualified referral once: to review when a guard tripped at binding, the referrer is frozen, or the
   * referrer's rewarded invites this month (the qualifying event's month, program calendar) reached the cap; else to
   * pay, taking a cap slot. The slot is a counter entry under the invitee's op id, so two routers take one slot.
   */
  async function route(r: Referral & { first: NonNullable<Referral['first']> }): Promise<RouteStep> {
    const program = await deps.programs.current();
    const referrer = r.binding.referrer;
    const reasons = [...r.binding.flags];
    if ((await deps.members.getMember(referrer)).status === 'frozen') reasons.push('referrer_frozen');
    const month = DateTime.fromJSDate(r.first.occurredAt ?? r.first.at, { zone: deps.programTimezone }).toFormat('yyyy-MM');
    const cap = program.monthlyCap;
    if (cap !== null) {
      const chain = `${referrer}|cap|${month}`;
      const opId = `cap:${r.binding._id}`;
      if (reasons.length > 0) {
        if ((await counters.head(chain)).value >= cap) reasons.push('monthly_cap');
      } else {
        const decide = (h: { value: number }) => {
          if (h.value >= cap) throw conflict('REFERRAL_CAP_REACHED', 'the referrer reached its monthly cap');
          return 1;
        };
        const took = await counters.apply({ chain, shard: referrer, opId, kind: 'take', decide }).then(
          () => true,
          async (err: unknown) => {
            if (!(err instanceof AppError && err.code === 'REFERRAL_CAP_REACHED')) throw err;
            // Full now, but another router of this referral may have taken its slot before: that slot is this referral's.
            const mine = await counters.findOutcome(referrer, opId);
            return mine !== null && mine.kind !== 'refusal';
          },
        );
        if (!took) reasons.push('monthly_cap');
      }
    }
    const to = reasons.length > 0 ? 'review' : 'pay';
    return (await repo.commitStep(r.binding._id, { step: 'route', to, reasons, month, at: clock.now() })).step;
  }

  /** Pays one side what the referral's program version gives it: points through the ledger, a benefit through grants. */
  async function paySide(r: Referral, side: Side, availableAt: Date, actor: Caller, retry: boolean): Promise<SidePaid> {
    const reward = (await deps.programs.version(r.binding.programVersion)).rewards[side];
    const memberId = memberOf(r, side);
    const invitee = r.binding._id;
    const points = reward.points ?? 0;
    const entryId = points > 0
      ? await payReferralPoints(memberId, points, { type: 'referral', id: invitee }, availableAt, { opId: derivedOpId('points', 'referral', invitee, side), actor, retry })
      : null;
    let redemptionId: string | null = null;
    if (reward.benefitCode) redemptionId = (await deps.grants.give(memberId, reward.benefitCode, grantIdOf(invitee, side), actor)).redemptionId;
    return { points, entryId, benefitCode: reward.benefitCode ?? null, redemptionId };
  }

  /**
   * Pays both sides, then records what landed. The hold period runs from the routing (or the approval), so every payer
   * computes the same `availableAt`. An approved referral is counted in its month's cap first, whatever the cap says
   * (ops' decision pays; the count keeps the month's total true).
   */
  async function pay(r: Referral & { route: RouteStep }, actor: Caller, retry: boolean): Promise<PaidStep> {
    const program = await deps.programs.version(r.binding.programVersion);
    if (r.decision?.outcome === 'approved') {
      const referrer = r.binding.referrer;
      await counters.apply({ chain: `${referrer}|cap|${r.route.month}`, shard: referrer, opId: `cap:${r.binding._id}`, kind: 'take', decide: () => 1 });
    }
    const from = r.decision?.outcome === 'approved' ? r.decision.at : r.route.at;
    const availableAt = new Date(from.getTime() + program.holdDays * DAY_MS);
    const referrer = await paySide(r, 'referrer', availableAt, actor, retry);
    faults.at('referral:after-referrer-paid');
    const invitee = await paySide(r, 'invitee', availableAt, actor, retry);
    return (await repo.commitStep(r.binding._id, { step: 'paid', availableAt, referrer, invitee, at: clock.now() })).step;
  }

  /**
   * Keeps a paid referral once its hold period is over, then counts it as the referrer's next rewarded invite (once:
   * the entry's op id names the invitee) and pays the milestone that count reaches (once per referrer and count).
   * Safe to run again after a crash at any point: the sweeper does.
   */
  async function settle(r: Referral & { paid: PaidStep }, actor: Caller): Promise<{ r: Referral; milestones: Milestone[] }> {
    const { step: close } = await repo.commitStep(r.binding._id, { step: 'close', outcome: 'settled', at: clock.now() });
    const settled = { ...r, close };
    if (close.outcome !== 'settled') return { r: settled, milestones: [] };
    faults.at('referral:after-settled');
    const referrer = r.binding.referrer;
    const chain = `${referrer}|rewards`;
    const apply = (opId: string, kind: string, delta: number) => counters.apply({ chain, shard: referrer, opId, kind, decide: () => delta, extra: { invitee: r.binding._id } });
    const n = (await apply(`invite:${r.binding._id}`, 'invite', 1)).entry.totals.invite ?? 0;
    if (r.paid.referrer.points > 0) await apply(`points:${r.binding._id}`, 'points', r.paid.referrer.points);
    const reached = (await deps.programs.current()).milestones.filter((m) => m.count === n);
    for (const m of reached) {
      const opId = derivedOpId('points', 'referral-milestone', referrer, String(m.count));
      await payReferralPoints(referrer, m.points, { type: 'referral-milestone', id: String(m.count) }, clock.now(), { opId, actor, retry: true });
      await apply(`milestone:${m.count}`, 'milestone', m.points);
    }
    return { r: settled, milestones: reached.map((m) => ({ count: m.count, points: m.points })) };
  }

  /**
   * Moves a referral as far as it can go now: route it, pay it (unless it waits for ops), and settle it if its hold
   * period is over, else leave a due record for the day it is. `resume`: redo the idempotent tail of a settled
   * referral too (the sweeper, after a crash inside `settle`).
   */
  async function drive(invitee: string, actor: Caller, retry: boolean, resume = false): Promise<{ r: Referral | null; milestones: Milestone[] }> {
    const r = await repo.load(invitee);
    if (!r?.first || r.first.outcome !== 'qualified') return { r, milestones: [] };
    const routed = { ...r, first: r.first, route: r.route ?? (await route({ ...r, first: r.first })) };
    faults.at('referral:after-routed');
    if (routed.route.to === 'review' && routed.decision?.outcome !== 'approved') return { r: routed, milestones: [] };
    if (routed.close?.outcome === 'reversed' || (routed.close && !resume)) return { r: routed, milestones: [] };
    const paid = { ...routed, paid: routed.paid ?? (await pay(routed, actor, retry)) };
    if (paid.paid.availableAt.getTime() <= clock.now().getTime()) return settle(paid, actor);
    await deps.sweeper.owe([{ _id: `${KIND_SETTLE}|${invitee}`, kind: KIND_SETTLE, memberId: invitee, dueAt: paid.paid.availableAt, data: {} }]);
    return { r: paid, milestones: [] };
  }

  /**
   * Takes back both rewards of a reversed referral, never beyond what is left of them (op ids: once). What a payment
   * landed is read from its `paid` step, or, when the payment stopped before writing it, from the ledger by its op id.
   */
  async function undo(r: Referral): Promise<void> {
    for (const side of ['referrer', 'invitee'] as const) {
      const memberId = memberOf(r, side);
      const recorded = r.paid?.[side];
      // A scan on FerretDB v1, only for a payment that stopped half-way (rare by construction).
      const earned = recorded
        ? recorded.entryId && { _id: recorded.entryId, points: recorded.points }
        : await deps.points.findOperation(memberId, derivedOpId('points', 'referral', r.binding._id, side));
      const opId = derivedOpId('points', 'referral-reversal', r.binding._id, side);
      if (earned) await deps.points.reverseEntryUpTo(earned._id, { upTo: earned.points, code: 'order_refund' }, { opId, actor: SYSTEM, retry: true });
      await deps.grants.revoke(memberId, grantIdOf(r.binding._id, side), SYSTEM);
    }
  }

  deps.sweeper.on(KIND_SETTLE, async (record) => {
    await drive(record.memberId, SYSTEM, true, true);
  });
  deps.sweeper.on(KIND_REVERSE, async (record) => {
    const r = await repo.load(record.memberId);
    if (r?.close?.outcome === 'reversed') await undo(r);
  });

  return {
    drive,

    /**
     * A refund of the qualifying order that leaves it below the program's minimum: while the referral waits for ops it
     * is rejected; while its rewards are held they are reversed; after the hold period it is kept.
     */
    async refund(invitee: string): Promise<{ r: Referral; outcome: 'reversed' | 'rejected' | 'kept' }> {
      // Routed and paid as far as it goes now; a payment refused (its member frozen since the routing) leaves it unpaid.
      const driven = async () => ((await drive(invitee, SYSTEM, true).catch(async (err: unknown) => {
        if (!(err instanceof AppError && err.status === 409)) throw err;
        return { r: await repo.load(invitee) };
      })).r as Referral);
      let r = await driven();
      if (!r.route) throw new Error(`referral ${invitee} is qualified but not routed`);
      if (r.route.to === 'review' && !r.decision) {
        const { step } = await repo.commitStep(invitee, { step: 'decision', outcome: 'rejected', note: 'the qualifying order was refunded', by: 'system', at: clock.now() });
        if (step.outcome === 'rejected') return { r: { ...r, decision: step }, outcome: 'rejected' };
        r = await driven(); // ops approved it first: it is paid, and reversed below
      }
      if (r.decision?.outcome === 'rejected') return { r, outcome: 'rejected' };
      if (r.close) return { r, outcome: r.close.outcome === 'reversed' ? 'reversed' : 'kept' };
      if (r.paid && clock.now().getTime() >= r.paid.availableAt.getTime()) return { r: await driven(), outcome: 'kept' };
      // Left for the sweeper to run once more a minute on: a payment still landing elsewhere now is taken back then.
      await deps.sweeper.owe([{ _id: `${KIND_REVERSE}|${invitee}`, kind: KIND_REVERSE, memberId: invitee, dueAt: new Date(clock.now().getTime() + 60_000), data: {} }]);
      const { step: close } = await repo.commitStep(invitee, { step: 'close', outcome: 'reversed', at: clock.now() });
      if (close.outcome === 'reversed') await undo(r);
      return { r: { ...r, close }, outcome: close.outcome === 'reversed' ? 'reversed' : 'kept' };
    },
  };
}
export type ReferralRewards = ReturnType<typeof referralRewards>;
