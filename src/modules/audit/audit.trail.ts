import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import type { DueRecord, Sweeper } from '../../platform/sweeper.js';
import type { AuditRepository } from './audit.model.js';

/** The due work an audit intent is recorded as. */
const KIND_INTENT = 'audit.intent';
/** How long a mutation's request has to write its own record before the sweep looks at its intent. */
export const AUDIT_GRACE_MS = 60_000;

export type AuditTarget = { type: string; id: string };

/** An audited mutation as recorded before it runs: what its record will say unless its outcome says otherwise. */
export type AuditIntent = {
  /** The audit record's `_id`, and the stamp a mutation of stamped state writes next to it. */
  id: string;
  /** Names the check that tells whether the mutation committed (registered with `check`). */
  kind: string;
  actor: { role: string; sub: string };
  action: string;
  target: AuditTarget;
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
  /** What the check needs to find the mutation (an op id, the version it came after). */
  hint: Record<string, unknown>;
  at: Date;
};

/** What a mutation did, read from its result or from the committed state: each field given replaces the intent's. */
export type AuditOutcome = { action?: string; target?: AuditTarget; before?: unknown; after?: unknown };

/**
 * Tells whether an intent's mutation committed, from the state it writes: its outcome when it did, undefined when it
 * did not. Called by the sweep for a request that died, and on a refusal; must only read.
 */
export type CommitCheck = (intent: AuditIntent) => Promise<AuditOutcome | undefined>;

export type AuditedMutation<T> = {
  kind: string;
  actor: Caller;
  action: string;
  target: AuditTarget;
  /**
   * The mutation's own identity when it has one (its idempotency scope, the op id derived from it, the one decision of
   * a referral), so a retry audits once. Without one, each call is a new mutation with a new id.
   */
  key?: string;
  /** What the target was (null where nothing was, or for an adjustment or a grant: the request). */
  before?: unknown;
  /** What the mutation writes, when that is known before it runs (a configuration); else read by `outcome`. */
  after?: unknown;
  reason?: string | null | undefined;
  requestId?: string | undefined;
  hint?: Record<string, unknown>;
  /**
   * The audit id stamped on the state this mutation overwrites: if its request died before writing its record, the
   * record is written now, before the stamp (the only proof that mutation committed) is gone.
   */
  replaces?: string | undefined;
  /** What the mutation did, from its result. */
  outcome?: (result: T) => AuditOutcome;
};

export type AuditTrail = {
  audited<T>(mutation: AuditedMutation<T>, mutate: (auditId: string | undefined) => Promise<T>): Promise<T>;
  check(kind: string, check: CommitCheck): void;
};

/**
 * A check for state that carries the audit id of the last audited write to it (`auditId`): the mutation committed
 * when the stamp is its own. A later write that replaces the stamp names it in `replaces`, so its record is settled first.
 */
export const stampCheck =
  (read: (targetId: string) => Promise<{ auditId?: string | undefined } | null>): CommitCheck =>
  async (intent) =>
    (await read(intent.target.id))?.auditId === intent.id ? {} : undefined;

const dueIdOf = (auditId: string) => `${KIND_INTENT}|${auditId}`;

/**
 * Ops mutations and their audit records, which a crash cannot part (docs/DECISIONS.md, "Audit"): the intent is
 * recorded as due work before the mutation, the record is written after it, and a sweep finishes an intent whose
 * request died in between by asking the module's check whether the mutation committed. Records are unique inserts
 * under the mutation's id, so the request, a retry and the sweep write one record between them.
 */
export function auditTrail(deps: { repo: AuditRepository; clock: Clock; sweeper: Sweeper; faults?: Faults | undefined }): AuditTrail {
  const { repo, clock, sweeper } = deps;
  const faults = deps.faults ?? noFaults;
  const checks = new Map<string, CommitCheck>();

  const write = (intent: AuditIntent, outcome: AuditOutcome) =>
    repo.insert({
      _id: intent.id,
      actor: intent.actor,
      action: outcome.action ?? intent.action,
      target: outcome.target ?? intent.target,
      before: (outcome.before !== undefined ? outcome.before : intent.before) ?? null,
      after: (outcome.after !== undefined ? outcome.after : intent.after) ?? null,
      reason: intent.reason,
      requestId: intent.requestId,
      at: intent.at,
    });

  /** Writes the record of an intent whose mutation committed, and nothing for one that did not. */
  async function finish(intent: AuditIntent): Promise<void> {
    if (await repo.has(intent.id)) return;
    const check = checks.get(intent.kind);
    if (!check) throw new Error(`no commit check for ${intent.kind}; a version that knows it will finish the intent`);
    const outcome = await check(intent);
    if (outcome) await write(intent, outcome);
  }

  const intentOf = (record: DueRecord) => record.data as unknown as AuditIntent;
  sweeper.on(KIND_INTENT, (record) => finish(intentOf(record)));

  /** Settles the intent behind a stamp about to be overwritten (its request died before writing its record). */
  async function settle(auditId: string): Promise<void> {
    if (await repo.has(auditId)) return;
    const record = await sweeper.get(dueIdOf(auditId));
    if (!record) return;
    await finish(intentOf(record));
    sweeper.discharge(record._id);
  }

  /**
   * Runs `mutate` as an audited ops mutation; callers of other roles run it unaudited. `mutate` gets the audit id to
   * stamp on the state it writes (undefined when unaudited). A refusal (a 4xx) leaves no record unless the check
   * finds the mutation committed all the same; any other failure leaves the intent for the sweep.
   */
  async function audited<T>(m: AuditedMutation<T>, mutate: (auditId: string | undefined) => Promise<T>): Promise<T> {
    if (m.actor.role !== 'ops') return mutate(undefined);
    const intent: AuditIntent = {
      id: `${m.kind}:${m.key ?? `${m.target.id}:${randomUUID()}`}`,
      kind: m.kind,
      actor: { role: m.actor.role, sub: m.actor.sub },
      action: m.action,
      target: m.target,
      before: m.before ?? null,
      after: m.after ?? null,
      reason: m.reason ?? null,
      requestId: m.requestId ?? null,
      hint: m.hint ?? {},
      at: clock.now(),
    };
    const dueId = dueIdOf(intent.id);
    const memberId = m.target.type === 'member' ? m.target.id : `audit:${m.target.type}`;
    await sweeper.owe([{ _id: dueId, kind: KIND_INTENT, memberId, dueAt: new Date(intent.at.getTime() + AUDIT_GRACE_MS), data: { ...intent } }]);
    if (m.replaces) await settle(m.replaces);
    faults.at('audit:before-mutation');
    let result: T;
    try {
      result = await mutate(intent.id);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        // Refused: nothing to record, unless what was refused is a retry of a mutation that had committed.
        await finish(intent).then(() => sweeper.discharge(dueId), () => undefined);
      }
      throw err;
    }
    faults.at('audit:after-mutation');
    await write(intent, m.outcome?.(result) ?? {});
    sweeper.discharge(dueId);
    return result;
  }

  return {
    audited,
    /** Registers how the sweep tells whether a mutation of `kind` committed. */
    check(kind, check) {
      checks.set(kind, check);
    },
  };
}
