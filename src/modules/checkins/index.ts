import type { Connection } from 'mongoose';
import type { FactSink, FactSource } from '../../platform/facts.js';
import type { Route } from '../../platform/http/route.js';
import { stampCheck } from '../audit/index.js';
import { checkinsFactSource } from './checkins.facts.js';
import { checkinsStore } from './checkins.model.js';
import { checkinsRoutes } from './checkins.routes.js';
import { checkinsService, type CheckinsDeps, type CheckinsService } from './checkins.service.js';

export type { CheckinsService, ReportCheckin } from './checkins.service.js';
export { STREAK_BUCKETS, streakBucket } from './checkins.facts.js';

/** Daily check-ins (PRODUCT.md §7): once per local day, a reward cycle with milestones, make-ups, the calendar. */
export function createCheckinsModule(
  deps: Omit<CheckinsDeps, 'store'> & { db: Connection; facts: FactSink },
): { service: CheckinsService; routes: Route[]; init: () => Promise<void>; factSource: FactSource } {
  const store = checkinsStore(deps.db, deps.facts);
  const service = checkinsService({ ...deps, store });
  deps.audit.check('checkin-config.put', stampCheck(() => store.getConfig()));
  deps.members.addSummaryProvider((member) => service.summary(member));
  return { service, routes: checkinsRoutes(service), init: () => store.init(), factSource: checkinsFactSource(store.log) };
}
