import type { ReferralEffect } from '../events/index.js';
import type { PaidStep, Referral } from './referrals.model.js';
import type { ReferralState, ReferralView } from './referrals.schemas.js';
import type { Milestone } from './rewards.js';

/** A referral's state, from the steps that landed (docs/REFERRALS.md has the machine). */
export function stateOf(r: Referral): ReferralState {
  if (!r.first) return 'bound';
  if (r.first.outcome === 'expired') return 'expired';
  if (!r.route) return 'qualified';
  if (r.route.to === 'review' && r.decision?.outcome !== 'approved') return r.decision ? 'rejected' : 'review';
  if (r.close?.outcome === 'reversed') return 'reversed';
  return r.paid ? 'rewarded' : 'qualified';
}

const rewardsOf = (paid: PaidStep) => ({
  referrer: { points: paid.referrer.points, benefitCode: paid.referrer.benefitCode },
  invitee: { points: paid.invitee.points, benefitCode: paid.invitee.benefitCode },
  availableAt: paid.availableAt.toISOString(),
});

const reviewReasonsOf = (r: Referral) => (r.route?.to === 'review' ? r.route.reasons : []);

export function toReferralView(r: Referral): ReferralView {
  const { binding: b, first, decision } = r;
  const qualified = first?.outcome === 'qualified' ? first : null;
  return {
    invitee: b._id,
    referrer: b.referrer,
    code: b.code,
    via: b.via,
    state: stateOf(r),
    boundAt: b.boundAt.toISOString(),
    qualifyBy: b.qualifyBy.toISOString(),
    qualifiedAt: qualified?.occurredAt?.toISOString() ?? null,
    orderId: qualified?.orderId ?? null,
    reviewReasons: reviewReasonsOf(r),
    decision: decision ? { outcome: decision.outcome, note: decision.note, by: decision.by, at: decision.at.toISOString() } : null,
    rewards: r.paid ? rewardsOf(r.paid) : null,
    programVersion: b.programVersion,
  };
}

/** What an event did to a referral, for the event's answer; `rewards` for the qualifying event and a reversal only. */
export function toEffect(r: Referral, outcome: ReferralEffect['outcome'], reason: string | null, milestones: Milestone[] = []): ReferralEffect {
  const showsRewards = (outcome === 'qualified' || outcome === 'reversed') && r.paid;
  return {
    invitee: r.binding._id,
    referrer: r.binding.referrer,
    outcome,
    reason,
    state: stateOf(r),
    reviewReasons: reviewReasonsOf(r),
    rewards: showsRewards && r.paid ? rewardsOf(r.paid) : null,
    milestones,
  };
}

/** Opaque list cursors: base64url JSON, refused as a 400 when they do not parse. */
export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
export function decodeCursor<T>(cursor: string, valid: (v: unknown) => v is T): T | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    return valid(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
