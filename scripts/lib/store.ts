import { parseArgs } from 'node:util';
import type { Connection } from 'mongoose';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { systemClock } from '../../src/platform/clock.js';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { createLogger } from '../../src/platform/logger.js';

/**
 * The store an operator command works on: `--uri` or MONGODB_URI, and `--db` or MONGODB_DB_NAME (default `loyalty`).
 * Exits with a usage message when there is no URI. Extra string options are parsed and returned too, and so is the
 * configuration the environment gives (what a check needs of the service's policy).
 */
export async function connectStore(extra: string[] = []): Promise<{ db: Connection; uri: string; options: Record<string, string | undefined>; config: Config }> {
  const { values } = parseArgs({
    options: Object.fromEntries(['db', 'uri', ...extra].map((name) => [name, { type: 'string' as const }])),
    strict: true,
  });
  const options = values as Record<string, string | undefined>;
  const uri = options.uri ?? process.env.MONGODB_URI;
  if (!uri) {
    process.stderr.write('set MONGODB_URI (or --uri) to the database the service uses\n');
    process.exit(2);
  }
  const config = loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET ?? 'x'.repeat(32) });
  const db = await connectDatabase(uri, options.db ?? config.db.name, config.db.timeoutMs);
  return { db, uri, options, config };
}

/** The service's use cases over that store, for commands that run a job (no HTTP, no timers). */
export async function openApp(db: Connection, uri: string): Promise<App> {
  const config = loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET ?? 'x'.repeat(32) });
  const app = createApp({ config, db, clock: systemClock, logger: createLogger(config.logLevel), engine: { name: 'external', description: uri } });
  await app.ready;
  return app;
}
