/**
 * Runs the tier evaluation now (the service runs it once a day on its own): upgrades, period-end renewals and
 * downgrades after the grace days, or the percentile ranking. A run is claimed by a unique insert, so running this
 * beside live services, or twice, evaluates each run key once.
 *
 *     MONGODB_URI=mongodb://... npm run tiers:evaluate [-- --key 2026-12-31] [--db loyalty]
 */
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/platform/clock.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { createLogger } from '../src/platform/logger.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, uri: { type: 'string' }, key: { type: 'string' } }, strict: true });
const config = loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET ?? 'x'.repeat(32) });
const uri = values.uri ?? config.db.uri;
if (!uri) {
  process.stderr.write('set MONGODB_URI (or --uri) to the database the service uses\n');
  process.exit(2);
}
const db = await connectDatabase(uri, values.db ?? config.db.name, config.db.timeoutMs);
const app = createApp({ config, db, clock: systemClock, logger: createLogger(config.logLevel), engine: { name: 'external', description: uri } });
await app.ready;
const key = values.key ?? app.services.tiers.todayKey();
const outcome = await app.services.tiers.runEvaluation(key);
await app.flush();
await db.close();
process.stdout.write(`tier evaluation ${key}: ${outcome.ran ? JSON.stringify(outcome.result) : `not run (${outcome.reason})`}\n`);
