import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.js';
import type { Route } from '../../platform/http/route.js';
import { stampCheck, type AuditTrail } from '../audit/index.js';
import { membersRepository } from './members.model.js';
import { membersRoutes } from './members.routes.js';
import { membersService, type MembersService } from './members.service.js';

export type { MembersService, SummaryProvider, RegistrationListener } from './members.service.js';
export type { MemberView, RegistrationReferral } from './members.schemas.js';
export { deviceSchema, memberIdSchema, timezoneSchema } from './members.schemas.js';

/** Members (PRODUCT.md §3): registration, profile, status. */
export function createMembersModule(deps: { db: Connection; clock: Clock; defaultTimezone: string; audit: AuditTrail }): {
  service: MembersService;
  routes: Route[];
  init: () => Promise<void>;
} {
  const repo = membersRepository(deps.db);
  const service = membersService({ repo, clock: deps.clock, defaultTimezone: deps.defaultTimezone, audit: deps.audit });
  const stamped = stampCheck((memberId) => repo.find(memberId));
  deps.audit.check('member.create', stamped);
  deps.audit.check('member.update', stamped);
  return { service, routes: membersRoutes(service), init: () => repo.ensureIndexes() };
}
