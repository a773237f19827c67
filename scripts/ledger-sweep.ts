/**
 * Runs one ledger sweep now: expires due lots and times out due holds (the service also does this every
 * LEDGER_SWEEP_INTERVAL_MS). Idempotent and resumable: each lot expires and each hold resolves at most once, so it is
 * safe beside running services or a second sweep.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:sweep [-- --db loyalty]
 */
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/platform/clock.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { createLogger } from '../src/platform/logger.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, uri: { type: 'string' } }, strict: true });
const config = loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET ?? 'x'.repeat(32) });
const uri = values.uri ?? config.db.uri;
if (!uri) {
  process.stderr.write('set MONGODB_URI (or --uri) to the database the service uses\n');
  process.exit(2);
}
const db = await connectDatabase(uri, values.db ?? config.db.name, config.db.timeoutMs);
const logger = createLogger(config.logLevel);
const app = createApp({ config, db, clock: systemClock, logger, engine: { name: 'external', description: uri } });
await app.ready;
const { accounts, resolved } = await app.services.ledger.sweep();
await app.flush();
await db.close();
process.stdout.write(`swept ${accounts} accounts: ${resolved} lots expired or holds timed out\n`);
