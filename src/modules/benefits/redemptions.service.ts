import { AppError, conflict, notFound } from '../../platform/errors.js';
import type { Clock } from '../../platform/clock.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import type { IdempotencyInfo } from '../../platform/http/router.js';
import { countedStep, type Metrics } from '../../platform/metrics.js';
import type { DueRecord, Sweeper } from '../../platform/sweeper.js';
import type { AuditTrail } from '../audit/index.js';
import { derivedOpId, ignoreCode, type LedgerService } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { CapturedStep, CloseStep, EndStep, Redemption, RedemptionDoc, RedemptionsRepository } from './redemptions.model.js';
import { memberOfRedemption, redemptionId, statusOf } from './redemptions.model.js';
import { newVoucherCode } from './vouchers.js';

/** One part of a stock take: how many units came from which sub-account (the stock's own record of it). */
export type StockPart = { shard: number; entryId: string; qty: number };
/** The benefit's stock, as the saga uses it (stock.ts). */
export type StockPort = {
  /** Takes units under an op id (a repeat answers the same parts). Errors: 409 OUT_OF_STOCK. */
  take(code: string, opId: string, qty: number): Promise<StockPart[]>;
  /** What a take under `opId` landed, without taking anything; null when it took nothing. */
  findTake(code: string, opId: string): Promise<StockPart[] | null>;
  /** Returns exactly what a take took, once. */
  giveBack(code: string, opId: string, parts: StockPart[]): Promise<void>;
};
/** A member's per-period limit, as the saga uses it (limits.ts). */
export type LimitPort = {
  /** Takes `qty` of the member's `count` in the period `key`. Errors: 409 LIMIT_REACHED. */
  take(memberId: string, benefit: string, key: string, count: number, opId: string, qty: number): Promise<void>;
  /** Gives back what the take under `opId` took, once; nothing when it took nothing. */
  giveBack(memberId: string, benefit: string, key: string, opId: string): Promise<void>;
};
/** What a redemption needs to know of a benefit when it is asked for. */
export type Priced = { name: string; kind: string; unitCost: number; stocked: boolean; limit: { count: number; period: string; key: string } | null; voucherValidDays: number | null };

export type RedemptionsDeps = {
  repo: RedemptionsRepository;
  clock: Clock;
  members: MembersService;
  points: LedgerService;
  stock: StockPort;
  limits: LimitPort;
  /** Checks that the member may redeem the benefit now and prices it. Errors: 404, 403 TIER_NOT_ELIGIBLE, 409 NOT_IN_WINDOW. */
  price: (memberId: string, benefit: string, quantity: number) => Promise<Priced>;
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
  /** What becomes of the points of a voucher that expires unused (BENEFIT_EXPIRED_VOUCHER_POINTS). */
  expiredPoints: 'keep' | 'refund';
  /** Counts each step's outcome (saga_steps_total{saga="redemption"}). */
  metrics: Pick<Metrics, 'sagaSteps'>;
  audit: AuditTrail;
  faults?: Faults;
};

/** How long a redemption's request owns it; after that the sweeper finishes or undoes it. */
export const REDEMPTION_LEASE_MS = 60_000;
/** A redemption's hold outlives any lease by far, so the sweeper captures it long before it could time out. */
const HOLD_TTL_SECONDS = 24 * 3600;
const KIND_SAGA = 'benefits.redemption';
const KIND_CLOSE = 'benefits.close';
const KIND_EXPIRE = 'benefits.expire';
const SYSTEM: Caller = { role: 'service', sub: 'benefits' };

/** The op ids of a redemption's steps: deterministic, so every attempt (request, retry, sweeper) lands each once. */
const ops = (id: string) => ({
  hold: derivedOpId('points', 'redemption-hold', id),
  stock: derivedOpId('stock', 'redemption', id),
  limit: derivedOpId('limit', 'redemption', id),
  refund: derivedOpId('points', 'redemption-refund', id),
  /** Takes the points as a spend when the hold timed out before its capture (see `settle`). */
  spend: derivedOpId('points', 'redemption-spend', id),
});

/**
 * The redemption saga (docs/BENEFITS.md): record → hold the points → take the stock → take the limit → `end: issued`
 * (with the voucher) → capture the hold. A refusal at any step commits `end: failed` and undoes what the earlier steps
 * did. Exactly one `end` lands, and every step is idempotent under its op id, so the request, a retry and the sweeper
 * (which finishes a redemption whose request died, once its lease is over) all converge on the same outcome.
 */
export function redemptionsService(deps: RedemptionsDeps) {
  const { repo, clock } = deps;
  const faults = deps.faults ?? noFaults;
  const step = <T>(name: string, run: () => Promise<T>) => countedStep(deps.metrics, 'redemption', name, run);

  /**
   * Redeems a benefit for a member (audited when ops ask). Errors: those of `price`, 409 MEMBER_FROZEN, and the refusal
   * the saga ended with (409 INSUFFICIENT_POINTS, OUT_OF_STOCK, LIMIT_REACHED, IDEMPOTENCY_KEY_REUSED).
   */
  async function redeem(
    caller: Caller,
    memberId: string,
    input: { benefitCode: string; quantity: number },
    idem: IdempotencyInfo | undefined,
    requestId?: string,
  ): Promise<{ redemption: Redemption; replayed: boolean }> {
    if (!idem) throw new AppError(500, 'INTERNAL', 'idempotency info missing', undefined, false);
    const id = redemptionId(memberId, derivedOpId('redemption', idem.scope));
    const change = {
      kind: 'redemption.create', key: id, actor: caller, action: 'redemption.create', target: { type: 'redemption', id }, before: { memberId, ...input }, requestId,
      outcome: (r: { redemption: Redemption }) => ({ after: auditView(r.redemption) }),
    };
    return deps.audit.audited(change, () => redeemOnce(caller, id, memberId, input, idem));
  }

  async function redeemOnce(caller: Caller, id: string, memberId: string, input: { benefitCode: string; quantity: number }, idem: IdempotencyInfo) {
    const earlier = await repo.get(id);
    if (earlier) return { redemption: await resume(earlier, idem.fingerprint, caller), replayed: true };
    await deps.members.assertActive(memberId);
    const priced = await deps.price(memberId, input.benefitCode, input.quantity);
    const doc: RedemptionDoc = {
      _id: id,
      memberId,
      benefit: input.benefitCode,
      benefitName: priced.name,
      kind: priced.kind,
      quantity: input.quantity,
      unitCost: priced.unitCost,
      points: priced.unitCost * input.quantity,
      fingerprint: idem.fingerprint,
      stocked: priced.stocked,
      limit: priced.limit,
      voucherValidDays: priced.voucherValidDays,
      grant: null,
      actor: { role: caller.role, sub: caller.sub },
      createdAt: clock.now(),
    };
    return { redemption: await start(doc, caller), replayed: false };
  }

  /** Records a redemption (its sweep first, so a crash at any later point leaves it to be finished) and runs it. */
  async function start(doc: RedemptionDoc, caller: Caller): Promise<Redemption> {
    await deps.sweeper.owe([{ _id: `${KIND_SAGA}|${doc._id}`, kind: KIND_SAGA, memberId: doc.memberId, dueAt: new Date(doc.createdAt.getTime() + REDEMPTION_LEASE_MS), data: { id: doc._id } }]);
    if (!(await repo.record(doc))) {
      const earlier = await repo.get(doc._id);
      if (!earlier) throw new Error(`redemption ${doc._id} was recorded but cannot be read`);
      return resume(earlier, doc.fingerprint, caller);
    }
    faults.at('redemption:after-record');
    return drive({ doc, end: null, close: null }, caller, false);
  }

  /** Continues a redemption recorded before (a retry of its request): the same request only. */
  async function resume(r: Redemption, fingerprint: string, caller: Caller): Promise<Redemption> {
    if (r.doc.fingerprint !== fingerprint) throw conflict('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
    return drive(r, caller, true);
  }

  /**
   * Runs the steps that are left and settles the outcome; answers the redemption, or throws the refusal it ended with.
   * `retry`: an earlier attempt may have landed steps (each step then finds its own landing under its op id).
   */
  async function drive(r: Redemption, caller: Caller, retry: boolean): Promise<Redemption> {
    const { doc } = r;
    const op = ops(doc._id);
    let end = r.end;
    let holdId: string | null = null;
    if (!end) {
      try {
        if (doc.points > 0) {
          const hold = await step('hold', () =>
            deps.points.holdPoints(
              doc.memberId,
              { amount: doc.points, code: 'redemption', ref: { type: 'redemption', id: doc._id }, ttlSeconds: HOLD_TTL_SECONDS },
              { opId: op.hold, actor: caller, retry },
            ),
          );
          holdId = hold.entry._id;
        }
        faults.at('redemption:after-hold');
        if (doc.stocked) await step('stock', () => deps.stock.take(doc.benefit, op.stock, doc.quantity));
        faults.at('redemption:after-stock');
        const limit = doc.limit;
        if (limit) await step('limit', () => deps.limits.take(doc.memberId, doc.benefit, limit.key, limit.count, op.limit, doc.quantity));
        faults.at('redemption:after-limit');
        end = await step('issue', () => issue(doc));
      } catch (err) {
        if (!isRefusal(err)) throw err;
        const error = errorOf(err);
        end = (await step('fail', () => repo.commitStep<EndStep>(doc._id, { memberId: doc.memberId, step: 'end', outcome: 'failed', voucherCode: null, expiresAt: null, error, at: clock.now() }))).step;
      }
    }
    faults.at('redemption:after-end');
    await settle(doc, end, caller, holdId);
    deps.sweeper.discharge(`${KIND_SAGA}|${doc._id}`);
    if (end.outcome === 'failed' && end.error) throw new AppError(end.error.status, end.error.code, end.error.message, end.error.details);
    return { doc, end, close: r.close };
  }

  /** Draws a voucher code nobody holds and commits `end: issued` with it (its expiry sweep recorded first). */
  async function issue(doc: RedemptionDoc): Promise<EndStep> {
    const now = clock.now();
    const expiresAt = doc.voucherValidDays ? new Date(now.getTime() + doc.voucherValidDays * 86_400_000) : null;
    let code = newVoucherCode();
    while (!(await repo.reserveVoucher({ _id: code, redemption: doc._id, memberId: doc.memberId, createdAt: now }))) code = newVoucherCode();
    if (expiresAt) await deps.sweeper.owe([{ _id: `${KIND_EXPIRE}|${doc._id}`, kind: KIND_EXPIRE, memberId: doc.memberId, dueAt: expiresAt, data: { id: doc._id } }]);
    // A code reserved by an attempt that lost this insert is never valid: a voucher is the one its `end` names.
    return (await repo.commitStep<EndStep>(doc._id, { memberId: doc.memberId, step: 'end', outcome: 'issued', voucherCode: code, expiresAt, error: null, at: now })).step;
  }

  /**
   * Brings the other records in line with the outcome (idempotent; the sweeper runs it again after a crash): an issued
   * redemption captures its hold; a failed one releases it and gives back its stock and limit.
   */
  async function settle(doc: RedemptionDoc, end: EndStep, caller: Caller, knownHold: string | null): Promise<void> {
    const op = ops(doc._id);
    const holdId = doc.points > 0 ? (knownHold ?? (await deps.points.findOperation(doc.memberId, op.hold))?._id ?? null) : null;
    if (end.outcome === 'issued') {
      if (!holdId) {
        if (doc.points > 0) throw new Error(`issued redemption ${doc._id} has no hold`);
        return;
      }
      const paid = await step('capture', () => pay(doc, holdId, caller, knownHold === null));
      faults.at('redemption:after-capture');
      if (paid) await repo.commitStep<CapturedStep>(doc._id, { memberId: doc.memberId, step: 'captured', entryId: paid, at: clock.now() });
      return;
    }
    // Only a hold this attempt did not place may have been resolved already (by a retry, the sweeper); the ledger finds
    // such a resolution by a scan on FerretDB, which every loser of a flash sale would otherwise pay.
    if (holdId) await step('release', () => deps.points.releaseHold(holdId, caller, { fingerprint: `${doc._id}:release`, retry: knownHold === null }).catch(ignoreCode('HOLD_NOT_ACTIVE')));
    await step('give_back', () => giveBack(doc));
  }

  /**
   * Takes an issued redemption's points: captures its hold, and answers the entry that did. A hold that timed out
   * before the capture (the sweep came more than its 24 h late: the capture shares the time-out's op id, so it answers
   * HOLD_NOT_ACTIVE) gave the points back, so they are taken again as a spend under an op id of their own. If the member
   * no longer has them, the voucher cannot stand unpaid: it is voided (closed as cancelled, its stock and limit given
   * back, nothing to refund) and undefined is answered.
   */
  async function pay(doc: RedemptionDoc, holdId: string, caller: Caller, retry: boolean): Promise<string | undefined> {
    try {
      return (await deps.points.captureHold(holdId, {}, caller, { fingerprint: `${doc._id}:capture`, retry })).entry._id;
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'HOLD_NOT_ACTIVE')) throw err;
    }
    try {
      const ref = { type: 'redemption', id: doc._id };
      return (await deps.points.spendPoints(doc.memberId, { amount: doc.points, code: 'redemption', ref }, { opId: ops(doc._id).spend, actor: SYSTEM, retry: true })).entry._id;
    } catch (err) {
      if (!isRefusal(err)) throw err;
    }
    const { step } = await repo.commitStep<CloseStep>(doc._id, { memberId: doc.memberId, step: 'close', outcome: 'cancelled', unpaid: true, actor: SYSTEM, at: clock.now() });
    if (step.unpaid) await giveBack(doc);
    return undefined;
  }

  /** Returns the redemption's unit(s) of stock and its limit slot(s), each once, if they were taken. */
  async function giveBack(doc: RedemptionDoc): Promise<void> {
    const op = ops(doc._id);
    if (doc.stocked) {
      const parts = await deps.stock.findTake(doc.benefit, op.stock);
      if (parts) await deps.stock.giveBack(doc.benefit, op.stock, parts);
    }
    if (doc.limit) await deps.limits.giveBack(doc.memberId, doc.benefit, doc.limit.key, op.limit);
  }

  /** Loads a redemption the caller may see: its member, the backend or ops (another member's → 404). */
  async function visible(caller: Caller, id: string): Promise<Redemption> {
    const memberId = memberOfRedemption(id);
    if (!memberId || (caller.role === 'member' && caller.sub !== memberId)) throw notFound('redemption');
    const r = await repo.get(id);
    if (!r) throw notFound('redemption');
    return r;
  }

  /**
   * Ends an issued voucher's life once: used, cancelled or expired. A repeat of the same outcome answers it again;
   * any other outcome after it is refused. A cancellation refunds the points and returns the stock and the limit.
   */
  async function close(caller: Caller, r: Redemption, outcome: CloseStep['outcome']): Promise<Redemption> {
    const status = statusOf(r);
    if (status === 'pending' || status === 'failed') throw conflict('REDEMPTION_NOT_ISSUED', 'the redemption has no voucher (it is still under way or failed)');
    const refunds = refundsOn(outcome);
    const recordId = `${KIND_CLOSE}|${r.doc._id}`;
    if (refunds) await deps.sweeper.owe([{ _id: recordId, kind: KIND_CLOSE, memberId: r.doc.memberId, dueAt: clock.now(), data: { id: r.doc._id } }]);
    const { step } = await repo.commitStep<CloseStep>(r.doc._id, { memberId: r.doc.memberId, step: 'close', outcome, refunded: refunds, actor: { role: caller.role, sub: caller.sub }, at: clock.now() });
    if (step.outcome !== outcome) {
      // The record is one per redemption: when the outcome that won refunds too, it is the winner's to finish.
      if (refunds && !refundsOn(step.outcome)) deps.sweeper.discharge(recordId);
      throw conflict(`VOUCHER_${step.outcome.toUpperCase()}`, `the voucher was already ${step.outcome}`);
    }
    faults.at(`redemption:after-${outcome}`);
    if (refunds) {
      await undoClosed(r.doc, step);
      deps.sweeper.discharge(recordId);
    }
    return { ...r, close: step };
  }

  /** Whether closing a voucher this way gives its points back (an expiry only with BENEFIT_EXPIRED_VOUCHER_POINTS=refund). */
  function refundsOn(outcome: CloseStep['outcome']): boolean {
    return outcome === 'cancelled' || (outcome === 'expired' && deps.expiredPoints === 'refund');
  }

  /**
   * A voucher past its expiresAt that no sweep has closed yet is expired by whoever reaches it first: a use or a
   * cancellation then is refused as it would be after the sweep (so an expired voucher cannot be cancelled for a refund
   * the expiry policy keeps). If another outcome closed it first, the caller's own close answers (the same outcome
   * again, or its refusal). Errors: 409 VOUCHER_EXPIRED.
   */
  async function expireIfDue(r: Redemption): Promise<void> {
    if (!r.end?.expiresAt || r.end.expiresAt.getTime() > clock.now().getTime() || r.close) return;
    const expired = await close(SYSTEM, r, 'expired').then(
      () => true,
      (err: unknown) => (isRefusal(err) ? false : Promise.reject(err)),
    );
    if (expired) throw conflict('VOUCHER_EXPIRED', 'the voucher has expired');
  }

  /** A closed voucher's refund (and, for a cancellation, its stock and limit back), each once. */
  async function undoClosed(doc: RedemptionDoc, step: CloseStep): Promise<void> {
    if (doc.points > 0 && !step.unpaid) {
      const captureId = (await repo.captured(doc._id)) ?? (await captureOf(doc));
      await deps.points.reverseEntry(captureId, { code: step.outcome === 'cancelled' ? 'redemption_cancelled' : 'voucher_expired' }, { opId: ops(doc._id).refund, actor: SYSTEM, retry: true });
    }
    if (step.outcome === 'cancelled') await giveBack(doc);
  }

  /** The capture of an issued redemption whose `captured` step is missing (its request died): capture it now. */
  async function captureOf(doc: RedemptionDoc): Promise<string> {
    const end = (await repo.get(doc._id))?.end;
    if (!end) throw new Error(`redemption ${doc._id} has no outcome`);
    await settle(doc, end, SYSTEM, null);
    const id = await repo.captured(doc._id);
    if (!id) throw new Error(`redemption ${doc._id} has no capture`);
    return id;
  }

  // What an ops redemption or cancellation came to, for an audit record its request did not live to write.
  deps.audit.check('redemption.create', async (intent) => {
    const r = await repo.get(intent.target.id);
    return r && statusOf(r) !== 'failed' ? { after: auditView(r) } : undefined;
  });
  deps.audit.check('redemption.cancel', async (intent) => {
    const r = await repo.get(intent.target.id);
    return r?.close?.outcome === 'cancelled' && r.close.actor.sub === intent.actor.sub ? { after: auditView(r) } : undefined;
  });

  // The sweeper's side: a redemption whose request died is finished (or undone) as the request would have.
  deps.sweeper.on(KIND_SAGA, async (record: DueRecord) => {
    const r = await repo.get(String(record.data.id));
    if (r) await drive(r, SYSTEM, true).catch(ignoreRefusals);
  });
  deps.sweeper.on(KIND_CLOSE, async (record: DueRecord) => {
    const r = await repo.get(String(record.data.id));
    if (r?.close && refundsOn(r.close.outcome)) await undoClosed(r.doc, r.close);
  });
  deps.sweeper.on(KIND_EXPIRE, async (record: DueRecord) => {
    const r = await repo.get(String(record.data.id));
    if (r && statusOf(r) === 'issued') await close(SYSTEM, r, 'expired').catch(ignoreRefusals);
  });

  return {
    redeem,
    get: visible,
    async use(caller: Caller, id: string): Promise<Redemption> {
      const r = await visible(caller, id);
      await expireIfDue(r);
      return close(caller, r, 'used');
    },
    /** Cancels an unused voucher (audited when ops do). Errors: 404, 409 REDEMPTION_NOT_ISSUED, VOUCHER_USED, VOUCHER_EXPIRED. */
    async cancel(caller: Caller, id: string, requestId?: string): Promise<Redemption> {
      const change = {
        kind: 'redemption.cancel', key: id, actor: caller, action: 'redemption.cancel', target: { type: 'redemption', id }, before: { status: 'issued' }, requestId,
        outcome: (r: Redemption) => ({ after: auditView(r) }),
      };
      return deps.audit.audited(change, async () => {
        const r = await visible(caller, id);
        await expireIfDue(r);
        return close(caller, r, 'cancelled');
      });
    },
    list: repo.list,
    /** Starts a redemption recorded by someone else (an ops grant): free, no limit, no idempotency key of its own. */
    start,
  };
}
export type RedemptionsService = ReturnType<typeof redemptionsService>;

/** A redemption as its audit record shows it. */
const auditView = (r: Redemption) => ({ id: r.doc._id, memberId: r.doc.memberId, benefitCode: r.doc.benefit, quantity: r.doc.quantity, points: r.doc.points, status: statusOf(r) });

const isRefusal = (err: unknown): err is AppError => err instanceof AppError && (err.status === 409 || err.status === 403);
const ignoreRefusals = (err: unknown): void => {
  if (!isRefusal(err)) throw err;
};
const errorOf = (err: AppError): EndStep['error'] => ({ status: err.status, code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
