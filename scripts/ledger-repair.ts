/**
 * Rebuilds every account cache document from its account's last entry (entries are the truth).
 *
 *     MONGODB_URI=mongodb://... npm run ledger:repair [-- --db loyalty]
 */
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { repairLedger } from '../src/modules/ledger/index.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, uri: { type: 'string' } }, strict: true });
const uri = values.uri ?? process.env.MONGODB_URI;
if (!uri) {
  process.stderr.write('set MONGODB_URI (or --uri) to the database the service uses\n');
  process.exit(2);
}
const conn = await mongoose.createConnection(uri, { dbName: values.db ?? process.env.MONGODB_DB_NAME ?? 'loyalty' }).asPromise();
const { rebuilt } = await repairLedger(conn);
await conn.close();
process.stdout.write(`rebuilt ${rebuilt} account caches from their entries\n`);
