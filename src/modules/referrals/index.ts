import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.js';
import type { FactSink, FactSource } from '../../platform/facts.js';
import type { Faults } from '../../platform/faults.js';
import type { Route } from '../../platform/http/route.js';
import type { Sweeper } from '../../platform/sweeper.js';
import type { AuditTrail } from '../audit/index.js';
import type { LedgerService } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import { referralBinding } from './binding.js';
import { hasher } from './codes.js';
import { referralPrograms } from './programs.js';
import { referralsRepository } from './referrals.model.js';
import { referralsRoutes } from './referrals.routes.js';
import { referralsService, type ReferralsService } from './referrals.service.js';
import { referralRewards, type GrantPort } from './rewards.js';

export type { ReferralsService } from './referrals.service.js';
export type { GrantPort } from './rewards.js';
export { maskName, newReferralCode, REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH } from './codes.js';

export type ReferralsDeps = {
  db: Connection;
  clock: Clock;
  audit: AuditTrail;
  members: MembersService;
  points: LedgerService;
  grants: GrantPort;
  benefitExists: (code: string) => Promise<boolean>;
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
  config: { baseUrl: string; bindWindowDays: number; hashKey: string };
  programTimezone: string;
  /** Receives each binding's and step's rollup fact once it landed (docs/ANALYTICS.md). */
  facts: FactSink;
  faults?: Faults;
};

/**
 * Invite a friend (PRODUCT.md §9, docs/REFERRALS.md): codes, bindings, the versioned program, the referral state
 * machine paid through the ledger and the grants, and the fraud guards with ops' review. The events module calls
 * `service.progressFromEvent`; the members module calls `service.onRegistered` (wired here).
 */
export function createReferralsModule(deps: ReferralsDeps): { service: ReferralsService; routes: Route[]; init: () => Promise<void>; factSource: FactSource } {
  const { db, clock, members, sweeper, programTimezone } = deps;
  const faults = deps.faults ? { faults: deps.faults } : {};
  const repo = referralsRepository(db, { clock, facts: deps.facts, ...faults });
  const programs = referralPrograms({ repo, clock, audit: deps.audit, benefitExists: deps.benefitExists });
  const binding = referralBinding({ repo, clock, members, programs, sweeper, hash: hasher(deps.config.hashKey), bindWindowDays: deps.config.bindWindowDays, programTimezone });
  const rewards = referralRewards({ repo, clock, members, points: deps.points, grants: deps.grants, programs, sweeper, programTimezone, ...faults });
  const service = referralsService({ repo, clock, audit: deps.audit, members, programs, binding, rewards, sweeper, baseUrl: deps.config.baseUrl, ...faults });
  members.onRegistered(service.onRegistered);
  members.addSummaryProvider(async (member) => ({ referral: await service.summary(member.memberId) }));
  return { service, routes: referralsRoutes(service, programs), init: () => repo.init(), factSource: repo.factSource };
}
