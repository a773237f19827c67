/**
 * Does all due work now: expires due lots and times out due holds on both ledgers, and finishes or undoes interrupted
 * flows (the service's sweeper does this every LEDGER_SWEEP_INTERVAL_MS, one process per tick). Idempotent and
 * resumable: each piece of work is recorded until it is done, and doing it again changes nothing, so it is safe beside
 * running services or a second sweep. `--member <id>` settles one account whether or not its work is recorded.
 *
 *     MONGODB_URI=mongodb://... npm run ledger:sweep [-- --db loyalty] [-- --member <memberId>]
 */
import { connectStore, openApp } from './lib/store.js';

const { db, uri, options } = await connectStore(['member']);
const app = await openApp(db, uri);
if (options.member) {
  for (const ledger of ['ledger', 'growth'] as const) {
    const { resolved } = await app.services[ledger].sweepAccounts([options.member]);
    process.stdout.write(`${ledger === 'ledger' ? 'points' : 'growth'}: ${resolved} lots expired or holds timed out for ${options.member}\n`);
  }
} else {
  const { done, failed } = await app.sweep();
  process.stdout.write(`swept ${done} due records${failed > 0 ? `, ${failed} failed (see the log; the next sweep takes them again)` : ''}\n`);
}
await app.flush();
await app.stop();
await db.close();
process.exit(0);
