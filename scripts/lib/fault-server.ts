/**
 * The service as a fault run (scripts/lib/faults.ts) runs it: the real startServer in its own process, configured by
 * the environment, whose crash points can be armed from outside. A line `arm` on its standard input makes the next
 * pass through any crash point of a command (between its steps: before or after its commit, before its answer is
 * recorded, between a make-up's spend and its commit, ...) kill the process with SIGKILL, as a crash would.
 *
 * It prints `FAULT_SERVER {"url": ...}` once listening; SIGTERM, or its standard input closing, shuts it down gracefully.
 */
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/config.js';
import type { Faults } from '../../src/platform/faults.js';
import { startServer } from '../../src/server.js';

let armed = false;
const faults: Faults = {
  at: (point) => {
    if (!armed) return;
    process.stderr.write(`FAULT_SERVER killed at ${point}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
};
const control = createInterface({ input: process.stdin });
control.on('line', (line) => {
  if (line.trim() === 'arm') armed = true;
});

const server = await startServer(loadConfig(process.env), { faults });
process.stdout.write(`FAULT_SERVER ${JSON.stringify({ url: server.url })}\n`);
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
control.once('close', stop); // the fault run is gone: never outlive it
