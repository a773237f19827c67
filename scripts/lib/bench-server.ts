/**
 * The service as scripts/bench-ledger.ts runs it: in its own process (so the load generator does not share its
 * event loop), configured by the environment, pointed at the engine the benchmark started (MONGODB_URI).
 *
 * It prints `BENCH_SERVER {"url": ..., "readyUs": ...}` once listening, and shuts down gracefully (which writes the account caches)
 * when its standard input closes, its IPC channel goes away or on SIGTERM, so it never outlives the benchmark.
 * Over the IPC channel the benchmark can count the database operations the service issues between two messages
 * (mongoose's debug hook sees every collection call, driver-level ones too): `{cmd: 'count-start'}`, then
 * `{cmd: 'count-stop'}`, which answers `{counts: {"<collection>.<method>": n}}`.
 */
import mongoose from 'mongoose';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';

export type BenchServerCommand = { cmd: 'count-start' | 'count-stop' };
export type BenchServerReply = { cmd: BenchServerCommand['cmd']; counts?: Record<string, number> };

const server = await startServer(loadConfig(process.env));
// readyUs is on the monotonic clock V8's CPU profiles use, so a profile can leave out the start-up.
process.stdout.write(`BENCH_SERVER ${JSON.stringify({ url: server.url, readyUs: Number(process.hrtime.bigint() / 1000n) })}\n`);

let counts: Record<string, number> = {};

function handle({ cmd }: BenchServerCommand): BenchServerReply {
  switch (cmd) {
    case 'count-start':
      counts = {};
      mongoose.set('debug', (collection: string, method: string) => {
        const key = `${collection}.${method}`;
        counts[key] = (counts[key] ?? 0) + 1;
      });
      return { cmd };
    case 'count-stop':
      mongoose.set('debug', false);
      return { cmd, counts };
  }
}
process.on('message', (msg: BenchServerCommand) => process.send?.(handle(msg)));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
process.stdin.on('end', stop);
process.stdin.resume();
