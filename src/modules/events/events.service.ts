import { AppError, conflict, validationFailed } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Clock } from '../../platform/clock.js';
import type { Caller } from '../../platform/http/route.js';
import { derivedOpId, type LedgerService } from '../ledger/index.js';
import type { MembersService, MemberView } from '../members/index.js';
import type { MemberContext, Rule, RulesService } from '../rules/index.js';
import type { Decision, EventDoc, EventsRepository, OrderDoc, OrderEntriesDoc } from './events.model.js';
import type { Effects, EventInput, ReferralEffect, TaskEffect } from './events.schemas.js';

/** How far in the future an event's occurredAt may be (clock skew between the backend and us). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** A rule's pendingDays are whole days of 24 hours after the event's time. */
const DAY_MS = 86_400_000;

/** The op id of what an event pays on a ledger: one entry per event and ledger. */
const eventOpId = (ledger: 'points' | 'growth', scope: string) => derivedOpId(ledger, 'event', scope);

/** The key of an order's claim, entries and refunds: one order of a member earns once. */
const orderKeyOf = (memberId: string, event: EventInput) => `${memberId}:${String(event.properties.orderId)}`;

/** The ledger code for points an event type pays (PRODUCT.md §4 codes). */
function entryCode(type: string): string {
  if (type.startsWith('order.')) return 'order';
  if (type === 'member.registered') return 'registration';
  if (type === 'content.shared') return 'share';
  if (type === 'review.posted') return 'review';
  if (type.startsWith('member.checked_in')) return 'checkin';
  return 'promotion';
}

export type TierContext = (memberId: string) => Promise<Pick<MemberContext, 'tier' | 'tierMultiplier'>>;
/** Called after growth was added; answers the tier change it caused, if any. */
export type OnGrowth = (memberId: string) => Promise<{ from: string | null; to: string } | undefined>;
const noTier: TierContext = async () => ({ tier: null, tierMultiplier: 1 });
/**
 * Advances the tasks an event counts for and pays the ones it completes (PRODUCT.md §7); answers one effect per task
 * advanced. Defined here so the tasks module satisfies it without events depending on tasks.
 */
export type TaskProgress = (input: { member: MemberView; event: EventInput; occurredAt: Date; scope: string; actor: Caller; retry: boolean }) => Promise<TaskEffect[]>;
/**
 * Qualifies or reverses the member's referral (PRODUCT.md §9); answers one effect per referral the event touched.
 * `refunded` is, for an order.refunded, how much of that order has been refunded so far (this refund included).
 */
export type ReferralProgress = (input: { member: MemberView; event: EventInput; occurredAt: Date; scope: string; actor: Caller; retry: boolean; refunded?: number }) => Promise<ReferralEffect[]>;

export type EventsDeps = {
  repo: EventsRepository;
  clock: Clock;
  members: MembersService;
  rules: RulesService;
  points: LedgerService;
  growth: LedgerService;
  tierContext?: TierContext;
  onGrowth?: OnGrowth;
  tasks?: TaskProgress;
  referrals?: ReferralProgress;
  faults?: Faults;
  /** The most one ledger command may move (MAX_POINTS_AMOUNT). */
  maxPointsAmount: number;
};

type Evaluated = Awaited<ReturnType<RulesService['evaluate']>>;

/**
 * Refuses an event whose rules would pay more than one ledger command may move (PRODUCT.md §4), before anything is
 * claimed or written: one rule alone (the path is the property its formula reads) or all of them together, on either
 * ledger. Refused rather than capped, because such an amount means a wrong property or a misconfigured rule; a rule
 * meant to pay at most so much says so with its formula's `max`. Caps are not consulted (a dry run cannot), so an event
 * whose rules would exceed the maximum only before their caps is refused too. Errors: 400 VALIDATION_FAILED.
 */
function checkPayout(evaluations: Evaluated, max: number): void {
  const fired = evaluations.filter((e): e is Extract<Evaluated[number], { fired: true }> => e.fired);
  for (const ledger of ['points', 'growth'] as const) {
    const over = (n: number) => !Number.isSafeInteger(n) || n > max;
    for (const e of fired) {
      if (!over(e[ledger])) continue;
      const formula = ledger === 'points' ? e.ruleDoc.points : e.ruleDoc.growth;
      const path = formula?.kind === 'per-unit' ? `body.properties.${formula.property}` : 'body';
      throw validationFailed([{ path, message: `rule ${e.rule} would pay ${e[ledger]} ${ledger}, above the maximum of ${max} (MAX_POINTS_AMOUNT)` }]);
    }
    const total = fired.reduce((sum, e) => sum + e[ledger], 0);
    if (over(total)) {
      const names = fired.map((e) => e.rule).join(', ');
      throw validationFailed([{ path: 'body', message: `rules ${names} together would pay ${total} ${ledger}, above the maximum of ${max} (MAX_POINTS_AMOUNT)` }]);
    }
  }
}

export function eventsService(deps: EventsDeps) {
  const { repo, clock, rules } = deps;
  const tierContext = deps.tierContext ?? noTier;
  const ledgers = { points: deps.points, growth: deps.growth };
  const faults = deps.faults ?? noFaults;

  async function memberContext(member: MemberView): Promise<MemberContext> {
    return { ...(await tierContext(member.memberId)), timezone: member.timezone, birthday: member.birthday };
  }

  function checkTime(occurredAt: Date): void {
    if (occurredAt.getTime() > clock.now().getTime() + FUTURE_TOLERANCE_MS) {
      throw validationFailed([{ path: 'body.occurredAt', message: 'is in the future' }]);
    }
  }

  /**
   * Decides what an event pays: evaluates the rules, claims the order of an order.paid and takes the caps of each rule
   * that fires. Nothing is paid yet. Errors: 409 ORDER_ALREADY_PROCESSED.
   */
  async function decide(event: EventInput, occurredAt: Date, member: MemberView, scope: string, retry: boolean): Promise<Decision> {
    const evaluations = await rules.evaluate({ type: event.type, occurredAt, properties: event.properties }, await memberContext(member));
    checkPayout(evaluations, deps.maxPointsAmount);
    if (event.type === 'order.paid') {
      // One order earns once, whatever event ids the backend sends for it; claimed before caps so a duplicate takes none.
      const claim = await repo.claimOrder({ _id: orderKeyOf(member.memberId, event), eventScope: scope, orderAmount: Number(event.properties.amount), at: clock.now() });
      if (claim.eventScope !== scope) throw conflict('ORDER_ALREADY_PROCESSED', `order ${String(event.properties.orderId)} was already reported by another event`);
    }
    const decision: Decision = { pays: [], notFired: [] };
    for (const ev of evaluations.sort((a, b) => a.rule.localeCompare(b.rule))) {
      if (!ev.fired) {
        decision.notFired.push({ rule: ev.rule, reason: ev.reason });
        continue;
      }
      const capped = await rules.claimCaps(ev.ruleDoc, member.memberId, scope, occurredAt, retry);
      if (capped) decision.notFired.push({ rule: ev.rule, reason: capped });
      else decision.pays.push({ rule: ev.rule, points: ev.points, growth: ev.growth, ...(ev.pendingDays ? { pendingDays: ev.pendingDays } : {}) });
    }
    return decision;
  }

  /**
   * Stores the event with its decision, in one insert. When its scope is stored already, another attempt of this event
   * decided first (one that overtook a slow attempt, or the event sent again after its idempotency record was purged):
   * that decision is the one paid. An event stored without one was stored before decisions were recorded.
   */
  async function recordDecision(doc: EventDoc & { decision: Decision }): Promise<Decision> {
    faults.at('event:before-decision');
    if (await repo.saveEvent(doc)) return doc.decision;
    return (await repo.getEvent(doc._id))?.decision ?? doc.decision;
  }

  /**
   * Pays an event's decision: one entry per ledger for what all its rules pay (the answer keeps the per-rule split), with
   * op id (ledger, event), so replays and retries pay once. The points entry is pending until the latest availability
   * any paying rule asks for (`pendingDays` after the event's time), so no rule's points are spendable before its own
   * window closes, and a refund still finds one entry per ledger to reverse in proportion. The decision is recorded before anything is paid and a retry
   * reuses it instead of deciding again, so it answers and links what the first attempt paid even if the rules (or the
   * member's tier) changed in between; the order's links store the entries as they landed.
   */
  async function payRules(doc: EventDoc, event: EventInput, occurredAt: Date, member: MemberView, actor: Caller, retry: boolean, effects: Effects) {
    const scope = doc._id;
    const earlier = retry ? (await repo.getEvent(scope))?.decision : undefined;
    const decision = earlier ?? (await recordDecision({ ...doc, decision: await decide(event, occurredAt, member, scope, retry) }));
    effects.notFired.push(...decision.notFired);
    const pendingDays = Math.max(0, ...decision.pays.filter((p) => p.points > 0).map((p) => p.pendingDays ?? 0));
    const availableAt = pendingDays > 0 ? { availableAt: new Date(occurredAt.getTime() + pendingDays * DAY_MS) } : {};
    const landed = await Promise.all(
      (['points', 'growth'] as const).map(async (ledger) => {
        const amount = decision.pays.reduce((sum, p) => sum + p[ledger], 0);
        if (amount <= 0) return null;
        const { entry } = await ledgers[ledger].earnPoints(
          member.memberId,
          { amount, code: entryCode(event.type), ref: { type: 'event', id: event.eventId }, ...(ledger === 'points' ? availableAt : {}) },
          { opId: eventOpId(ledger, scope), actor, retry },
        );
        return entry;
      }),
    );
    const [points, growth] = landed.map((e) => (e ? { entryId: e._id, amount: e.points } : null));
    // The ledger answers when the points really become available: a window already over for a late event credits them available.
    const pendingUntil = landed[0]?.availableAt ? { availableAt: landed[0].availableAt.toISOString() } : {};
    for (const p of decision.pays) {
      if (points && p.points > 0) effects.points.push({ rule: p.rule, points: p.points, entryId: points.entryId, ...pendingUntil });
      if (growth && p.growth > 0) effects.growth.push({ rule: p.rule, growth: p.growth, entryId: growth.entryId });
    }
    faults.at('event:before-order-links');
    if (event.type === 'order.paid' && (points || growth)) await repo.linkEntries({ _id: orderKeyOf(member.memberId, event), points: points ?? null, growth: growth ?? null });
  }

  /**
   * The entries an order earned: from its link record, or — when the event that paid it died before writing that record
   * and was never retried — from the ledgers by the payments' op ids (a scan on FerretDB v1: rare by construction).
   */
  async function orderEntries(memberId: string, order: OrderDoc): Promise<Omit<OrderEntriesDoc, '_id'>> {
    const links = await repo.getEntries(order._id);
    if (links) return links;
    const find = async (ledger: 'points' | 'growth') => {
      const entry = await ledgers[ledger].findOperation(memberId, eventOpId(ledger, order.eventScope));
      return entry ? { entryId: entry._id, amount: entry.points } : null;
    };
    return { points: await find('points'), growth: await find('growth') };
  }

  /**
   * Reverses what an order earned in proportion to what has been refunded so far, never beyond what is left; answers
   * that total refunded (undefined for an order never reported paid here).
   */
  async function reverseOrder(event: EventInput, member: MemberView, scope: string, actor: Caller, retry: boolean, effects: Effects): Promise<number | undefined> {
    const orderKey = orderKeyOf(member.memberId, event);
    const order = await repo.getOrder(orderKey);
    if (!order) return undefined; // the order earned nothing here: nothing to take back
    const slots = await repo.takeRefundSlot(orderKey, scope, Number(event.properties.amount), clock.now());
    const refunded = slots.reduce((sum, s) => sum + s.amount, 0);
    const share = Math.min(refunded / order.orderAmount, 1);
    const earned = await orderEntries(member.memberId, order);
    for (const ledger of ['points', 'growth'] as const) {
      const link = earned[ledger];
      if (!link) continue;
      const upTo = share >= 1 ? link.amount : Math.floor(link.amount * share + 1e-9);
      const result = await ledgers[ledger].reverseEntryUpTo(
        link.entryId,
        { upTo, code: 'order_refund' },
        { opId: derivedOpId(ledger, 'refund', scope, link.entryId), actor, retry },
      );
      if (result) effects.reversed.push({ ledger, entryId: link.entryId, reversalId: result.entry._id, amount: result.entry.points });
    }
    return refunded;
  }

  return {
    /**
     * Processes an event synchronously and answers every effect (PRODUCT.md §5). The eventId is the idempotency key.
     * Errors: 400 VALIDATION_FAILED (occurredAt in the future), 404 NOT_FOUND (member), 409 MEMBER_FROZEN,
     * 409 ORDER_ALREADY_PROCESSED.
     */
    async processEvent(caller: Caller, event: EventInput, idem: { scope: string; retry: boolean }) {
      const occurredAt = new Date(event.occurredAt);
      checkTime(occurredAt);
      const member = await deps.members.getMember(event.memberId);
      if (member.status === 'frozen') throw new AppError(409, 'MEMBER_FROZEN', 'the member is frozen and can neither earn nor spend');
      const doc: EventDoc = {
        _id: idem.scope,
        eventId: event.eventId,
        memberId: event.memberId,
        type: event.type,
        occurredAt,
        properties: event.properties,
        source: `${caller.role}:${caller.sub}`,
        receivedAt: clock.now(),
      };
      const effects: Effects = { points: [], growth: [], notFired: [], reversed: [], tasks: [], referral: [], tierChange: null };
      let refunded: number | undefined;
      if (event.type === 'order.refunded') {
        await repo.saveEvent(doc);
        refunded = await reverseOrder(event, member, idem.scope, caller, idem.retry, effects);
      } else await payRules(doc, event, occurredAt, member, caller, idem.retry, effects);
      const progress = { member, event, occurredAt, scope: idem.scope, actor: caller, retry: idem.retry };
      if (deps.tasks) effects.tasks = await deps.tasks(progress);
      if (deps.referrals) effects.referral = await deps.referrals({ ...progress, ...(refunded !== undefined ? { refunded } : {}) });
      const grew = effects.growth.length > 0 || effects.tasks.some((t) => (t.reward?.growth ?? 0) > 0);
      if (grew && deps.onGrowth) effects.tierChange = (await deps.onGrowth(member.memberId)) ?? null;
      return {
        event: { eventId: event.eventId, memberId: event.memberId, type: event.type, occurredAt: occurredAt.toISOString() },
        effects,
      };
    },

    /**
     * Emits member.registered for a new member (PRODUCT.md §3, §5), keyed by the member id so it pays once. A crash
     * between storing the member and this event loses the registration rules' payment for that member (the
     * registration itself answered 500 and a retry answers MEMBER_EXISTS); see docs/DECISIONS.md. The event carries no
     * device id or IP: events are kept as sent, and those are stored only as keyed hashes (docs/REFERRALS.md).
     */
    async memberRegistered(member: MemberView) {
      const event: EventInput = {
        eventId: `member.registered:${member.memberId}`,
        memberId: member.memberId,
        type: 'member.registered',
        occurredAt: member.createdAt,
        properties: {},
      };
      return this.processEvent({ role: 'service', sub: 'members' }, event, { scope: event.eventId, retry: false });
    },

    /**
     * What the rules would pay for an event, without writing anything (caps are not consulted); `draft`, an unsaved
     * rule, stands in for the saved rule of its code. Errors: 404.
     */
    async dryRun(event: EventInput, draft?: Rule) {
      const member = await deps.members.getMember(event.memberId);
      const evaluations = await rules.evaluate(
        { type: event.type, occurredAt: new Date(event.occurredAt), properties: event.properties },
        await memberContext(member),
        draft,
      );
      checkPayout(evaluations, deps.maxPointsAmount);
      const view = evaluations.map(({ ruleDoc: _r, ...e }) => e);
      const fired = view.filter((e): e is Extract<typeof e, { fired: true }> => e.fired);
      return {
        evaluations: view,
        totalPoints: fired.reduce((s, e) => s + e.points, 0),
        totalGrowth: fired.reduce((s, e) => s + e.growth, 0),
      };
    },
  };
}
export type EventsService = ReturnType<typeof eventsService>;
