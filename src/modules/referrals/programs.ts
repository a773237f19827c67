import { cachedFor } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, validationFailed } from '../../platform/errors.js';
import type { Caller } from '../../platform/http/route.js';
import type { AuditTrail } from '../audit/index.js';
import type { ProgramDoc, ReferralsRepository } from './referrals.model.js';
import type { ProgramInput } from './referrals.schemas.js';

/** Until ops save one, the program is version 0: inactive (nobody binds), with the schema's defaults. */
const DEFAULT_PROGRAM: ProgramDoc = {
  _id: 0,
  active: false,
  qualifying: { eventType: 'order.paid', minAmount: 0, withinDays: 30 },
  rewards: { referrer: {}, invitee: {} },
  monthlyCap: null,
  milestones: [],
  holdDays: 14,
  fraud: { maxInviteesPerDevice: 1, maxBindsPerIpPerDay: 3 },
  updatedAt: new Date(0),
  actor: 'default',
};

export const toProgramView = (p: ProgramDoc) => {
  const { _id, updatedAt, actor: _actor, auditId: _auditId, ...program } = p;
  return { ...program, version: _id, updatedAt: _id === 0 ? null : updatedAt.toISOString() };
};

/**
 * The referral program's versions (PRODUCT.md §9): every save is the next version, claimed by a unique insert; a
 * referral keeps the version it was bound under (its qualifying event, rewards, hold period), while caps, milestones
 * and fraud thresholds are read from the newest version when they are applied.
 */
export function referralPrograms(deps: { repo: ReferralsRepository; clock: Clock; audit: AuditTrail; benefitExists: (code: string) => Promise<boolean> }) {
  const { repo } = deps;
  let knownVersion = 0;
  /** Versions are immutable: once read, kept. */
  const versions = new Map<number, ProgramDoc>([[0, DEFAULT_PROGRAM]]);

  /** The newest version in the database, walking forward by _id from the newest this process has seen. */
  async function newest(): Promise<ProgramDoc> {
    let current = versions.get(knownVersion) ?? DEFAULT_PROGRAM;
    for (let next = await repo.nextProgram(current._id); next; next = await repo.nextProgram(current._id)) {
      versions.set(next._id, next);
      current = next;
    }
    knownVersion = Math.max(knownVersion, current._id);
    return current;
  }
  /** Every qualifying event reads the program, so it is served from memory for up to 2 s, as earning rules are. */
  const cached = cachedFor(2000, newest);

  const programTarget = (version: number) => ({ type: 'referral-program', id: String(version) });
  // A save committed when a version after the newest it saw carries its audit id.
  deps.audit.check('referral-program.put', async (intent) => {
    for (let v = Number(intent.hint.after); ; v++) {
      const doc = await repo.nextProgram(v);
      if (!doc) return undefined;
      if (doc.auditId === intent.id) return { target: programTarget(doc._id), before: toProgramView((await repo.program(v)) ?? DEFAULT_PROGRAM), after: toProgramView(doc) };
    }
  });

  return {
    /** The program in force (up to 2 s old on instances other than the one that saved it). */
    current: () => cached.get(),

    /** One version; a referral's own. Errors: none (a version a binding names always exists). */
    async version(v: number): Promise<ProgramDoc> {
      const known = versions.get(v);
      if (known) return known;
      const doc = await repo.program(v);
      if (!doc) throw new Error(`referral program version ${v} is missing`);
      versions.set(v, doc);
      return doc;
    },

    /**
     * Saves the program as the next version (audited). Errors: 400 VALIDATION_FAILED (a reward benefit not in the
     * catalogue), 503 CONTENTION (other saves took the next version ten times in a row).
     */
    async put(caller: Caller, input: ProgramInput, requestId: string): Promise<ProgramDoc> {
      for (const side of ['referrer', 'invitee'] as const) {
        const code = input.rewards[side].benefitCode;
        if (code && !(await deps.benefitExists(code))) throw validationFailed([{ path: `body.rewards.${side}.benefitCode`, message: `no benefit ${code} in the catalogue` }]);
      }
      const known = await newest();
      const change = {
        kind: 'referral-program.put', actor: caller, action: 'referral-program.update', target: programTarget(known._id + 1), before: toProgramView(known), after: input,
        requestId, hint: { after: known._id },
        outcome: (saved: { doc: ProgramDoc; before: ProgramDoc }) => ({ target: programTarget(saved.doc._id), before: toProgramView(saved.before), after: toProgramView(saved.doc) }),
      };
      const { doc } = await deps.audit.audited(change, async (auditId) => {
        let before = known;
        for (let attempt = 0; attempt < 10; attempt++) {
          const doc: ProgramDoc = { ...input, _id: before._id + 1, updatedAt: deps.clock.now(), actor: `${caller.role}:${caller.sub}`, ...(auditId ? { auditId } : {}) };
          if (await repo.insertProgram(doc)) {
            versions.set(doc._id, doc);
            cached.invalidate();
            return { doc, before };
          }
          before = await newest();
        }
        throw new AppError(503, 'CONTENTION', 'the referral program is being changed concurrently; retry');
      });
      return doc;
    },
  };
}
export type ReferralPrograms = ReturnType<typeof referralPrograms>;
