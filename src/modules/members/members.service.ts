import { Lru } from '../../platform/lru.js';
import type { Clock } from '../../platform/clock.js';
import type { FactSink } from '../../platform/facts.js';
import { isDuplicateKey } from '../../platform/db/connection.js';
import { AppError, conflict, forbidden, notFound } from '../../platform/errors.js';
import type { Caller } from '../../platform/http/route.js';
import type { AuditTrail } from '../audit/index.js';
import { memberFact } from './members.facts.js';
import { toMemberView, type MemberDoc, type MembersRepository } from './members.model.js';
import type { CreateMemberInput, MemberView, RegistrationAnswer, UpdateMemberInput } from './members.schemas.js';

/** What a role may change on a member (PRODUCT.md §3): members their own profile, ops the status too. */
const changeable: Record<Caller['role'], ReadonlySet<keyof UpdateMemberInput>> = {
  member: new Set(['displayName', 'timezone', 'birthday']),
  service: new Set(['displayName', 'timezone', 'birthday']),
  ops: new Set(['displayName', 'timezone', 'birthday', 'status']),
};

export type SummaryProvider = (member: MemberView) => Promise<Record<string, unknown>>;
/**
 * Told of each new member after it is stored, with what it registered with (the events module turns it into a
 * member.registered event; the referrals module hashes the device and binds the code). What a listener answers is
 * added to the registration's answer.
 */
export type RegistrationListener = (member: MemberView, registration: Pick<CreateMemberInput, 'device' | 'referralCode'>) => Promise<RegistrationAnswer | void>;

/**
 * How long a member read serves the hot paths (an event or a check-in reads its member up to five times: the use case,
 * then each ledger command). Changes made on this instance apply at once; on others within this time (docs/DECISIONS.md).
 */
const RECENT_MS = 1000;
const RECENT_MAX = 50_000;

export function membersService(deps: { repo: MembersRepository; clock: Clock; defaultTimezone: string; audit: AuditTrail; facts: FactSink }) {
  const { repo, clock } = deps;
  const summaryProviders: SummaryProvider[] = [];
  const registrationListeners: RegistrationListener[] = [];
  const recent = new Lru<string, { doc: MemberDoc; at: number }>(RECENT_MAX);

  function remember(doc: MemberDoc): MemberDoc {
    recent.set(doc._id, { doc, at: Date.now() });
    return doc;
  }

  async function load(memberId: string): Promise<MemberDoc> {
    const doc = await repo.find(memberId);
    if (!doc) throw notFound('member');
    return remember(doc);
  }

  /** A read for the hot paths: served from this instance's recent reads for up to RECENT_MS. */
  async function loadRecent(memberId: string): Promise<MemberDoc> {
    const hit = recent.get(memberId);
    return hit && Date.now() - hit.at < RECENT_MS ? hit.doc : load(memberId);
  }

  return {
    /**
     * Registers a member (audited when ops do), then tells the listeners; answers the member and what they added (the
     * referral binding). Raw device ids and IPs are handed to the listeners only, never stored here.
     * Errors: 409 MEMBER_EXISTS.
     */
    async registerMember(caller: Caller, input: CreateMemberInput, requestId?: string): Promise<{ member: MemberView } & RegistrationAnswer> {
      const now = clock.now();
      const fresh: MemberDoc = {
        _id: input.memberId,
        displayName: input.displayName ?? null,
        birthday: input.birthday ?? null,
        timezone: input.timezone ?? deps.defaultTimezone,
        status: 'active',
        createdAt: now,
        updatedAt: now,
      };
      const target = { type: 'member', id: input.memberId };
      const doc = await deps.audit.audited({ kind: 'member.create', actor: caller, action: 'member.create', target, after: toMemberView(fresh), requestId }, async (auditId) => {
        const stamped = auditId ? { ...fresh, auditId } : fresh;
        try {
          await repo.insert(stamped);
        } catch (err) {
          if (isDuplicateKey(err)) throw conflict('MEMBER_EXISTS', `member ${input.memberId} already exists`);
          throw err;
        }
        return stamped;
      });
      deps.facts.record(memberFact(doc));
      remember(doc);
      if (doc.birthday) await repo.claimOnce(doc._id, 'birthday', now);
      const member = toMemberView(doc);
      const answer: RegistrationAnswer = {};
      for (const listener of registrationListeners) Object.assign(answer, await listener(member, { device: input.device, referralCode: input.referralCode }));
      return { member, ...answer };
    },

    /** Errors: 404 NOT_FOUND. May be up to a second old when another instance changed the member. */
    async getMember(memberId: string): Promise<MemberView> {
      return toMemberView(await loadRecent(memberId));
    },

    /** The profile plus each module's part of the summary. Errors: 404 NOT_FOUND. */
    async getMemberWithSummary(memberId: string): Promise<{ member: MemberView; summary: Record<string, unknown> }> {
      const member = toMemberView(await load(memberId));
      const parts = await Promise.all(summaryProviders.map((p) => p(member)));
      return { member, summary: Object.assign({}, ...parts) as Record<string, unknown> };
    },

    /**
     * Changes a member's profile or status within what the caller's role may change (audited when ops do); the birthday
     * can be set once. Errors: 403 FORBIDDEN (a field the role may not change), 404 NOT_FOUND, 409 BIRTHDAY_ALREADY_SET.
     */
    async updateMember(caller: Caller, memberId: string, patch: UpdateMemberInput, requestId?: string): Promise<MemberView> {
      const refused = (Object.keys(patch) as Array<keyof UpdateMemberInput>).filter((k) => !changeable[caller.role].has(k));
      if (refused.length > 0) throw forbidden(`role ${caller.role} may not change ${refused.join(', ')}`);
      const current = await load(memberId);
      const now = clock.now();
      if (patch.birthday !== undefined && patch.birthday !== current.birthday && caller.role !== 'ops') {
        // Birthdays pay rewards, so members set theirs once; the claim is a unique insert, so two racing patches cannot both win.
        if (current.birthday !== null || !(await repo.claimOnce(memberId, 'birthday', now))) {
          throw conflict('BIRTHDAY_ALREADY_SET', 'the birthday can be set only once; ask support to correct it');
        }
      }
      const before = Object.fromEntries(Object.keys(patch).map((k) => [k, current[k as keyof MemberDoc]]));
      const change = { kind: 'member.update', actor: caller, action: 'member.update', target: { type: 'member', id: memberId }, before, after: patch, requestId, replaces: current.auditId };
      const updated = await deps.audit.audited(change, async (auditId) => {
        const doc = await repo.update(memberId, { ...patch, updatedAt: now, ...(auditId ? { auditId } : {}) });
        if (!doc) throw notFound('member');
        return doc;
      });
      remember(updated);
      return toMemberView(updated);
    },

    /** Lets another module react to registrations (PRODUCT.md §3: registration is itself an event). */
    onRegistered(listener: RegistrationListener): void {
      registrationListeners.push(listener);
    },

    /** Every member id, for jobs and previews (a scan). */
    listMemberIds: () => repo.listIds(),

    /** Lets another module add its part of the member summary (PRODUCT.md §3). */
    addSummaryProvider(provider: SummaryProvider): void {
      summaryProviders.push(provider);
    },

    /** For modules that must refuse work for frozen members. Errors: 404 NOT_FOUND, 409 MEMBER_FROZEN. */
    async assertActive(memberId: string): Promise<MemberView> {
      const member = toMemberView(await loadRecent(memberId));
      if (member.status === 'frozen') throw new AppError(409, 'MEMBER_FROZEN', 'the member is frozen and can neither earn nor spend');
      return member;
    },
  };
}
export type MembersService = ReturnType<typeof membersService>;
