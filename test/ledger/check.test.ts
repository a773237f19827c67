import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { entryId, type EntryDoc } from '../../src/modules/ledger/ledger.model.js';
import * as rules from '../../src/modules/ledger/ledger.state.js';
import type { AccountState, Draft } from '../../src/modules/ledger/ledger.state.js';
import { freshDbName } from '../helpers/app.js';

/**
 * `npm run ledger:check` against stores planted with the defects a ledger must never carry: the planted entries are
 * written straight into the collections, with states computed by the ledger's own arithmetic, as a faulty version of
 * the service (or a hand edit) would have left them.
 */
const run = promisify(execFile);
let db: Connection;
const dbName = freshDbName('ledger_check');

beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), dbName, 3000);
});
afterAll(async () => {
  await db.dropDatabase().catch(() => {});
  await db.close();
});

/** Runs the operator command on this database; answers its exit code and output. */
async function ledgerCheck(): Promise<{ code: number; out: string }> {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  try {
    const { stdout } = await run(tsx, [path.join(repoRoot, 'scripts', 'ledger-check.ts'), '--uri', inject('mongoUri'), '--db', dbName], { cwd: repoRoot });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

/** Appends drafts to a member's entries as the service would have written them, each at its own time. */
async function plant(memberId: string, steps: Array<{ at: string; draft: (s: AccountState, now: Date, id: string) => Draft }>): Promise<void> {
  let state = rules.emptyState();
  const docs: EntryDoc[] = [];
  for (const [i, step] of steps.entries()) {
    const seq = i + 1;
    const id = entryId(memberId, seq);
    const now = new Date(step.at);
    const d = step.draft(state, now, id);
    docs.push({
      _id: id, memberId, seq, opId: `planted:${id}`, fingerprint: null, kind: d.kind, amount: d.amount, points: d.points, code: 'planted',
      ref: null, lots: d.lots ?? [], holdId: d.holdId ?? null, reverses: d.reverses ?? null, expired: d.expired ?? 0, expiresAt: d.expiresAt ?? null,
      actor: { role: 'system', sub: 'test' }, createdAt: now, state: d.state,
    });
    state = d.state;
  }
  await db.collection<EntryDoc>('points_entries').insertMany(docs);
}

describe('ledger:check on planted stores', () => {
  it('when the store is clean, then the command exits 0', async () => {
    const T = new Date('2026-03-01T12:00:00Z');
    await plant('clean', [
      { at: '2026-02-01T00:00:00Z', draft: (s) => rules.earn(s, 100, T) },
      { at: '2026-02-02T00:00:00Z', draft: (s, now) => rules.spend(s, 30, now) },
    ]);
    const { code, out } = await ledgerCheck();
    expect(out).toContain('ledger OK');
    expect(code).toBe(0);
  });

  it('when a hold released with a lagging clock put points back into a lot that had expired, then the command names the account and exits 1', async () => {
    const T = new Date('2026-03-01T12:00:00Z');
    const holdId = entryId('stuck', 2);
    await plant('stuck', [
      { at: '2026-02-01T00:00:00Z', draft: (s) => rules.earn(s, 100, T) },
      { at: '2026-02-01T00:00:01Z', draft: (s, now, id) => rules.hold(s, id, 40, new Date(T.getTime() + 3_600_000), 'redemption', now) },
      { at: '2026-03-01T12:00:01Z', draft: (s, now) => rules.expireLot(s, rules.lotId(T), now) as Draft },
      // Written by a process whose clock was 2 s behind: the lot looked alive to it, so the points went back free.
      { at: '2026-03-01T11:59:59Z', draft: (s, now) => rules.resolveHold(s, holdId, 0, now) },
    ]);
    const { code, out } = await ledgerCheck();
    expect(out).toMatch(/VIOLATION points account stuck seq 4: lot 2026-03-01T12:00:00.000Z holds 40 points after it expired/);
    expect(code).toBe(1);
  });
});
