/**
 * A fault run (scripts/lib/faults.ts): several service processes over one FerretDB engine, clients retrying every
 * request with its key while processes and the engine are killed and restarted; then the balances, replays and the
 * ledger are checked from outside. Prints what happened and exits 1 if anything was lost, doubled, invented or a 500.
 *
 *     npm run faults -- [--servers 3] [--seconds 120] [--members 30] [--clients 24] [--kill-every 3000] [--engine-kill-every 30000]
 *                       [--backend sqlite|postgresql] [--log-dir DIR]   (each process's log, a line per request, in DIR)
 */
import { parseArgs } from 'node:util';
import { runFaults } from './lib/faults.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '120' },
    members: { type: 'string', default: '30' },
    clients: { type: 'string', default: '24' },
    'kill-every': { type: 'string', default: '3000' },
    'engine-kill-every': { type: 'string', default: '30000' },
    'log-dir': { type: 'string' },
    backend: { type: 'string', default: 'sqlite' },
  },
  strict: true,
});
const out = (line: string) => process.stdout.write(`${line}\n`);
out(`# fault run (FerretDB ${values.backend} backend): ${values.servers} processes, ${values.seconds} s, a process killed every ${values['kill-every']} ms, the engine every ${values['engine-kill-every']} ms`);
const report = await runFaults({
  servers: Number(values.servers),
  seconds: Number(values.seconds),
  members: Number(values.members),
  clients: Number(values.clients),
  killEveryMs: Number(values['kill-every']),
  engineKillEveryMs: Number(values['engine-kill-every']),
  log: out,
  ...(values['log-dir'] ? { logDir: values['log-dir'] } : {}),
  backend: values.backend === 'postgresql' ? 'postgresql' : 'sqlite',
});
out(`requests answered: ${report.requests} (${report.retried} needed more than one attempt)`);
out(`kills: ${report.kills.outside} from outside, ${report.kills.atCrashPoint} at a crash point, ${report.kills.engine} of the engine`);
out(`time to answer a retried request: p50 ${report.recovery.p50} ms, p99 ${report.recovery.p99} ms, max ${report.recovery.max} ms`);
for (const r of report.slowest) out(`  slow: ${r.what} took ${r.ms} ms: ${r.trail}`);
out(`answers: ${Object.entries(report.answers).sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
out(`HTTP 500 answers: ${report.http500}`);
for (const line of [...report.balanceMismatches, ...report.replayMismatches, ...report.violations]) out(`PROBLEM ${line}`);
const ok = report.http500 === 0 && report.balanceMismatches.length + report.replayMismatches.length + report.violations.length === 0;
out(ok ? 'fault run OK: every balance is what the answers said, replays match, the ledger holds' : 'fault run FAILED');
process.exit(ok ? 0 : 1);
