/**
 * Verifies every ledger invariant of PRODUCT.md §4 over the whole store; exits 1 naming each broken account.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:check [-- --db loyalty]
 */
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { checkLedger } from '../src/modules/ledger/index.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, uri: { type: 'string' } }, strict: true });
const uri = values.uri ?? process.env.MONGODB_URI;
if (!uri) {
  process.stderr.write('set MONGODB_URI (or --uri) to the database the service uses\n');
  process.exit(2);
}
const conn = await mongoose.createConnection(uri, { dbName: values.db ?? process.env.MONGODB_DB_NAME ?? 'loyalty' }).asPromise();
const report = await checkLedger(conn);
await conn.close();
process.stdout.write(`checked ${report.accounts} accounts, ${report.entries} entries\n`);
if (report.staleCaches.length > 0) {
  process.stdout.write(`${report.staleCaches.length} account caches are behind their entries (run npm run ledger:repair): ${report.staleCaches.slice(0, 20).join(', ')}\n`);
}
for (const v of report.violations) process.stdout.write(`VIOLATION ${v}\n`);
process.stdout.write(report.violations.length === 0 ? 'ledger OK\n' : `${report.violations.length} violations\n`);
process.exit(report.violations.length === 0 ? 0 : 1);
