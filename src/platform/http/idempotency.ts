import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Clock } from '../clock.js';
import { ensureCollection, insertOnce } from '../db/connection.js';
import { AppError, conflict } from '../errors.js';
import { InjectedCrash, noFaults, type Faults } from '../faults.js';
import { errorBody } from './error-handler.js';
import type { Liveness } from '../liveness.js';
import type { Caller, Route, RouteResult } from './route.js';
import type { IdempotencyInfo, RouteWrapper } from './router.js';

/**
 * A claim on one generation of a key: only its owner executes. A retry takes a claim over when its owner process is
 * gone (it stopped, or its heartbeat went silent: seconds, see liveness.ts), or, whatever the owner, after `leaseUntil`.
 */
type ClaimDoc = { _id: string; fingerprint: string; owner?: string; leaseUntil: Date; createdAt: Date };
/** The recorded answer of a generation (`abandoned` when it failed with a 5xx and a retry may run it again). */
type ResultDoc = { _id: string; fingerprint: string; status: number; body: unknown; abandoned: boolean; createdAt: Date };

const KEY = /^[\x20-\x7e]{1,128}$/;
/** The longest a claim holds against retries while its owner lives (no request runs that long). */
const LEASE_MS = 10 * 60_000;
const WAIT_STEP_MS = 20;
const ABANDON_RETRY_MS = 500;
const MAX_GENERATIONS = 20;

const sha = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');

/** The caller-scoped id of a key: the same key from another caller is another key. */
export const scopeOf = (caller: Caller, key: string) => sha(caller.role, caller.sub, key);
/** What tells one request from another under a key: method, path and the body in canonical form. */
export const fingerprintOf = (method: string, path: string, body: unknown) => sha(method, path, canonical(body ?? null));

/** JSON with sorted keys, so the same body always has the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key handling for routes marked `idempotent` (PRODUCT.md §2). Keys are scoped to the caller. A repeat
 * with the same request answers the recorded status and body with `Idempotent-Replayed: true`; another request under
 * the same key gets 409 IDEMPOTENCY_KEY_REUSED; concurrent repeats wait for the first. Records are inserts keyed by
 * _id (claim, then result), never conditional updates, so the guarantee holds on every engine we run on.
 */
export function idempotencyWrapper(
  db: Connection,
  clock: Clock,
  liveness: Pick<Liveness, 'owner' | 'isGone'>,
  faults: Faults = noFaults,
): {
  wrap: RouteWrapper;
  init: () => Promise<void>;
  purge: (before: Date) => Promise<{ claims: number; results: number }>;
  flush: () => Promise<void>;
} {
  const claimsModel = db.model('IdempotencyClaim', new Schema({}, { collection: 'idempotency_claims', strict: false, versionKey: false }));
  const resultsModel = db.model('IdempotencyResult', new Schema({}, { collection: 'idempotency_results', strict: false, versionKey: false }));
  const claims = claimsModel.collection as unknown as Collection<ClaimDoc>;
  const results = resultsModel.collection as unknown as Collection<ResultDoc>;
  /** Requests of this process under way per scope, so concurrent repeats wait on a promise instead of polling. */
  const inflight = new Map<string, Promise<unknown>>();

  const replay = (r: ResultDoc): RouteResult => ({ status: r.status, body: r.body, headers: { 'Idempotent-Replayed': 'true' } });
  const reused = () => conflict('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');

  /** Abandoned attempts not yet recorded as such (the database failed then too), retried until they land. */
  const unrecorded = new Map<string, string>();
  let retryTimer: NodeJS.Timeout | undefined;

  /**
   * Records that an attempt failed, so a waiter takes the key over at once. Its owner lives on, so nothing else would
   * ever tell a waiter the attempt is over: if the database refuses this record too, it is retried in the background
   * until it lands (the claim's 10-minute hold must never be what frees the key).
   */
  async function abandon(id: string, fingerprint: string): Promise<void> {
    try {
      faults.at('idempotency:before-abandon');
      await record(id, fingerprint, 500, null, true);
    } catch {
      unrecorded.set(id, fingerprint);
      retryTimer ??= setTimeout(retryAbandons, ABANDON_RETRY_MS);
      retryTimer.unref();
    }
  }

  async function retryAbandons(): Promise<void> {
    for (const [id, fingerprint] of unrecorded) {
      try {
        await record(id, fingerprint, 500, null, true);
        unrecorded.delete(id);
      } catch {
        break; // the database is still away: try again later
      }
    }
    retryTimer = unrecorded.size > 0 ? setTimeout(retryAbandons, ABANDON_RETRY_MS) : undefined;
    retryTimer?.unref();
  }

  async function record(id: string, fingerprint: string, status: number, body: unknown, abandoned = false): Promise<void> {
    await insertOnce(results, { _id: id, fingerprint, status, body, abandoned, createdAt: clock.now() });
  }

  /**
   * Whether a claim's owner can no longer answer it. A claim of this very process is orphaned (a request of this scope
   * here would be awaited before this one runs, so none is running); another process's is when that process is gone.
   */
  async function ownerGone(claim: ClaimDoc): Promise<boolean> {
    if (claim.leaseUntil.getTime() <= clock.now().getTime()) return true;
    if (!claim.owner) return false;
    return claim.owner === liveness.owner || (await liveness.isGone(claim.owner));
  }

  /** Answers of this process whose records are still being written, so a shutdown waits for them. */
  const recording = new Set<Promise<void>>();

  /**
   * Records a generation's answer off the request path: the operation below already landed what it did (and replays it
   * from its own records), so the caller need not wait for a write that only speeds up and shortens a repeat. Repeats
   * of this scope in this process wait for it (see `wrap`); another process's repeat waits on the claim meanwhile; if
   * the record fails, the attempt is recorded as abandoned so a repeat runs again and the operation replays what landed.
   */
  function recordLater(id: string, fingerprint: string, status: number, body: unknown): Promise<void> {
    const p = record(id, fingerprint, status, body)
      .catch(() => abandon(id, fingerprint))
      .finally(() => recording.delete(p));
    recording.add(p);
    return p;
  }

  /** Runs a request under its key: its answer, and a promise settled once that answer is recorded for repeats. */
  async function execute(
    ctx: Context,
    scope: string,
    fingerprint: string,
    run: (info: IdempotencyInfo) => Promise<RouteResult>,
  ): Promise<{ result: RouteResult; recorded: Promise<void> }> {
    for (let gen = 1; gen <= MAX_GENERATIONS; ) {
      const id = `${scope}#${gen}`;
      const now = clock.now();
      if (!(await insertOnce(claims, { _id: id, fingerprint, owner: liveness.owner, leaseUntil: new Date(now.getTime() + LEASE_MS), createdAt: now }))) {
        const result = await results.findOne({ _id: `${id}/r` });
        if (result) {
          if (result.fingerprint !== fingerprint) throw reused();
          if (result.abandoned) {
            gen++;
            continue;
          }
          return { result: replay(result), recorded: Promise.resolve() };
        }
        const claim = await claims.findOne({ _id: id });
        if (claim && claim.fingerprint !== fingerprint) throw reused();
        if (claim && !(await ownerGone(claim))) {
          await new Promise((r) => setTimeout(r, WAIT_STEP_MS)); // another process is on it: wait for its answer
          continue;
        }
        gen++; // its owner is gone: take the next generation over
        continue;
      }
      const info: IdempotencyInfo = { scope, fingerprint, retry: gen > 1 };
      let result: RouteResult;
      try {
        result = await run(info);
      } catch (err) {
        if (err instanceof InjectedCrash) throw err; // a dead process records nothing: its claim's lease must run out
        if (!(err instanceof AppError && err.status < 500)) {
          // A crash-like failure: leave the answer open so a retry runs the operation again (it is idempotent below).
          await abandon(`${id}/r`, fingerprint);
          throw err;
        }
        result = { status: err.status, body: errorBody(err, ctx.state.requestId as string) };
      }
      try {
        faults.at('idempotency:before-record');
      } catch (err) {
        if (err instanceof InjectedCrash) throw err;
        // The answer cannot be recorded: answer it, and let a repeat run it again (the layers below replay what landed).
        return { result, recorded: abandon(`${id}/r`, fingerprint) };
      }
      return { result, recorded: recordLater(`${id}/r`, fingerprint, result.status, result.body) };
    }
    throw new AppError(503, 'CONTENTION', 'too many attempts under this idempotency key; retry later');
  }

  const wrap: RouteWrapper = async (route: Route, ctx: Context, caller: Caller, raw: unknown, run) => {
    if (!route.idempotent) return run({});
    const key = typeof route.idempotent === 'object' ? route.idempotent.keyFrom(raw) : ctx.get('Idempotency-Key');
    if (!KEY.test(key)) {
      throw new AppError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'send an Idempotency-Key header of 1–128 printable characters');
    }
    const scope = scopeOf(caller, key);
    const fingerprint = fingerprintOf(ctx.method, ctx.path, raw);
    for (;;) {
      const pending = inflight.get(scope);
      if (!pending) break;
      await pending.catch(() => {});
    }
    const p = execute(ctx, scope, fingerprint, (info) => run({ idempotency: info }));
    // A repeat in this process waits until this answer is recorded (or the attempt failed), then reads it from there.
    const settled: Promise<void> = p.then(
      (r) => r.recorded,
      () => undefined,
    );
    inflight.set(scope, settled);
    void settled.then(() => {
      if (inflight.get(scope) === settled) inflight.delete(scope);
    });
    return (await p).result;
  };

  return {
    wrap,
    /** Waits for the answers still being recorded (shutdown and tests); one that fails is left abandoned or retried. */
    flush: async () => {
      while (recording.size > 0) await Promise.allSettled([...recording]);
    },
    init: async () => {
      await ensureCollection(claimsModel);
      await ensureCollection(resultsModel);
    },
    /**
     * Deletes claims and answers recorded before `before` (a scan on FerretDB v1: a daily job, never a request). A key
     * used again after its records are gone runs as new, and lands nothing twice: every operation below has an op id
     * derived from the key, unique forever, so the ledger, check-ins and events replay what it did then.
     */
    async purge(before: Date): Promise<{ claims: number; results: number }> {
      const r = await results.deleteMany({ createdAt: { $lt: before } });
      const c = await claims.deleteMany({ createdAt: { $lt: before } });
      return { claims: c.deletedCount, results: r.deletedCount };
    },
  };
}
