import { describe, expect, it } from 'vitest';
import { runFaults } from '../scripts/lib/faults.js';

/**
 * Three service processes over one engine of its own, clients retrying every request with its key, while processes
 * are killed (from outside and at crash points between the steps of a command) and the engine is killed once. How fast
 * a dead process's requests are taken over is measured by the longer `npm run faults`, not asserted here (test/ledger/
 * crash.test.ts proves the takeover itself without timing it).
 */
describe('three processes, kill -9 and an engine kill', () => {
  it('when processes and the engine die under load, then every request is answered once, no answer is a 500, balances are what the answers said and replays match', { timeout: 240_000 }, async () => {
    const report = await runFaults({ servers: 3, seconds: 25, members: 12, clients: 12, killEveryMs: 2500, engineKillEveryMs: 12_000 });
    expect(report.kills.outside + report.kills.atCrashPoint).toBeGreaterThanOrEqual(4);
    expect(report.kills.engine).toBeGreaterThanOrEqual(1);
    expect(report.retried).toBeGreaterThan(0);
    expect(report.http500).toBe(0);
    expect(report.balanceMismatches).toEqual([]);
    expect(report.replayMismatches).toEqual([]);
    expect(report.violations).toEqual([]);
  });
});
