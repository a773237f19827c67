import type { Connection } from 'mongoose';
import type { FactSource } from '../../platform/facts.js';
import type { Route } from '../../platform/http/route.js';
import { every } from '../../platform/jobs.js';
import type { Logger } from '../../platform/logger.js';
import { tiersFactSource } from './tiers.facts.js';
import { tiersRepository } from './tiers.model.js';
import { tiersRoutes } from './tiers.routes.js';
import { tiersService, type TiersDeps, type TiersService } from './tiers.service.js';

export type { TiersService, TierChange } from './tiers.service.js';
export { tierForGrowth, assignPercentiles } from './tiers.service.js';

/** Tiers and growth (PRODUCT.md §6): the ladder, upgrades, tier history and the member summary's tier part. */
export function createTiersModule(deps: Omit<TiersDeps, 'repo'> & { db: Connection; logger: Logger }): {
  service: TiersService;
  routes: Route[];
  init: () => Promise<void>;
  startJobs: (intervalMs: number) => () => void;
  factSource: FactSource;
} {
  const repo = tiersRepository(deps.db);
  const service = tiersService({ ...deps, repo });
  deps.members.addSummaryProvider((member) => service.summary(member.memberId));
  return {
    service,
    routes: tiersRoutes(service),
    init: () => repo.init(),
    factSource: tiersFactSource(repo),
    /** Evaluates tiers once a day (the first check after the program's midnight runs it; other processes skip it). */
    startJobs: (intervalMs) =>
      every(intervalMs, () => service.runEvaluation(service.todayKey()), (err) => deps.logger.warn({ err }, 'tier evaluation failed; the next check resumes it')),
  };
}
