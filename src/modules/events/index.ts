import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.js';
import type { Route } from '../../platform/http/route.js';
import type { LedgerService } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { RulesService } from '../rules/index.js';
import { eventsRepository } from './events.model.js';
import { eventsRoutes } from './events.routes.js';
import { eventsService, type EventsService, type OnGrowth, type TierContext } from './events.service.js';

export type { EventsService, TierContext } from './events.service.js';

/** Events (PRODUCT.md §5): what members did, turned into points and growth by the earning rules. */
export function createEventsModule(deps: {
  db: Connection;
  clock: Clock;
  members: MembersService;
  rules: RulesService;
  points: LedgerService;
  growth: LedgerService;
  tierContext?: TierContext;
  onGrowth?: OnGrowth;
}): { service: EventsService; routes: Route[]; init: () => Promise<void> } {
  const repo = eventsRepository(deps.db);
  const service = eventsService({ ...deps, repo });
  return { service, routes: eventsRoutes(service), init: () => repo.init() };
}
