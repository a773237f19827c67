/**
 * Runs the tier evaluation now (the service runs it once a day on its own): upgrades, period-end renewals and
 * downgrades after the grace days, or the percentile ranking. A run is claimed by a unique insert, so running this
 * beside live services, or twice, evaluates each run key once.
 *
 *     MONGODB_URI=mongodb://... npm run tiers:evaluate [-- --key 2026-12-31] [--db loyalty]
 */
import { connectStore, openApp } from './lib/store.js';

const { db, uri, options } = await connectStore(['key']);
const app = await openApp(db, uri);
const key = options.key ?? app.services.tiers.todayKey();
const outcome = await app.services.tiers.runEvaluation(key);
await app.flush();
await app.stop();
await db.close();
process.stdout.write(`tier evaluation ${key}: ${outcome.ran ? JSON.stringify(outcome.result) : `not run (${outcome.reason})`}\n`);
