import type { Connection } from 'mongoose';
import type { Route } from '../../platform/http/route.js';
import { eventsRepository } from './events.model.js';
import { eventsRoutes } from './events.routes.js';
import { eventsService, type EventsDeps, type EventsService } from './events.service.js';

export type { EventsService, TierContext, TaskProgress, ReferralProgress } from './events.service.js';
export type { EventInput, TaskEffect, ReferralEffect } from './events.schemas.js';
export { referralStates } from './events.schemas.js';

/** Events (PRODUCT.md §5): what members did, turned into points and growth by the earning rules. */
export function createEventsModule(deps: Omit<EventsDeps, 'repo'> & { db: Connection }): { service: EventsService; routes: Route[]; init: () => Promise<void> } {
  const repo = eventsRepository(deps.db);
  const service = eventsService({ ...deps, repo });
  return { service, routes: eventsRoutes(service), init: () => repo.init() };
}
