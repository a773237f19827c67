/**
 * Verifies every ledger invariant of PRODUCT.md §4 over the whole store (points and growth), and the benefits' (stock,
 * redemptions, limits: issue 12, item 6); exits 1 naming each broken account, benefit or redemption. Run it on a quiet
 * store: a redemption still within its lease, or with its sweep recorded, is listed as in flight, not as broken.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:check [-- --db loyalty]
 */
import { checkBenefits } from '../src/modules/benefits/benefits.check.js';
import { checkLedger } from '../src/modules/ledger/index.js';
import { connectStore } from './lib/store.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const { db, config } = await connectStore();
let violations = 0;
for (const ledger of ['points', 'growth']) {
  const report = await checkLedger(db, ledger);
  out(`${ledger}: checked ${report.accounts} accounts, ${report.entries} entries`);
  if (report.staleCaches.length > 0) {
    out(`${report.staleCaches.length} account caches are behind their entries (run npm run ledger:repair): ${report.staleCaches.slice(0, 20).join(', ')}`);
  }
  for (const v of report.violations) out(`VIOLATION ${ledger} ${v}`);
  violations += report.violations.length;
}
const benefits = await checkBenefits(db, { now: new Date(), expiredPoints: config.benefits.expiredVoucherPoints });
out(`benefits: checked ${benefits.benefits} benefits, ${benefits.redemptions} redemptions`);
if (benefits.inFlight.length > 0) out(`${benefits.inFlight.length} redemptions in flight (check again once they finish): ${benefits.inFlight.slice(0, 20).join('; ')}`);
for (const v of benefits.violations) out(`VIOLATION benefits ${v}`);
violations += benefits.violations.length;
await db.close();
out(violations === 0 ? 'ledger OK' : `${violations} violations`);
process.exit(violations === 0 ? 0 : 1);
