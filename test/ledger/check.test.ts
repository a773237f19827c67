import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../src/config.js';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { dueKindOf, dueRecordId, entryId, type EntryDoc } from '../../src/modules/ledger/ledger.model.js';
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

type Step = { at: string; draft: (s: AccountState, now: Date, id: string) => Draft };

/**
 * Appends drafts to a member's entries as the service would have written them, each at its own time, with the due
 * records the service writes for what each entry opens (unless `dueRecords` is false, as a store of an older version).
 */
async function plant(memberId: string, steps: Step[], { dueRecords = true } = {}): Promise<void> {
  let state = rules.emptyState();
  const docs: EntryDoc[] = [];
  const due: Array<Record<string, unknown>> = [];
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
    for (const o of rules.openedDue(state, d.state)) {
      due.push({ _id: dueRecordId('points', id, o.item), kind: dueKindOf('points'), memberId, dueAt: o.dueAt, data: {}, createdAt: now });
    }
    state = d.state;
  }
  await db.collection<EntryDoc>('points_entries').insertMany(docs);
  if (dueRecords && due.length > 0) await db.collection('due_work').insertMany(due as never[]);
}

/** Runs `npm run ledger:repair` on this database. */
async function ledgerRepair(): Promise<string> {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const { stdout } = await run(tsx, [path.join(repoRoot, 'scripts', 'ledger-repair.ts'), '--uri', inject('mongoUri'), '--db', dbName], { cwd: repoRoot });
  return stdout;
}

describe('ledger:check on planted stores', () => {
  it('when the store is clean, then the command exits 0', async () => {
    const T = new Date('2026-03-01T12:00:00Z');
    await plant('clean', [
      { at: '2026-02-01T00:00:00Z', draft: (s) => rules.earn(s, 100, T) },
      { at: '2026-02-02T00:00:00Z', draft: (s, now) => rules.spend(s, 30, now) },
    ]);
    // Pending points earned, partly reversed while pending, then spent once available.
    const E = new Date('2027-03-31T23:59:59.999Z');
    const A = new Date('2026-02-15T00:00:00Z');
    await plant('clean-pending', [
      { at: '2026-02-01T00:00:00Z', draft: (s, now) => rules.earn(s, 100, E, now, A) },
      { at: '2026-02-02T00:00:00Z', draft: (s, now) => rules.reverse(s, { id: entryId('clean-pending', 1), kind: 'earn', points: 100, lots: [{ lot: rules.lotId(E, A), amount: 100 }], availableAt: A }, 30, now) },
      { at: '2026-02-16T00:00:00Z', draft: (s, now) => rules.spend(s, 70, now) },
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

  it('when an account holds a hold and a lot that no due record covers, then the command names both, and ledger:repair records them', async () => {
    const lot = new Date('2027-03-31T23:59:59.999Z');
    const holdId = entryId('unrecorded', 2);
    await plant(
      'unrecorded',
      [
        { at: '2026-02-01T00:00:00Z', draft: (s) => rules.earn(s, 100, lot) },
        { at: '2026-02-01T00:00:01Z', draft: (s, now, id) => rules.hold(s, id, 40, new Date('2026-02-01T00:15:01Z'), 'redemption', now) },
      ],
      { dueRecords: false },
    );
    const before = await ledgerCheck();
    expect(before.out).toContain(`VIOLATION points account unrecorded seq 2: lot:${lot.toISOString()} (due ${lot.toISOString()}) has no due record`);
    expect(before.out).toContain(`VIOLATION points account unrecorded seq 2: hold:${holdId} (due 2026-02-01T00:15:01.000Z) has no due record`);
    expect(before.code).toBe(1);

    expect(await ledgerRepair()).toContain('points: rebuilt');
    const after = await ledgerCheck();
    expect(after.out).not.toContain('account unrecorded');
    expect(await db.collection('due_work').countDocuments({ memberId: 'unrecorded' })).toBe(2);
  });

  it('when amounts or balances are stored as fractions or beyond a safe integer, then the command names each and exits 1', async () => {
    const T = new Date('2027-03-31T23:59:59.999Z');
    await plant('fraction', [{ at: '2026-02-01T00:00:00Z', draft: (s) => rules.earn(s, 0.5, T) }]);
    await plant('huge', [{ at: '2026-02-01T00:00:00Z', draft: (s) => rules.earn(s, 1e302, T) }]);
    const { code, out } = await ledgerCheck();
    expect(out).toContain('VIOLATION points account fraction seq 1: a non-integer amount');
    expect(out).toContain('VIOLATION points account fraction seq 1: available 0.5 is not a safe integer');
    expect(out).toContain('VIOLATION points account huge seq 1: available 1e+302 is not a safe integer');
    expect(out).toContain(`VIOLATION points account huge seq 1: lot ${T.toISOString()} remaining 1e+302 is not a safe integer`);
    expect(out).toContain('VIOLATION points account huge seq 1: lifetime earned 1e+302 is not a safe integer');
    expect(code).toBe(1);
  });

  it('when pending points were spent, expire before they are available, or stay pending past their time, then the command names each and exits 1', async () => {
    const t0 = new Date('2026-02-01T00:00:00Z');
    const E = new Date('2027-03-31T23:59:59.999Z');
    const A = new Date('2026-02-11T00:00:00Z');
    await plant('pending-spent', [
      { at: '2026-02-01T00:00:00Z', draft: (s, now) => rules.earn(s, 100, E, now, A) },
      {
        // A faulty version that spent what was still pending: the state adds up, the lot it drew from is pending.
        at: '2026-02-02T00:00:00Z',
        draft: (s) => {
          const state = structuredClone(s);
          const lot = state.lots[0] as (typeof state.lots)[number];
          lot.remaining -= 30;
          state.pending = (state.pending ?? 0) - 30;
          state.totals.spent += 30;
          return { kind: 'spend', amount: -30, points: 30, lots: [{ lot: lot.id, amount: 30 }], state };
        },
      },
    ]);
    await plant('pending-early-expiry', [{ at: '2026-02-01T00:00:00Z', draft: (s, now) => rules.earn(s, 100, new Date('2026-02-06T00:00:00Z'), now, A) }]);
    await plant('pending-stale', [
      { at: '2026-02-01T00:00:00Z', draft: (s, now) => rules.earn(s, 100, E, now, A) },
      // Decided as of the first entry's time, written after the points became available: they are left pending.
      { at: '2026-02-12T00:00:00Z', draft: (s) => rules.earn(s, 10, E, t0) },
    ]);
    const { code, out } = await ledgerCheck();
    expect(out).toContain(`VIOLATION points account pending-spent seq 2: a spend took 30 points from lot ${rules.lotId(E, A)}, pending until ${A.toISOString()}`);
    expect(out).toContain(`VIOLATION points account pending-early-expiry seq 1: pending lot ${rules.lotId(new Date('2026-02-06T00:00:00Z'), A)} expires before it becomes available`);
    expect(out).toContain(`VIOLATION points account pending-stale seq 2: lot ${rules.lotId(E, A)} is still pending after its availability`);
    expect(out).not.toContain('account clean-pending');
    expect(code).toBe(1);
  });
});
