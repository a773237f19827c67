/**
 * Runs the stats rollup now (docs/ANALYTICS.md): closes every day that ended more than an hour ago and rebuilds the
 * missing facts of the days still open, from the records themselves. The service runs it every
 * STATS_ROLLUP_INTERVAL_MS (one process per interval); this is for a store that has not run one yet (the first run
 * reads the whole history) or after turning the interval off. Safe beside running services and a second run: every
 * document it writes is keyed by its day or its record.
 *
 *     MONGODB_URI=mongodb://... npm run stats:rollup [-- --db loyalty]
 */
import { connectStore, openApp } from './lib/store.js';

const { db, uri } = await connectStore();
const app = await openApp(db, uri);
const started = performance.now();
const { closed, factsRepaired } = await app.rollup();
const range = closed.length > 0 ? `${closed[0]} … ${closed[closed.length - 1]}` : 'none';
process.stdout.write(`closed ${closed.length} days (${range}); rebuilt ${factsRepaired} facts of open days; ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
await app.flush();
await app.stop();
await db.close();
process.exit(0);
