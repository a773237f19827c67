import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.js';
import type { Route } from '../../platform/http/route.js';
import { stampCheck, type AuditTrail } from '../audit/index.js';
import { rulesRepository } from './rules.model.js';
import { rulesRoutes } from './rules.routes.js';
import { rulesService, type RulesService } from './rules.service.js';

export type { RulesService } from './rules.service.js';
export type { MemberContext, Evaluation, Rule } from './rules.evaluate.js';
export { eventTypeSchema, ruleBody, ruleCodeSchema } from './rules.schemas.js';

/** Earning rules (PRODUCT.md §5): what ops configure so events pay points and growth. */
export function createRulesModule(deps: { db: Connection; clock: Clock; audit: AuditTrail; programTimezone: string }): {
  service: RulesService;
  routes: Route[];
  init: () => Promise<void>;
} {
  const repo = rulesRepository(deps.db);
  const service = rulesService({ repo, clock: deps.clock, audit: deps.audit, programTimezone: deps.programTimezone });
  deps.audit.check('earning-rule.put', stampCheck((code) => repo.get(code)));
  return { service, routes: rulesRoutes(service), init: () => repo.init() };
}
