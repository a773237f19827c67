/**
 * Runs one ledger sweep now (points and growth): expires due lots and times out due holds (the service also does this
 * every LEDGER_SWEEP_INTERVAL_MS). Idempotent and resumable: each lot expires and each hold resolves at most once, so
 * it is safe beside running services or a second sweep.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:sweep [-- --db loyalty]
 */
import { connectStore, openApp } from './lib/store.js';

const { db, uri } = await connectStore();
const app = await openApp(db, uri);
for (const ledger of ['ledger', 'growth'] as const) {
  const { accounts, resolved } = await app.services[ledger].sweep();
  process.stdout.write(`${ledger === 'ledger' ? 'points' : 'growth'}: swept ${accounts} accounts, ${resolved} lots expired or holds timed out\n`);
}
await app.flush();
await db.close();
