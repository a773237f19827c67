/**
 * Rebuilds every account cache document (points and growth) from its account's last entry (entries are the truth), and
 * records as due work whatever an account's last entry leaves due without a record, so sweeps reach it.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:repair [-- --db loyalty]
 */
import { repairLedger } from '../src/modules/ledger/index.js';
import { connectStore } from './lib/store.js';

const { db } = await connectStore();
for (const ledger of ['points', 'growth']) {
  const { rebuilt, dueRecorded } = await repairLedger(db, ledger);
  process.stdout.write(`${ledger}: rebuilt ${rebuilt} account caches from their entries; recorded ${dueRecorded} missing due records\n`);
}
await db.close();
