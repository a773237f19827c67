import type { Clock } from '../../platform/clock.js';
import { chainEntryId } from '../../platform/db/counter-chain.js';
import { AppError, conflict, notFound, validationFailed } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import type { Sweeper } from '../../platform/sweeper.js';
import type { AuditTrail } from '../audit/index.js';
import type { EventInput, ReferralEffect, ReferralProgress } from '../events/index.js';
import { derivedOpId } from '../ledger/index.js';
import type { MembersService, RegistrationListener } from '../members/index.js';
import type { ReferralBinding, Device } from './binding.js';
import { maskName } from './codes.js';
import type { ReferralPrograms } from './programs.js';
import type { BindingDoc, Referral, ReferralsRepository } from './referrals.model.js';
import type { MemberReferralView, ReferralState, ReferralView } from './referrals.schemas.js';
import { SYSTEM, type ReferralRewards } from './rewards.js';
import { decodeCursor, encodeCursor, stateOf, toEffect, toReferralView } from './views.js';

export const KIND_DRIVE = 'referrals.drive';
/** How long the request that qualified (or approved) a referral owns paying it; then the sweeper pays what it left. */
const DRIVE_GRACE_MS = 60_000;
/** Bindings an ops list reads per batch, and batches per page, when a state filter leaves most of them out. */
const LIST_BATCH = 100;
const LIST_BATCHES = 10;

export type ReferralsDeps = {
  repo: ReferralsRepository;
  clock: Clock;
  audit: AuditTrail;
  members: MembersService;
  programs: ReferralPrograms;
  binding: ReferralBinding;
  rewards: ReferralRewards;
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
  baseUrl: string;
  faults?: Faults;
};

const isRefusal = (err: unknown): err is AppError => err instanceof AppError && (err.status === 404 || err.status === 409);
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isAfter = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string';
const badCursor = () => validationFailed([{ path: 'query.cursor', message: 'not a cursor from this list' }]);

/** Why an event of the qualifying type does not qualify a referral not yet qualified, or null when it does. */
function whyNot(b: BindingDoc, minAmount: number, event: EventInput, occurredAt: Date): string | null {
  if (occurredAt.getTime() < b.boundAt.getTime()) return 'the event happened before the member was bound to its referrer';
  if (occurredAt.getTime() >= b.qualifyBy.getTime()) return 'the event happened after the qualifying window closed';
  const amount = event.properties.amount;
  if (minAmount > 0 && !(typeof amount === 'number' && amount >= minAmount)) return `the amount is below the minimum of ${minAmount}`;
  return null;
}

const refundReasons = { reversed: null, rejected: 'the qualifying order was refunded while the referral waited for review', kept: 'the hold period was over before the refund' };

/** The referral use cases (PRODUCT.md §9): the member's page, binding, qualification from events, ops' review. */
export function referralsService(deps: ReferralsDeps) {
  const { repo, clock, binding, rewards } = deps;
  const { counters } = repo;
  // A decision committed when the referral's one decision step is the intent's, by its actor.
  deps.audit.check('referral.decide', async (intent) => {
    const decision = (await repo.load(intent.target.id))?.decision;
    const mine = decision?.outcome === (intent.after as { outcome: string }).outcome && decision.by === `${intent.actor.role}:${intent.actor.sub}`;
    return mine ? {} : undefined;
  });
  const faults = deps.faults ?? noFaults;

  deps.sweeper.on(KIND_DRIVE, async (record) => {
    await rewards.drive(record.memberId, SYSTEM, true, true);
  });

  /** Qualifies the member's referral by this event if it is its first qualifying event, and pays it. */
  async function qualify(b: BindingDoc, event: EventInput, occurredAt: Date, scope: string, actor: Caller, retry: boolean): Promise<ReferralEffect[]> {
    const invitee = b._id;
    const before = await repo.withSteps(b);
    const notQualified = (r: Referral, why: string) => [toEffect(r, 'not-qualified', why)];
    if (before.first && before.first.scope !== scope) {
      return notQualified(before, before.first.outcome === 'expired' ? 'the referral expired' : 'the referral was qualified by another event');
    }
    const program = await deps.programs.version(b.programVersion);
    const why = before.first ? null : whyNot(b, program.qualifying.minAmount, event, occurredAt);
    if (why) return notQualified(before, why);

    const dueId = `${KIND_DRIVE}|${invitee}|${derivedOpId('referral', scope)}`;
    await deps.sweeper.owe([{ _id: dueId, kind: KIND_DRIVE, memberId: invitee, dueAt: new Date(clock.now().getTime() + DRIVE_GRACE_MS), data: {} }]);
    const { amount, orderId } = event.properties;
    const { step: first, won } = await repo.commitStep(invitee, {
      step: 'first', outcome: 'qualified', scope, eventId: event.eventId, orderId: typeof orderId === 'string' ? orderId : null,
      amount: typeof amount === 'number' ? amount : null, occurredAt, at: clock.now(),
    });
    faults.at('referral:after-qualified');
    if (first.scope !== scope) {
      deps.sweeper.discharge(dueId);
      return notQualified({ ...before, first }, first.outcome === 'expired' ? 'the referral expired' : 'the referral was qualified by another event');
    }
    try {
      const { r, milestones } = await rewards.drive(invitee, actor, retry || !won);
      deps.sweeper.discharge(dueId);
      return [toEffect(r as Referral, 'qualified', null, milestones)];
    } catch (err) {
      // A payout refused (a member frozen since it was routed): the event still answers; the sweeper pays it later.
      if (!isRefusal(err)) throw err;
      return [toEffect((await repo.load(invitee)) as Referral, 'qualified', err.message)];
    }
  }

  /** A refund of the member's qualifying order: kept while the order still reaches the minimum, else reversed or rejected. */
  async function refund(invitee: string, event: EventInput, refunded: number): Promise<ReferralEffect[]> {
    const r = await repo.load(invitee);
    if (r?.first?.outcome !== 'qualified' || r.first.orderId === null || r.first.orderId !== event.properties.orderId) return [];
    const { minAmount } = (await deps.programs.version(r.binding.programVersion)).qualifying;
    const left = (r.first.amount ?? 0) - refunded;
    if (left > 0 && left >= minAmount) return [toEffect(r, 'kept', 'the order still reaches the minimum after this refund')];
    const after = await rewards.refund(invitee);
    return [toEffect(after.r, after.outcome, refundReasons[after.outcome])];
  }

  /** The events pipeline's hook: one read by _id for members bound to nobody. */
  const progressFromEvent: ReferralProgress = async ({ member, event, occurredAt, scope, actor, retry, refunded }) => {
    if (event.type === 'order.refunded') return refunded === undefined ? [] : refund(member.memberId, event, refunded);
    const b = await repo.binding(member.memberId);
    if (!b || (await deps.programs.version(b.programVersion)).qualifying.eventType !== event.type) return [];
    return qualify(b, event, occurredAt, scope, actor, retry);
  };

  /** Hashes the registration device, and binds the code given at registration; a refusal is answered, not thrown. */
  const onRegistered: RegistrationListener = async (member, { device, referralCode }) => {
    const hashes = await binding.recordDevice(member.memberId, device);
    if (!referralCode) return undefined;
    const code = referralCode.toUpperCase();
    try {
      await binding.bind(member.memberId, code, 'registration', hashes);
      return { referral: { code, bound: true, refusal: null } };
    } catch (err) {
      if (!isRefusal(err)) throw err;
      return { referral: { code, bound: false, refusal: { code: err.code, message: err.message } } };
    }
  };

  async function loadReferral(invitee: string): Promise<Referral> {
    const r = await repo.load(invitee);
    if (!r) throw notFound('referral');
    return r;
  }

  return {
    progressFromEvent,
    onRegistered,

    /** Binds the calling member to a code's owner (see binding.ts for the refusals). Answers whether it is new. */
    async bind(memberId: string, code: string, device: Device | undefined): Promise<{ referral: ReferralView; created: boolean }> {
      const { binding: b, created } = await binding.bind(memberId, code, 'bind', device ? binding.hashesOf(device) : undefined);
      return { referral: toReferralView(await repo.withSteps(b)), created };
    },

    /**
     * A member's referral page: its code (created on first need), share link, invitees newest first (names masked
     * unless `staff`), the rewards its invites earned, and its own referral. Errors: 404 NOT_FOUND, 400 (cursor).
     */
    async memberReferral(memberId: string, page: { limit: number; cursor?: string | undefined }, staff: boolean): Promise<MemberReferralView> {
      await deps.members.getMember(memberId);
      const code = await binding.codeOf(memberId);
      const chain = `${memberId}|invitees`;
      const [head, earned, own] = await Promise.all([counters.head(chain), counters.head(`${memberId}|rewards`), repo.load(memberId)]);
      const top = page.cursor ? decodeCursor(page.cursor, isSeq) : head.seq;
      if (top === undefined) throw badCursor();
      const seqs = Array.from({ length: Math.max(0, Math.min(page.limit, top)) }, (_, i) => top - i);
      const entries = await Promise.all(seqs.map((seq) => counters.get(chainEntryId(chain, seq))));
      const invitees = await Promise.all(
        entries.map(async (e) => {
          const id = String(e?.invitee);
          const [r, m] = await Promise.all([repo.load(id), deps.members.getMember(id).catch(() => null)]);
          const name = m?.displayName ?? id;
          return { name: staff ? name : maskName(name), state: r ? stateOf(r) : ('bound' as ReferralState), boundAt: (r?.binding.boundAt ?? e?.createdAt ?? clock.now()).toISOString(), ...(staff ? { memberId: id } : {}) };
        }),
      );
      const next = top - seqs.length;
      return {
        code,
        shareLink: `${deps.baseUrl}${code}`,
        invitedCount: head.value,
        invitees,
        nextCursor: next > 0 ? encodeCursor(next) : null,
        rewards: { points: (earned.totals.points ?? 0) + (earned.totals.milestone ?? 0), count: earned.totals.invite ?? 0 },
        referredBy: own ? { state: stateOf(own), boundAt: own.binding.boundAt.toISOString() } : null,
      };
    },

    /** The member summary's part (PRODUCT.md §3): its code and how many it invited. */
    async summary(memberId: string) {
      const [code, head] = await Promise.all([binding.codeOf(memberId), counters.head(`${memberId}|invitees`)]);
      return { code, invitedCount: head.value };
    },

    /** One referral, by its invitee. Errors: 404 NOT_FOUND. */
    get: async (invitee: string) => toReferralView(await loadReferral(invitee)),

    /**
     * Referrals newest first, optionally in one state or of one referrer (a scan: for ops). A state filter reads up to
     * 1,000 bindings per page, so a page may be short while `nextCursor` goes on. Errors: 400 (cursor).
     */
    async list(q: { limit: number; cursor?: string | undefined; state?: ReferralState | undefined; referrer?: string | undefined }) {
      const start = q.cursor ? decodeCursor(q.cursor, isAfter) : undefined;
      if (q.cursor && !start) throw badCursor();
      let after = start ? { at: new Date(start[0]), id: start[1] } : undefined;
      const items: ReferralView[] = [];
      let more = true;
      for (let batch = 0; batch < LIST_BATCHES && more && items.length < q.limit; batch++) {
        const docs = await repo.page(LIST_BATCH, after, q.referrer);
        more = docs.length === LIST_BATCH;
        const loaded = await Promise.all(docs.map((d) => repo.withSteps(d)));
        for (const [i, r] of loaded.entries()) {
          after = { at: r.binding.boundAt, id: r.binding._id };
          if (!q.state || stateOf(r) === q.state) items.push(toReferralView(r));
          if (items.length === q.limit) {
            more ||= i < loaded.length - 1;
            break;
          }
        }
      }
      return { items, nextCursor: more && after ? encodeCursor([after.at.toISOString(), after.id]) : null };
    },

    /**
     * Ops' decision on a referral in review, once: approving pays it (counted in its month's cap whatever the cap
     * says), rejecting records it. The approval's due record is written first, so a crash after the decision still pays. The same decision again answers it; the other is refused. Audited.
     * Errors: 404 NOT_FOUND, 409 REFERRAL_NOT_IN_REVIEW, 409 REFERRAL_ALREADY_DECIDED, 409 MEMBER_FROZEN (approve).
     */
    async decide(caller: Caller, invitee: string, outcome: 'approved' | 'rejected', note: string | undefined, requestId: string): Promise<ReferralView> {
      let r = await loadReferral(invitee);
      if (r.first?.outcome === 'qualified' && !r.route) r = (await rewards.drive(invitee, SYSTEM, true)).r as Referral;
      const route = r.route;
      if (route?.to !== 'review') throw conflict('REFERRAL_NOT_IN_REVIEW', `the referral is ${stateOf(r)}, not in review`);
      const decided = (d: { outcome: string }) => conflict('REFERRAL_ALREADY_DECIDED', `the referral was already ${d.outcome}`, { outcome: d.outcome });
      if (r.decision && r.decision.outcome !== outcome) throw decided(r.decision);
      if (outcome === 'approved') await Promise.all([deps.members.assertActive(invitee), deps.members.assertActive(r.binding.referrer)]);
      const dueId = `${KIND_DRIVE}|${invitee}|decision`;
      if (outcome === 'approved') await deps.sweeper.owe([{ _id: dueId, kind: KIND_DRIVE, memberId: invitee, dueAt: new Date(clock.now().getTime() + DRIVE_GRACE_MS), data: {} }]);
      const change = {
        kind: 'referral.decide', key: invitee, actor: caller, action: outcome === 'approved' ? 'referral.approve' : 'referral.reject',
        target: { type: 'referral', id: invitee }, before: { state: 'review', reasons: route.reasons }, after: { outcome, note: note ?? null }, reason: note, requestId,
      };
      await deps.audit.audited(change, async () => {
        const { step } = await repo.commitStep(invitee, { step: 'decision', outcome, note: note ?? null, by: `${caller.role}:${caller.sub}`, at: clock.now() });
        if (step.outcome !== outcome) {
          deps.sweeper.discharge(dueId);
          throw decided(step);
        }
      });
      if (outcome === 'approved') {
        await rewards.drive(invitee, caller, true);
        deps.sweeper.discharge(dueId);
      }
      return toReferralView(await loadReferral(invitee));
    },
  };
}
export type ReferralsService = ReturnType<typeof referralsService>;
