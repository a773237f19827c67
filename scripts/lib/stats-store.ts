import type { Config } from '../../src/config.js';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/platform/clock.js';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { createLogger } from '../../src/platform/logger.js';
import { checkLedger } from '../../src/modules/ledger/index.js';
import { seedStatsStore, type SeedOptions } from './seed-stats.js';

export type StatsStore = { counts: Record<string, number>; seededMs: number; rollupMs: number; closedDays: number; factsRepaired: number; check?: { accounts: number; entries: number; violations: string[] } };

/**
 * A store with history (scripts/lib/seed-stats.ts) in the database `config` names at `uri`, rolled up once over its
 * whole history by the service's own rollup, as the hourly job would have; optionally proved by the ledger check.
 * bench:stats times the reports over it, console:screenshots draws the console over it.
 *
 *     const store = await buildStatsStore(uri, config, { members: 2000, entries: 20000, days: 60, end: new Date(), seed: 42, timezone, log });
 */
export async function buildStatsStore(uri: string, config: Config, seed: Omit<SeedOptions, 'log'> & { log: (line: string) => void; check?: boolean }): Promise<StatsStore> {
  const db = await connectDatabase(uri, config.db.name, config.db.timeoutMs);
  try {
    let t0 = performance.now();
    const counts = await seedStatsStore(db.db as never, seed);
    const seededMs = performance.now() - t0;
    const app = createApp({ config, db, clock: systemClock, logger: createLogger('warn'), engine: { name: 'bench', description: 'bench' } });
    await app.ready;
    t0 = performance.now();
    const rollup = await app.rollup();
    const rollupMs = performance.now() - t0;
    await app.stop();
    await app.flush();
    const check = seed.check ? await checkLedger(db) : undefined;
    return { counts, seededMs, rollupMs, closedDays: rollup.closed.length, factsRepaired: rollup.factsRepaired, ...(check ? { check } : {}) };
  } finally {
    await db.close();
  }
}
