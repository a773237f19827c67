import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.js';
import type { FactSink, FactSource } from '../../platform/facts.js';
import type { Route } from '../../platform/http/route.js';
import { stampCheck, type AuditTrail } from '../audit/index.js';
import { membersFactSource } from './members.facts.js';
import { membersRepository } from './members.model.js';
import { membersRoutes } from './members.routes.js';
import { membersService, type MembersService } from './members.service.js';

export type { MembersService, SummaryProvider, RegistrationListener } from './members.service.js';
export type { MemberView, RegistrationReferral } from './members.schemas.js';
export { deviceSchema, memberIdSchema, timezoneSchema } from './members.schemas.js';

/** Members (PRODUCT.md §3): registration, profile, status. Each registration's rollup fact goes to `facts`. */
export function createMembersModule(deps: { db: Connection; clock: Clock; defaultTimezone: string; audit: AuditTrail; facts: FactSink }): {
  service: MembersService;
  routes: Route[];
  init: () => Promise<void>;
  factSource: FactSource;
} {
  const repo = membersRepository(deps.db);
  const service = membersService({ repo, clock: deps.clock, defaultTimezone: deps.defaultTimezone, audit: deps.audit, facts: deps.facts });
  const stamped = stampCheck((memberId) => repo.find(memberId));
  deps.audit.check('member.create', stamped);
  deps.audit.check('member.update', stamped);
  return { service, routes: membersRoutes(service), init: () => repo.ensureIndexes(), factSource: membersFactSource(repo.collection) };
}
