import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Clock } from '../../platform/clock.js';
import { AppError, conflict } from '../../platform/errors.js';
import type { Sweeper } from '../../platform/sweeper.js';
import type { MembersService, MemberView } from '../members/index.js';
import { newReferralCode, type Hasher } from './codes.js';
import type { ReferralPrograms } from './programs.js';
import type { BindingDoc, ReferralsRepository } from './referrals.model.js';

const DAY_MS = 86_400_000;
/** How far up a chain of referrers the cycle check walks (the join-order rule below makes a cycle impossible anyway). */
const MAX_CHAIN = 64;
/** When the sweeper finishes a binding whose request died before listing the invitee under its referrer. */
const INDEX_GRACE_MS = 60_000;
export const KIND_INDEX = 'referrals.index';
export const KIND_EXPIRE = 'referrals.expire';

export type Device = { id?: string | undefined; ip?: string | undefined };
export type Hashes = { deviceHash: string | null; ipHash: string | null };

export type BindingDeps = {
  repo: ReferralsRepository;
  clock: Clock;
  members: MembersService;
  programs: ReferralPrograms;
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
  hash: Hasher;
  /** REFERRAL_BIND_WINDOW_DAYS, unless the program sets its own. */
  bindWindowDays: number;
  programTimezone: string;
};

/** A member registered before another (ties broken by id): only such a member can have invited the other. */
const joinedBefore = (a: MemberView, b: MemberView) => {
  const [ta, tb] = [Date.parse(a.createdAt), Date.parse(b.createdAt)];
  return ta < tb || (ta === tb && a.memberId < b.memberId);
};

/**
 * Invite codes and bindings (PRODUCT.md §9): a member's code is created on first need; an invitee binds to a referrer
 * once, by the unique insert of its binding, after the refusals and the fraud guards.
 */
export function referralBinding(deps: BindingDeps) {
  const { repo, clock } = deps;
  const { counters } = repo;

  /**
   * The member's code, created on first need: a code claimed by `_id`, then the member's claim on it. Two racing
   * creations both claim a code, but only one member claim lands, and both answer that one (the other code is dead).
   */
  async function codeOf(memberId: string): Promise<string> {
    const known = await repo.memberCode(memberId);
    if (known) return known.code;
    const at = clock.now();
    let code = newReferralCode();
    while (!(await repo.claimCode({ _id: code, memberId, at }))) code = newReferralCode();
    if (await repo.claimMemberCode({ _id: memberId, code, at })) return code;
    const winner = await repo.memberCode(memberId);
    if (!winner) throw new Error(`referral code of ${memberId} was claimed but cannot be read`);
    return winner.code;
  }

  /** The member a code belongs to: its owner, if the owner's claim names this code (a dead code belongs to nobody). */
  async function ownerOf(code: string): Promise<string | undefined> {
    const owner = await repo.codeOwner(code);
    if (!owner) return undefined;
    return (await repo.memberCode(owner.memberId))?.code === code ? owner.memberId : undefined;
  }

  /** Is `referrer` bound, directly or up its chain, to `invitee`? */
  async function leadsTo(referrer: string, invitee: string): Promise<boolean> {
    let at = referrer;
    for (let hop = 0; hop < MAX_CHAIN; hop++) {
      const up = await repo.binding(at);
      if (!up) return false;
      if (up.referrer === invitee) return true;
      at = up.referrer;
    }
    return false;
  }

  /**
   * The guards that can be counted at binding time, each a counter chain whose entry for this invitee lands once (its
   * op id), so a retried bind does not count twice: invitees of the referrer on this device, binds from this IP today,
   * and the referrer's own registration device. Counted before the binding lands, so an attempt that then loses a race
   * is counted too: the guards err towards review.
   */
  async function guards(referrer: string, invitee: string, h: Hashes, now: Date): Promise<string[]> {
    const { fraud } = await deps.programs.current();
    const flags: string[] = [];
    if (h.deviceHash) {
      if ((await repo.device(referrer))?.deviceHash === h.deviceHash) flags.push('shared_device');
      const { entry } = await counters.apply({ chain: `${referrer}|device|${h.deviceHash}`, shard: referrer, opId: `device:${invitee}`, kind: 'bind', decide: () => 1 });
      if (entry.value > fraud.maxInviteesPerDevice) flags.push('device_reuse');
    }
    if (h.ipHash) {
      const owner = `ip:${h.ipHash}`;
      const day = DateTime.fromJSDate(now, { zone: deps.programTimezone }).toISODate() as string;
      const { entry } = await counters.apply({ chain: `${owner}|${day}`, shard: owner, opId: `bind:${invitee}`, kind: 'bind', decide: () => 1 });
      if (entry.value > fraud.maxBindsPerIpPerDay) flags.push('ip_burst');
    }
    return flags;
  }

  /** Lists the invitee under its referrer (newest last), once: the entry's op id names the invitee. */
  const listInvitee = (b: BindingDoc) =>
    counters.apply({ chain: `${b.referrer}|invitees`, shard: b.referrer, opId: `invitee:${b._id}`, kind: 'invite', decide: () => 1, extra: { invitee: b._id } });

  const attemptOf = (record: { memberId: string; data: Record<string, unknown> }) => repo.binding(record.memberId).then((b) => (b?.attempt === record.data.attempt ? b : null));
  deps.sweeper.on(KIND_INDEX, async (record) => {
    const b = await attemptOf(record);
    if (b) await listInvitee(b);
  });
  deps.sweeper.on(KIND_EXPIRE, async (record) => {
    const b = await attemptOf(record);
    if (b) await repo.commitStep(b._id, { step: 'first', outcome: 'expired', scope: null, eventId: null, orderId: null, amount: null, occurredAt: null, at: clock.now() });
  });

  const hashesOf = (device: Device | undefined): Hashes => ({ deviceHash: deps.hash.device(device?.id), ipHash: deps.hash.ip(device?.ip) });

  return {
    codeOf,
    hashesOf,

    /** Hashes and keeps the device a member registered from (nothing when it sent none). */
    async recordDevice(memberId: string, device: Device | undefined): Promise<Hashes> {
      const h = hashesOf(device);
      if (h.deviceHash || h.ipHash) await repo.recordDevice({ _id: memberId, ...h, at: clock.now() });
      return h;
    },

    /**
     * Binds an invitee to the owner of `code`, guarded with the device hashes given (or those of its registration).
     * Binding again to the same referrer answers the binding (a double tap).
     * Errors: 404 NOT_FOUND (invitee), 404 REFERRAL_CODE_NOT_FOUND, 409 MEMBER_FROZEN (invitee), 409
     * REFERRAL_PROGRAM_INACTIVE, 409 SELF_REFERRAL, 409 ALREADY_BOUND, 409 BIND_WINDOW_CLOSED, 409 REFERRER_FROZEN,
     * 409 REFERRAL_CYCLE, 409 REFERRER_JOINED_LATER.
     */
    async bind(inviteeId: string, code: string, via: BindingDoc['via'], device?: Hashes): Promise<{ binding: BindingDoc; created: boolean }> {
      const invitee = await deps.members.assertActive(inviteeId);
      const program = await deps.programs.current();
      if (!program.active) throw conflict('REFERRAL_PROGRAM_INACTIVE', 'there is no active referral program to bind to');
      const referrerId = await ownerOf(code);
      if (!referrerId) throw new AppError(404, 'REFERRAL_CODE_NOT_FOUND', `no member has the referral code ${code}`);
      if (referrerId === inviteeId) throw conflict('SELF_REFERRAL', 'a member cannot use its own referral code');
      const existing = await repo.binding(inviteeId);
      if (existing) {
        if (existing.referrer === referrerId) return { binding: existing, created: false };
        throw conflict('ALREADY_BOUND', 'the member is already bound to a referrer');
      }
      const now = clock.now();
      const windowDays = program.bindWindowDays ?? deps.bindWindowDays;
      if (now.getTime() > Date.parse(invitee.createdAt) + windowDays * DAY_MS) {
        throw conflict('BIND_WINDOW_CLOSED', `a code can be bound within ${windowDays} days of registering`, { windowDays });
      }
      const referrer = await deps.members.getMember(referrerId);
      if (referrer.status === 'frozen') throw conflict('REFERRER_FROZEN', 'the owner of this code cannot refer members now');
      if (await leadsTo(referrerId, inviteeId)) throw conflict('REFERRAL_CYCLE', 'the owner of this code was itself referred, directly or up its chain, by this member');
      // Also what makes a cycle impossible when binds race (A binds to B while B binds to A): only the one who joined first can refer.
      if (!joinedBefore(referrer, invitee)) throw conflict('REFERRER_JOINED_LATER', 'the owner of this code joined after this member');

      // The device binding now if the caller knows it, else the one the invitee registered from.
      const h: Hashes = device ?? (await repo.device(inviteeId)) ?? { deviceHash: null, ipHash: null };
      const flags = await guards(referrerId, inviteeId, h, now);
      const doc: BindingDoc = {
        _id: inviteeId, referrer: referrerId, code, via, attempt: randomUUID(), programVersion: program._id, boundAt: now,
        qualifyBy: new Date(now.getTime() + program.qualifying.withinDays * DAY_MS), flags, deviceHash: h.deviceHash, ipHash: h.ipHash,
      };
      // Recorded before the binding lands: a crash after it still lists the invitee and expires the referral on time.
      const dues = [
        { _id: `${KIND_INDEX}|${inviteeId}|${doc.attempt}`, kind: KIND_INDEX, memberId: inviteeId, dueAt: new Date(now.getTime() + INDEX_GRACE_MS), data: { attempt: doc.attempt } },
        { _id: `${KIND_EXPIRE}|${inviteeId}|${doc.attempt}`, kind: KIND_EXPIRE, memberId: inviteeId, dueAt: doc.qualifyBy, data: { attempt: doc.attempt } },
      ];
      await deps.sweeper.owe(dues);
      if (!(await repo.insertBinding(doc))) {
        dues.forEach((d) => deps.sweeper.discharge(d._id));
        const winner = await repo.binding(inviteeId);
        if (winner?.referrer === referrerId) return { binding: winner, created: false };
        throw conflict('ALREADY_BOUND', 'the member is already bound to a referrer');
      }
      await listInvitee(doc);
      deps.sweeper.discharge(dues[0]!._id);
      return { binding: doc, created: true };
    },
  };
}
export type ReferralBinding = ReturnType<typeof referralBinding>;
