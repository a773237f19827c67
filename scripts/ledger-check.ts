/**
 * Verifies every ledger invariant of PRODUCT.md §4 over the whole store (points and growth); exits 1 naming each
 * broken account.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:check [-- --db loyalty]
 */
import { checkLedger } from '../src/modules/ledger/index.js';
import { connectStore } from './lib/store.js';

const { db } = await connectStore();
let violations = 0;
for (const ledger of ['points', 'growth']) {
  const report = await checkLedger(db, ledger);
  process.stdout.write(`${ledger}: checked ${report.accounts} accounts, ${report.entries} entries\n`);
  if (report.staleCaches.length > 0) {
    process.stdout.write(`${report.staleCaches.length} account caches are behind their entries (run npm run ledger:repair): ${report.staleCaches.slice(0, 20).join(', ')}\n`);
  }
  for (const v of report.violations) process.stdout.write(`VIOLATION ${ledger} ${v}\n`);
  violations += report.violations.length;
}
await db.close();
process.stdout.write(violations === 0 ? 'ledger OK\n' : `${violations} violations\n`);
process.exit(violations === 0 ? 0 : 1);
