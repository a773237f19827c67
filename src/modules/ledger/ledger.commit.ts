import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { isDuplicateKey } from '../../platform/db/connection.js';
import { AppError, conflict } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { KeyedQueue } from '../../platform/keyed-queue.js';
import type { IdempotencyInfo } from '../../platform/http/router.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Sweeper } from '../../platform/sweeper.js';
import { dueKindOf, dueRecordId, entryId, refusalId, type EntryDoc, type Head, type LedgerStore, type RefusalDoc } from './ledger.model.js';
import * as rules from './ledger.state.js';
import type { AccountState, Draft } from './ledger.state.js';

/** Who asked, and under which operation: the op id makes the command happen at most once (PRODUCT.md §4). */
export type Operation = {
  /** Unique per logical operation: derived from the caller and its idempotency key, or from what it resolves. */
  opId: string;
  /** Fingerprint of the request; a replay with another request under the same op id is refused. */
  fingerprint?: string;
  actor: { role: string; sub: string };
  /** True when an earlier attempt of this operation may have committed (a retry after a crash or timeout). */
  retry?: boolean;
  /** The answer when the operation already landed for a different request (default: IDEMPOTENCY_KEY_REUSED). */
  taken?: () => AppError;
  /**
   * Keyed requests: a refusal decided on the account's truth is recorded under the op id, so the key answers it again
   * whatever happens to the balance, and a request re-sent after its idempotency record was purged finds its outcome.
   */
  recordRefusal?: boolean;
  /**
   * System operations whose decision is idempotent on the state itself (a lot's expiry: what is free in a due lot),
   * so each entry they write gets its own op id (derived from `opId` and the entry id) and they can land again later.
   */
  perEntry?: boolean;
};

export type Ref = { type: string; id: string };
/** A request resolving a hold: its fingerprint tells it from other requests, `retry` that an earlier attempt may have landed. */
export type ResolutionRequest = { fingerprint: string; retry: boolean };
export type CommandResult = { entry: EntryDoc; replayed: boolean };

/**
 * How often a command re-reads and retries after losing the race for the next seq. Within a process, writes to one
 * account are queued; across processes a writer that lost is behind the winner's next write, so it keeps losing for a
 * while (three instances spending from one account: a retry lost about 3 times in 4, and runs of 15 losses occurred,
 * so 12 attempts gave 503s). 48 make a 503 CONTENTION about one in a million commands there, after some 1–2 s of backoff.
 */
export const COMMIT_ATTEMPTS = 48;
/** The pause before attempt `attempt + 1` of a commit that lost its seq: random, growing, at most 50 ms. */
export const raceBackoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 50)));

/**
 * The operation a keyed request commits: its op id derives from the caller-scoped Idempotency-Key (in `namespace`,
 * e.g. `points`), so retries land once and a key used again after its record is purged still lands nothing twice.
 */
export function keyedOperation(namespace: string, command: string, caller: Operation['actor'], idem: IdempotencyInfo | undefined): Operation {
  if (!idem) throw new AppError(500, 'INTERNAL', 'idempotency info missing', undefined, false);
  return { opId: derivedOpId(namespace, command, idem.scope), fingerprint: idem.fingerprint, actor: caller, retry: idem.retry, recordRefusal: true };
}

/** The op id for an operation keyed by something else (a hold's resolution, a lot's expiry, an event, a checked day). */
export const derivedOpId = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');

export type CommitDeps = {
  store: LedgerStore;
  clock: Clock;
  metrics: Metrics;
  faults?: Faults;
  name: string;
  /** Where due lots and holds are recorded when they open (before the entry that opens them). */
  due: Pick<Sweeper, 'owe'>;
  /** Told of each entry once it landed, with the state before it (the points ledger writes its rollup fact); must not throw. */
  onCommitted?: (before: AccountState, entry: EntryDoc) => void;
};

/**
 * How one ledger commits: each command decides on an account's head and lands with exactly one insert of an entry
 * carrying the state after it (docs/LEDGER.md). `queue` is the ledger's per-account queue, which every command of
 * this process runs in.
 */
export function committer(deps: CommitDeps, queue: KeyedQueue) {
  const { store, clock, metrics } = deps;
  const faults = deps.faults ?? noFaults;
  const dueKind = dueKindOf(deps.name);

  /** The time a command on this head decides at: the process clock, or the head's own time if that is later. */
  const timeOf = (head: Head) => laterOf(clock.now(), head.at);

  /**
   * Decides against the account's head and commits; see docs/LEDGER.md for why this is exactly-once. A command may be
   * decided on the head this process remembers, but a refusal never is: it is decided again on the head read from the
   * database (after settling what is due there), and a keyed command's refusal is then recorded under its op id.
   */
  async function commit(
    memberId: string,
    op: Operation,
    command: string,
    fields: { code: string; ref?: Ref | null },
    decide: (state: AccountState, now: Date, nextId: string, prepared?: number) => Draft,
    /** Reads what the decision needs beyond the head (an old entry's reversals), for each head it is decided on. */
    prepare?: (head: Head) => Promise<number | undefined>,
  ): Promise<CommandResult> {
    if (op.retry) {
      const earlier = landed(op, await store.findOutcome(memberId, op.opId));
      if (earlier) return earlier;
    }
    const known = store.knownHead(memberId);
    let head: Head = known ?? (await store.freshHead(memberId));
    let fresh = !known;
    let settled = false;
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const now = timeOf(head);
      const seq = head.seq + 1;
      const id = entryId(memberId, seq);
      const opId = op.perEntry ? derivedOpId(op.opId, id) : op.opId;
      let draft: Draft;
      const prepared = prepare ? await prepare(head) : undefined;
      try {
        draft = decide(head.state, now, id, prepared);
        const unsafe = rules.unsafeNumbers(draft.state);
        if (unsafe.length > 0) throw conflict('BALANCE_LIMIT', 'the account cannot hold a balance that large', { fields: unsafe });
      } catch (err) {
        if (!isRefusal(err)) throw err;
        if (!fresh) {
          head = await store.freshHead(memberId);
          fresh = true;
          continue;
        }
        if (!settled && !SETTLING.has(command) && hasDueWork(head.state, now)) {
          // Points held by a timed-out hold, or sitting in a due lot, are not what refuses a command: settle them first.
          settled = true;
          await settleDue(memberId, now, true);
          head = await store.freshHead(memberId);
          continue;
        }
        return refuse(memberId, op, err, now);
      }
      const entry: EntryDoc = {
        _id: id,
        memberId,
        seq,
        opId,
        fingerprint: op.fingerprint ?? null,
        kind: draft.kind,
        amount: draft.amount,
        points: draft.points,
        code: fields.code,
        ref: fields.ref ?? null,
        lots: draft.lots ?? [],
        holdId: draft.holdId ?? null,
        reverses: draft.reverses ?? null,
        expired: draft.expired ?? 0,
        expiresAt: draft.expiresAt ?? null,
        ...(draft.availableAt ? { availableAt: draft.availableAt } : {}),
        actor: op.actor,
        createdAt: now,
        state: draft.state,
      };
      // A lot that starts holding free points, or a new hold, is recorded as due work before the entry that opens it
      // lands: the sweep finds it there, whatever becomes of this process or of the accounts cache.
      // So is the total of each reversed entry it drops from the state's list (a later reversal of it reads it there).
      const owed = rules.openedDue(head.state, draft.state);
      await Promise.all([
        owed.length > 0 ? deps.due.owe(owed.map((o) => ({ _id: dueRecordId(deps.name, id, o.item), kind: dueKind, memberId, dueAt: o.dueAt, data: {} }))) : undefined,
        draft.dropped ? store.recordDropped(memberId, seq, opId, draft.dropped) : undefined,
      ]);
      faults.at(`${command}:before-insert`);
      try {
        await store.insert(entry);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Either another writer took this seq (re-read and decide again) or this operation already landed.
        const atSeq = await store.get(id);
        const replay = landed({ ...op, opId }, atSeq);
        if (replay) return replay;
        if (!atSeq) {
          const earlier = landed(op, await store.findOutcome(memberId, op.opId));
          if (earlier) return earlier;
        }
        metrics.seqRaceRetries.inc({ log: deps.name });
        store.forgetHead(memberId);
        await raceBackoff(attempt);
        head = await store.freshHead(memberId);
        fresh = true;
        continue;
      }
      faults.at(`${command}:after-insert`);
      deps.onCommitted?.(head.state, entry);
      return { entry, replayed: false };
    }
    throw new AppError(503, 'CONTENTION', 'the account is too busy right now; retry with the same idempotency key');
  }

  /**
   * Answers a refusal decided on the account's truth. A keyed command records it under its op id first; if something
   * already landed there (this request's earlier attempt, or a refusal recorded for it), that is the answer instead.
   */
  async function refuse(memberId: string, op: Operation, err: AppError, now: Date): Promise<CommandResult> {
    if (op.recordRefusal) {
      const doc: RefusalDoc = {
        _id: refusalId(memberId, op.opId),
        memberId,
        opId: op.opId,
        fingerprint: op.fingerprint ?? null,
        kind: 'refusal',
        error: { status: err.status, code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
        createdAt: now,
      };
      try {
        await store.insertRefusal(doc);
      } catch (insertErr) {
        if (!isDuplicateKey(insertErr)) throw insertErr;
        const earlier = landed(op, await store.findOutcome(memberId, op.opId));
        if (earlier) return earlier;
      }
    }
    // An unrecorded refusal (a hold already resolved, say) may still hide this operation's own earlier landing.
    throw op.recordRefusal ? final(err) : err;
  }

  /**
   * Runs a command in the account's queue, counting its outcome. A refusal from outside the decision (a member frozen
   * since, a hold already resolved) is checked against an earlier landing of the same operation: a retry after a crash,
   * or a request re-sent after its idempotency record was purged, answers what it landed.
   */
  async function run(
    memberId: string,
    op: Operation,
    command: string,
    body: () => Promise<CommandResult>,
    before?: () => Promise<unknown>,
  ): Promise<CommandResult> {
    try {
      await before?.();
      const result = await queue.run(memberId, body);
      metrics.ledgerCommands.inc({ ledger: deps.name, command, outcome: result.replayed ? 'replayed' : 'committed' });
      return result;
    } catch (err) {
      if (isRefusal(err) && !finalErrors.has(err) && (op.retry || op.recordRefusal || err.code === 'HOLD_NOT_ACTIVE')) {
        const earlier = landed(op, await store.findOutcome(memberId, op.opId));
        if (earlier) {
          metrics.ledgerCommands.inc({ ledger: deps.name, command, outcome: 'replayed' });
          return earlier;
        }
      }
      metrics.ledgerCommands.inc({ ledger: deps.name, command, outcome: err instanceof AppError ? err.code : 'error' });
      throw err;
    }
  }

  /** Expires due lots and times out due holds of one account, each with its own op id; safe to repeat. */
  async function settleDue(memberId: string, now: Date, fresh = false): Promise<number> {
    let done = 0;
    // A command trusts the head this process knows (its commit re-reads on a lost race, and spends never touch due
    // lots); only a sweep pays for reading the newest head, which on FerretDB v1 means a lookup of an absent entry.
    const head = (!fresh && store.knownHead(memberId)) || (await store.freshHead(memberId));
    const work = rules.dueWork(head.state, laterOf(now, head.at));
    for (const lot of work.lots) {
      // Expiring what is free in a due lot is idempotent on the state, so each expiry entry has its own op id: points
      // that come back to an expired lot (a hold released, a spend reversed) are expired again, never left behind.
      const op = { opId: derivedOpId(deps.name, 'expire', memberId, lot), actor: { role: 'system', sub: 'expiry' }, perEntry: true };
      await commit(memberId, op, 'expire', { code: 'expiry' }, (state, t) => {
        const d = rules.expireLot(state, lot, t);
        if (!d) throw conflict('NOTHING_TO_EXPIRE', 'the lot has nothing left to expire');
        return d;
      }).catch(ignoreCode('NOTHING_TO_EXPIRE'));
      done++;
    }
    for (const holdId of work.holds) {
      await commit(memberId, resolutionOp(holdId, { role: 'system', sub: 'hold-timeout' }), 'release', { code: 'hold_timeout' }, (state, t) =>
        rules.resolveHold(state, holdId, 0, t),
      ).catch(ignoreCode('HOLD_NOT_ACTIVE'));
      done++;
    }
    return done;
  }

  /** Every resolution of a hold (capture, release, time-out) shares one op id, so exactly one of them can land. */
  const resolutionOp = (holdId: string, actor: Operation['actor'], request?: ResolutionRequest): Operation => ({
    opId: derivedOpId(deps.name, 'resolve', holdId),
    actor,
    ...request,
    taken: holdNotActive,
  });

  /** For commands that consume points: first settles what is due on the account this process knows, then commits. */
  async function settleAndCommit(...args: Parameters<typeof commit>): Promise<CommandResult> {
    await settleDue(args[0], clock.now());
    return commit(...args);
  }

  return { commit, settleAndCommit, run, settleDue, resolutionOp, timeOf };
}

/**
 * The earlier landing of this operation, if `e` is it. The same operation asked by a different request (another body
 * under the same key, or another request resolving the same hold) is refused with `op.taken`.
 */
export function landed<E extends { opId: string; fingerprint: string | null }>(op: Operation, e: E | RefusalDoc | null): { entry: E; replayed: boolean } | undefined {
  if (!e || e.opId !== op.opId) return undefined;
  if (op.fingerprint && e.fingerprint !== op.fingerprint) {
    throw final((op.taken ?? (() => conflict('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request')))());
  }
  if (isRefusalDoc(e)) throw final(new AppError(e.error.status, e.error.code, e.error.message, e.error.details));
  return { entry: e, replayed: true };
}

export const laterOf = (now: Date, at: Date | null) => (at && at.getTime() > now.getTime() ? at : now);

const isRefusalDoc = (e: { opId: string } | RefusalDoc): e is RefusalDoc => (e as { kind?: string }).kind === 'refusal';

/** A refusal: the business answer a command can be decided to (409), as opposed to bad input or a failure. */
const isRefusal = (err: unknown): err is AppError => err instanceof AppError && err.status === 409;

/** Refusals that already are the operation's recorded outcome: nothing earlier can have landed under its op id. */
const finalErrors = new WeakSet<object>();
function final(err: AppError): AppError {
  finalErrors.add(err);
  return err;
}

/** Commands that settle due work themselves (a refusal of theirs never waits for a settlement). */
const SETTLING = new Set(['expire', 'release']);
const hasDueWork = (s: AccountState, now: Date) => {
  const work = rules.dueWork(s, now);
  return work.lots.length > 0 || work.holds.length > 0;
};

const holdNotActive = () => conflict('HOLD_NOT_ACTIVE', 'the hold was already captured, released or timed out');

export const ignoreCode = (code: string) => (err: unknown): undefined => {
  if (!(err instanceof AppError && err.code === code)) throw err;
  return undefined;
};
