import type { Connection } from 'mongoose';
import type { Calendar } from '../../platform/calendar.js';
import type { Clock } from '../../platform/clock.js';
import type { FactSource, FactStore } from '../../platform/facts.js';
import type { Faults } from '../../platform/faults.js';
import type { Route } from '../../platform/http/route.js';
import type { JobRunner } from '../../platform/jobs.js';
import type { Logger } from '../../platform/logger.js';
import type { Catalogue } from './benefits.report.js';
import { rollupRepository } from './rollup.model.js';
import { rollupRunner, type RollupResult } from './rollup.js';
import { statsRoutes } from './stats.routes.js';
import { statsService } from './stats.service.js';
import { statsReader, type StatsReader } from './view.js';

export { SETTLE_MS, type RollupResult } from './rollup.js';
export type { Catalogue } from './benefits.report.js';

/** How long after a process starts its first rollup run is tried (every process tries; one runs it). */
const FIRST_RUN_DELAY_MS = 10_000;

/**
 * The rollup's storage and reader, built before the modules that use it: segments read every member's row through it.
 *
 *     const rollups = createRollupStore({ db, facts, calendar }); createSegments({ rowsNow: rollups.reader.rowsNow, ... })
 */
export function createRollupStore(deps: { db: Connection; facts: FactStore; calendar: Calendar }): { reader: StatsReader; init: () => Promise<void>; repo: ReturnType<typeof rollupRepository> } {
  const repo = rollupRepository(deps.db);
  return { repo, reader: statsReader({ repo, facts: deps.facts, calendar: deps.calendar }), init: () => repo.init() };
}

/**
 * Ops analytics (PRODUCT.md §10, docs/ANALYTICS.md): the reports over the rollup, and the rollup run that closes days
 * and repairs facts from the records of every module (`sources`).
 */
export function createStatsModule(deps: {
  rollups: ReturnType<typeof createRollupStore>;
  facts: FactStore;
  sources: FactSource[];
  calendar: Calendar;
  clock: Clock;
  logger: Logger;
  jobs: JobRunner;
  activeDays: number;
  ladderTiers: () => Promise<string[]>;
  catalogue: Catalogue;
  /** Crash points for tests. */
  faults?: Faults;
}): { routes: Route[]; rollup: () => Promise<RollupResult>; startJobs: (intervalMs: number) => () => Promise<void> } {
  const rollup = rollupRunner({ repo: deps.rollups.repo, facts: deps.facts, sources: deps.sources, calendar: deps.calendar, clock: deps.clock, logger: deps.logger, ...(deps.faults ? { faults: deps.faults } : {}) });
  const service = statsService({ reader: deps.rollups.reader, calendar: deps.calendar, clock: deps.clock, activeDays: deps.activeDays, ladderTiers: deps.ladderTiers, catalogue: deps.catalogue });
  /** One run per interval across processes (claimed like any job); it closes what has settled, snapshots the rest, repairs facts. */
  const claimedRun = (intervalMs: number) => {
    const key = String(Math.floor(deps.clock.now().getTime() / intervalMs));
    return deps.jobs.run('stats.rollup', key, () => rollup());
  };
  return {
    routes: statsRoutes(service),
    /** One rollup run now, unclaimed (tests, operator commands). */
    rollup,
    /** Runs the rollup every `intervalMs` (0: never); the returned stop waits for a run under way. */
    startJobs(intervalMs) {
      if (intervalMs === 0) return async () => {};
      let running: Promise<unknown> | undefined;
      const tick = () => {
        if (running) return;
        running = claimedRun(intervalMs)
          .catch((err: unknown) => deps.logger.warn({ err }, 'stats rollup failed; the next run resumes it'))
          .finally(() => (running = undefined));
      };
      const first = setTimeout(tick, FIRST_RUN_DELAY_MS);
      first.unref();
      const timer = setInterval(tick, intervalMs);
      timer.unref();
      return async () => {
        clearTimeout(first);
        clearInterval(timer);
        await running;
      };
    },
  };
}
