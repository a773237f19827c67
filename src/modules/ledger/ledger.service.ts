import type { Clock } from '../../platform/clock.js';
import { AppError, conflict, notFound, validationFailed } from '../../platform/errors.js';
import type { Faults } from '../../platform/faults.js';
import { KeyedQueue } from '../../platform/keyed-queue.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Sweeper } from '../../platform/sweeper.js';
import { expiryFor } from './expiry.js';
import { committer, ignoreCode, laterOf, type CommandResult, type CommitDeps, type Operation, type Ref, type ResolutionRequest } from './ledger.commit.js';
import { dueKindOf, parseEntryId, type EntryDoc, type Head, type LedgerStore } from './ledger.model.js';
import * as rules from './ledger.state.js';

export type { CommandResult, Operation, Ref, ResolutionRequest } from './ledger.commit.js';

const DAY_MS = 86_400_000;

export type LedgerDeps = {
  store: LedgerStore;
  clock: Clock;
  metrics: Metrics;
  faults?: Faults;
  /** Refuses commands for members that do not exist (404) or are frozen (409 MEMBER_FROZEN). */
  assertActive: (memberId: string) => Promise<unknown>;
  /** Is there such a member at all (for reads of accounts with no entries yet)? */
  memberExists: (memberId: string) => Promise<boolean>;
  /** `maxAmount`: the most one command may move (MAX_POINTS_AMOUNT). */
  policy: { expiry: string; programTimezone: string; holdTtlSeconds: number; maxAmount: number };
  name: string;
  /** Where due lots and holds are recorded when they open, and swept from when they come due. */
  due: Pick<Sweeper, 'owe' | 'on' | 'sweep'>;
  /** Told of each entry once it landed, with the state before it (the points ledger writes its rollup fact). */
  onCommitted?: CommitDeps['onCommitted'];
};

/**
 * The ledger's use cases. Each commits with exactly one insert of an entry carrying the account's state after it;
 * a writer that loses the race for the next seq re-reads and retries, and commands for one account are queued
 * within the process so that they rarely race at all.
 */
export function ledgerService(deps: LedgerDeps) {
  const { store, clock } = deps;
  const queue = new KeyedQueue();
  const { commit, settleAndCommit, run, settleDue, resolutionOp } = committer(deps, queue);
  const dueKind = dueKindOf(deps.name);
  deps.due.on(dueKind, async (record) => {
    await queue.run(record.memberId, () => settleDue(record.memberId, clock.now(), true));
  });

  /**
   * For a reversal: how much of an entry older than the reversed entries the state lists was reversed as of `head`,
   * from the records written when it left the list (a few reads by _id), for each head the reversal is decided on.
   */
  const reversalsOf = (memberId: string, targetId: string) => async (head: Head) =>
    rules.reversalsUnlisted(head.state, targetId) ? store.reversedSoFar(memberId, targetId, head.seq) : undefined;

  /**
   * Every amount the ledger moves is a whole number of points from 1 to the maximum, whoever asks (PRODUCT.md §4): the
   * routes' schemas say so too, but events, check-ins, tasks and grants reach the ledger without them.
   */
  function checkAmount(path: string, value: number | undefined, { lowest = 1, signed = false } = {}): void {
    if (value === undefined) return;
    const max = deps.policy.maxAmount;
    const size = signed ? Math.abs(value) : value;
    if (Number.isSafeInteger(value) && size >= lowest && size <= max) return;
    const range = signed ? `a whole number from -${max} to ${max}, not 0` : `a whole number from ${lowest} to ${max}`;
    throw validationFailed([{ path, message: `must be ${range} (MAX_POINTS_AMOUNT)` }], `${path} is not an amount of points the ledger can move`);
  }

  /**
   * An availability is a real instant at most MAX_PENDING_DAYS ahead, and an asked expiry comes after it: a point must
   * never be due while it is still pending (a lot that expired before it was ever spendable would be a promise broken).
   */
  function checkAvailability(input: { expiresAt?: Date; availableAt?: Date }): void {
    const at = input.availableAt?.getTime();
    if (at === undefined) return;
    if (!Number.isFinite(at) || at > clock.now().getTime() + rules.MAX_PENDING_DAYS * DAY_MS) {
      throw validationFailed([{ path: 'body.availableAt', message: `must be an instant at most ${rules.MAX_PENDING_DAYS} days ahead` }]);
    }
    if (input.expiresAt && input.expiresAt.getTime() <= at) {
      throw validationFailed([{ path: 'body.expiresAt', message: 'must be after availableAt: points never expire before they are available' }]);
    }
  }

  function memberOf(id: string): string {
    const parsed = parseEntryId(id);
    if (!parsed) throw notFound('entry');
    return parsed.memberId;
  }

  return {
    /**
     * Credits points as a lot expiring per the policy (or at `expiresAt`). With `availableAt`, the points are pending
     * until then: in the balance, not spendable, paying no debt, and expiring per the policy counted from when they
     * become available; an `availableAt` already passed when the earn is decided credits available points.
     * Errors: 404 NOT_FOUND (member), 409 MEMBER_FROZEN, 400 VALIDATION_FAILED (expiresAt not in the future or not after
     * availableAt, availableAt more than MAX_PENDING_DAYS ahead).
     */
    async earnPoints(memberId: string, input: { amount: number; code: string; ref?: Ref; expiresAt?: Date; availableAt?: Date }, op: Operation) {
      checkAmount('amount', input.amount);
      checkAvailability(input);
      return run(
        memberId,
        op,
        'earn',
        () =>
          commit(memberId, op, 'earn', input, (state, now) => {
            if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
              throw new AppError(400, 'VALIDATION_FAILED', 'expiresAt must be in the future', { issues: [{ path: 'body.expiresAt', message: 'must be in the future' }] });
            }
            const pendingUntil = input.availableAt && input.availableAt.getTime() > now.getTime() ? input.availableAt : null;
            const expiresAt = input.expiresAt ?? expiryFor(deps.policy.expiry, pendingUntil ?? now, deps.policy.programTimezone);
            return rules.earn(state, input.amount, expiresAt, now, pendingUntil);
          }),
        () => deps.assertActive(memberId),
      );
    },

    /** Spends points, soonest-expiring lots first. Errors: 404, 409 MEMBER_FROZEN, 409 INSUFFICIENT_POINTS. */
    async spendPoints(memberId: string, input: { amount: number; code: string; ref?: Ref }, op: Operation) {
      checkAmount('amount', input.amount);
      const spend = () => settleAndCommit(memberId, op, 'spend', input, (state, now) => rules.spend(state, input.amount, now));
      return run(memberId, op, 'spend', spend, () => deps.assertActive(memberId));
    },

    /** Reserves points until captured, released or timed out. Errors: 404, 409 MEMBER_FROZEN, 409 INSUFFICIENT_POINTS. */
    async holdPoints(memberId: string, input: { amount: number; code: string; ref?: Ref; ttlSeconds?: number }, op: Operation) {
      checkAmount('amount', input.amount);
      const ttl = input.ttlSeconds ?? deps.policy.holdTtlSeconds;
      const hold = () =>
        settleAndCommit(memberId, op, 'hold', input, (state, now, nextId) =>
          rules.hold(state, nextId, input.amount, new Date(now.getTime() + ttl * 1000), input.code, now),
        );
      return run(memberId, op, 'hold', hold, () => deps.assertActive(memberId));
    },

    /**
     * Captures all or part of a hold (the rest is released). A hold past its time is released instead.
     * Errors: 404 NOT_FOUND, 409 HOLD_NOT_ACTIVE, 409 CAPTURE_EXCEEDS_HOLD.
     */
    async captureHold(holdId: string, input: { amount?: number }, actor: Operation['actor'], request: ResolutionRequest) {
      return this.resolveHold(holdId, 'capture', input.amount, actor, request);
    },

    /** Releases a hold. Errors: 404 NOT_FOUND, 409 HOLD_NOT_ACTIVE. */
    async releaseHold(holdId: string, actor: Operation['actor'], request: ResolutionRequest) {
      return this.resolveHold(holdId, 'release', 0, actor, request);
    },

    async resolveHold(holdId: string, command: 'capture' | 'release', amount: number | undefined, actor: Operation['actor'], request: ResolutionRequest) {
      checkAmount('amount', amount, { lowest: 0 });
      const memberId = memberOf(holdId);
      const holdEntry = await store.get(holdId);
      if (!holdEntry || holdEntry.kind !== 'hold') throw notFound('hold');
      // A retry after a crash must find its own landed resolution, not answer HOLD_NOT_ACTIVE for it.
      const op = resolutionOp(holdId, actor, request);
      // A hold past its time resolves as a time-out, whoever asks first (the settling); then this request finds it inactive.
      const result = await run(memberId, op, command, () =>
        settleAndCommit(memberId, op, command, { code: holdEntry.code, ref: holdEntry.ref }, (state, now) =>
          rules.resolveHold(state, holdId, command === 'capture' ? (amount ?? rules.findHold(state, holdId)?.amount ?? 0) : 0, now),
        ),
      );
      return { ...result, hold: holdEntry };
    },

    /**
     * Reverses all or part of an earn, spend or capture. Errors: 404 NOT_FOUND, 409 NOT_REVERSIBLE,
     * 409 ALREADY_REVERSED, 409 REVERSAL_EXCEEDS_ENTRY.
     */
    async reverseEntry(targetId: string, input: { amount?: number; code: string }, op: Operation) {
      checkAmount('amount', input.amount);
      const memberId = memberOf(targetId);
      const target = await store.get(targetId);
      if (!target) throw notFound('entry');
      const reversible = { id: target._id, kind: target.kind, points: target.points, lots: target.lots, availableAt: target.availableAt ?? null };
      return run(memberId, op, 'reverse', () =>
        settleAndCommit(
          memberId,
          op,
          'reverse',
          { code: input.code, ref: target.ref },
          (state, now, _id, soFar) => rules.reverse(state, reversible, input.amount, now, soFar),
          reversalsOf(memberId, target._id),
        ),
      );
    },

    /**
     * Reverses an entry until `upTo` of it is reversed in all (refunds in proportion to what was refunded so far). The
     * amount is decided against the account's current state inside its queue, so concurrent refunds of one order never
     * take back more than their total share. Returns undefined when that much is already reversed. Errors: 404.
     */
    async reverseEntryUpTo(targetId: string, input: { upTo: number; code: string }, op: Operation): Promise<CommandResult | undefined> {
      checkAmount('upTo', input.upTo, { lowest: 0 });
      const memberId = memberOf(targetId);
      const target = await store.get(targetId);
      if (!target) throw notFound('entry');
      const reversible = { id: target._id, kind: target.kind, points: target.points, lots: target.lots, availableAt: target.availableAt ?? null };
      return run(memberId, op, 'reverse', () =>
        settleAndCommit(
          memberId,
          op,
          'reverse',
          { code: input.code, ref: target.ref },
          (state, now, _id, soFar) => {
            const x = Math.min(input.upTo, target.points) - rules.reversedOf(state, target._id, soFar);
            if (x <= 0) throw conflict('NOTHING_TO_REVERSE', 'that much of the entry is already reversed');
            return rules.reverse(state, reversible, x, now, soFar);
          },
          reversalsOf(memberId, target._id),
        ),
      ).catch(ignoreCode('NOTHING_TO_REVERSE'));
    },

    /** An ops correction: a credit (a new lot) or a debit (like a spend). Errors: 404, 409 INSUFFICIENT_POINTS. */
    async adjustPoints(memberId: string, input: { delta: number; code: string }, op: Operation) {
      checkAmount('delta', input.delta, { signed: true });
      if (!(await deps.memberExists(memberId))) throw notFound('member');
      return run(memberId, op, 'adjust', () =>
        settleAndCommit(memberId, op, 'adjust', { code: input.code }, (state, now) =>
          rules.adjust(state, input.delta, input.delta > 0 ? expiryFor(deps.policy.expiry, now, deps.policy.programTimezone) : null, now),
        ),
      );
    },

    /** The current balance of a member. Errors: 404 NOT_FOUND. */
    async getBalance(memberId: string): Promise<{ head: Head; now: Date }> {
      const head = await store.freshHead(memberId);
      if (head.seq === 0 && !(await deps.memberExists(memberId))) throw notFound('member');
      return { head, now: laterOf(clock.now(), head.at) };
    },

    /** A page of history, newest first, optionally of one kind. Errors: 404 NOT_FOUND. */
    async listEntries(memberId: string, opts: { beforeSeq?: number; limit: number; kinds?: string[] }) {
      const { head } = await this.getBalance(memberId);
      let before = Math.min(opts.beforeSeq ?? head.seq + 1, head.seq + 1);
      const items: EntryDoc[] = [];
      // Read by _id in batches; a kind filter reads at most 10 batches before handing back a cursor.
      for (let batch = 0; batch < 10 && before > 1 && items.length < opts.limit; batch++) {
        const page = await store.page(memberId, before, Math.max(opts.limit, 20));
        for (const e of page) {
          before = e.seq;
          if (!opts.kinds || opts.kinds.includes(e.kind)) items.push(e);
          if (items.length === opts.limit) break;
        }
        if (page.length === 0) break;
      }
      return { items, nextBeforeSeq: before > 1 ? before : undefined };
    },

    /** Expires due lots and times out due holds wherever they are recorded as due now (the sweeper's work for this ledger). */
    sweep: () => deps.due.sweep({ kinds: [dueKind] }),

    /** Expires due lots and times out due holds of the given accounts now, recorded or not (operators, recovery). */
    async sweepAccounts(memberIds: string[]): Promise<{ accounts: number; resolved: number }> {
      const now = clock.now();
      let resolved = 0;
      for (const memberId of memberIds) resolved += await queue.run(memberId, () => settleDue(memberId, now, true));
      return { accounts: memberIds.length, resolved };
    },

    getEntry: (id: string) => store.get(id),
    /** The entry an operation committed on a member's account, if any: a scan on FerretDB v1, for recovery paths only. */
    findOperation: (memberId: string, opId: string) => store.findByOpId(memberId, opId),
    flush: () => store.flush(),
  };
}
export type LedgerService = ReturnType<typeof ledgerService>;
