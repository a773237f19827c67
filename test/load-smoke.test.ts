import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../src/config.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { freshDbName } from './helpers/app.js';

/** Runs a command to its end, returning its exit code and everything it printed. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('load smoke', () => {
  // The first run on a clean machine compiles k6 (a few minutes); the smoke itself takes seconds.
  it('when the ledger mix runs briefly against the test engine, then k6 thresholds pass and the invariants hold', { timeout: 15 * 60_000 }, async () => {
    const uri = inject('mongoUri');
    const dbName = freshDbName('load');
    try {
      const { code, output } = await run('npx', ['tsx', 'scripts/load.ts', '--scenario', 'mix', '--smoke'], {
        ...process.env,
        MONGODB_URI: uri,
        MONGODB_DB_NAME: dbName,
        LOG_LEVEL: 'warn',
      });
      expect(code, output).toBe(0);
      expect(output).toContain('balance check OK: mix');
      expect(output).toMatch(/ledger check: 20 accounts, \d+ entries, 0 violations/);
      expect(output).toContain('load mix: thresholds passed, invariants OK');
    } finally {
      await dropDatabase(uri, dbName);
    }
  });

  it('when members check in briefly with retries and bursts, then every balance is what k6 saw paid and the ledger holds', { timeout: 15 * 60_000 }, async () => {
    const uri = inject('mongoUri');
    const dbName = freshDbName('load');
    try {
      const { code, output } = await run('npx', ['tsx', 'scripts/load.ts', '--scenario', 'checkins', '--smoke'], {
        ...process.env,
        MONGODB_URI: uri,
        MONGODB_DB_NAME: dbName,
        LOG_LEVEL: 'warn',
      });
      expect(code, output).toBe(0);
      expect(output).toContain('balance check OK: checkins');
      expect(output).toMatch(/per-member check OK: checkins: [1-9]\d* members checked in/);
      expect(output).toMatch(/ledger check: [1-9]\d* accounts, \d+ entries, 0 violations/);
      expect(output).toContain('load checkins: thresholds passed, invariants OK');
    } finally {
      await dropDatabase(uri, dbName);
    }
  });

  it('when members earn and redeem a flash sale and a long tail briefly, then issued units equal the stock taken and every check holds', { timeout: 15 * 60_000 }, async () => {
    const uri = inject('mongoUri');
    const dbName = freshDbName('load');
    try {
      const { code, output } = await run('npx', ['tsx', 'scripts/load.ts', '--scenario', 'redemptions', '--smoke'], {
        ...process.env,
        MONGODB_URI: uri,
        MONGODB_DB_NAME: dbName,
        LOG_LEVEL: 'warn',
      });
      expect(code, output).toBe(0);
      expect(output).toContain('balance check OK: redemptions');
      expect(output).toMatch(/flash sale: flash-[0-9a-f]+: \d+ of 10 units sold/);
      expect(output).toMatch(/redemptions reconcile OK: 4 stocked benefits/);
      expect(output).toMatch(/redemption count (OK|not decidable)/);
      expect(output).toMatch(/ledger check: 20 accounts, \d+ entries, 0 violations/);
      expect(output).toMatch(/benefits check: 7 benefits, [1-9]\d* redemptions, 0 violations/);
      expect(output).toContain('load redemptions: thresholds passed, invariants OK');
    } finally {
      await dropDatabase(uri, dbName);
    }
  });

  it('when invitees bind to a few referrers and order briefly, then every referral is in the state k6 expected, its points are what the state pays and the ledger holds', { timeout: 15 * 60_000 }, async () => {
    const uri = inject('mongoUri');
    const dbName = freshDbName('load');
    try {
      const { code, output } = await run('npx', ['tsx', 'scripts/load.ts', '--scenario', 'referrals', '--smoke'], {
        ...process.env,
        MONGODB_URI: uri,
        MONGODB_DB_NAME: dbName,
        LOG_LEVEL: 'warn',
      });
      expect(code, output).toBe(0);
      // Referral points are pending for the hold period: the referrers' available + held must not move.
      expect(output).toContain('balance check OK: referrals: balances before 0 + earned 0 − spent 0 − captured 0 = 0; Σ(available + held) after = 0');
      expect(output).toMatch(/referrals reconcile OK: [1-9]\d* referrals of 5 referrers: rewarded [1-9]\d*, review \d+, bound \d+, reversed \d+, rejected \d+; \d+ unknown to k6; every state is what k6 expected/);
      expect(output).toMatch(/referral points OK: referrers paid [1-9]\d* /);
      expect(output).toMatch(/ledger check: [1-9]\d* accounts, \d+ entries, 0 violations/);
      expect(output).toContain('load referrals: thresholds passed, invariants OK');
    } finally {
      await dropDatabase(uri, dbName);
    }
  });
});

async function dropDatabase(uri: string, dbName: string): Promise<void> {
  const db = await connectDatabase(uri, dbName, 3000);
  await db.dropDatabase().catch(() => {});
  await db.close();
}
