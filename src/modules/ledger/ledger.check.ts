import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { insertOnce } from '../../platform/db/connection.js';
import type { DueRecord } from '../../platform/sweeper.js';
import { accountDoc, dueKindOf, dueRecordId, type AccountDoc, type EntryDoc } from './ledger.model.js';
import { dueItems, parseLotId, stateProblems, type AccountState, type Totals } from './ledger.state.js';

export type CheckReport = {
  accounts: number;
  entries: number;
  /** Broken invariants, each naming the account: any of these fails the check. */
  violations: string[];
  /** Account cache documents behind their entries (a cache; `ledger:repair` rebuilds them). */
  staleCaches: string[];
};

/**
 * Verifies the invariants of PRODUCT.md §4 over the whole store, account by account, from the entries alone:
 * seq runs 1..n without gaps; each entry's state is internally consistent; available + pending + held equals the
 * running sum of amounts; pending points were pending at the entry's time and nothing spent, held or expired them; lifetime totals equal the running sums by kind; a negative available only comes with a debt; op ids are
 * unique per account; no lot holds free points after it expired; every lot that will expire and every hold that will time out is
 * recorded as due work (else no sweep would ever reach it); and the accounts cache is compared with the last entry.
 */
export async function checkLedger(db: Connection, name = 'points'): Promise<CheckReport> {
  const entries = db.collection<EntryDoc>(`${name}_entries`);
  const accounts = db.collection<AccountDoc>(`${name}_accounts`);
  const report: CheckReport = { accounts: 0, entries: 0, violations: [], staleCaches: [] };
  const opIds = new Set<string>();
  // _id order is seq order within an account, but it interleaves two accounts when a member id looks like another's
  // entry id ("shop" and "shop:000000000001"), so each account keeps its own running sums.
  const running = new Map<string, { seq: number; sum: number; totals: Totals; last: EntryDoc; expiredLots: Set<string> }>();

  for await (const e of entries.find({}).sort({ _id: 1 })) {
    if ((e as { kind: string }).kind === 'refusal') continue; // a recorded refusal: not an entry of the account
    report.entries++;
    let account = running.get(e.memberId);
    if (!account) {
      account = { seq: 0, sum: 0, totals: { earned: 0, spent: 0, expired: 0, reversed: 0, adjusted: 0 }, last: e, expiredLots: new Set() };
      running.set(e.memberId, account);
      report.accounts++;
    }
    const { totals } = account;
    const where = `account ${e.memberId} seq ${e.seq}`;
    if (e.seq !== account.seq + 1) report.violations.push(`${where}: expected seq ${account.seq + 1} (a gap or a duplicate)`);
    account.seq = e.seq;
    // An operation always lands on one member's account, so op ids are unique per account (docs/SCALING.md).
    const op = `${e.memberId}|${e.opId}`;
    if (opIds.has(op)) report.violations.push(`${where}: operation ${e.opId} landed twice`);
    opIds.add(op);
    if (!Number.isSafeInteger(e.amount) || !Number.isSafeInteger(e.points)) report.violations.push(`${where}: a non-integer amount`);
    account.sum += e.amount;
    switch (e.kind) {
      case 'earn':
        totals.earned += e.points;
        break;
      case 'spend':
      case 'capture':
        totals.spent += e.points;
        break;
      case 'expire':
        totals.expired += e.points;
        break;
      case 'reverse':
        totals.reversed += e.points;
        break;
      case 'adjust':
        totals.adjusted += e.amount;
        break;
    }
    totals.expired += e.expired;
    const s = e.state;
    const booked = s.available + s.held + (s.pending ?? 0);
    if (booked !== account.sum) report.violations.push(`${where}: available + pending + held = ${booked}, entries sum to ${account.sum}`);
    for (const p of stateProblems(s)) report.violations.push(`${where}: ${p}`);
    for (const p of pendingProblems(e)) report.violations.push(`${where}: ${p}`);
    if (s.available < 0 && s.debt === 0) report.violations.push(`${where}: available ${s.available} below zero without a debt`);
    // Once a lot has expired, points put back into it must expire with it (in the same entry): free points in it
    // afterwards are neither spendable (the lot is due) nor expired, and no sweep would ever look at them again.
    if (e.kind === 'expire') for (const part of e.lots) account.expiredLots.add(part.lot);
    for (const lot of s.lots) {
      const free = lot.remaining - lot.held;
      if (free > 0 && account.expiredLots.has(lot.id)) {
        report.violations.push(`${where}: lot ${lot.id} holds ${free} points after it expired (neither spendable nor expired)`);
      }
    }
    for (const k of Object.keys(totals) as Array<keyof Totals>) {
      if (s.totals[k] !== totals[k]) report.violations.push(`${where}: lifetime ${k} ${s.totals[k]} ≠ ${totals[k]} from entries`);
    }
    account.last = e;
  }

  const due = db.collection<DueRecord>('due_work');
  const dueKind = dueKindOf(name);
  const recorded = new Set<string>();
  for await (const r of due.find({ kind: dueKind })) recorded.add(`${r.memberId}|${r.dueAt.getTime()}`);
  const uncovered = (memberId: string, state: AccountState, have: Set<string>) => dueItems(state).filter((d) => !have.has(`${memberId}|${d.dueAt.getTime()}`));
  for (const [memberId, { last }] of running) {
    if (uncovered(memberId, last.state, recorded).length === 0) continue;
    // Re-read the account and its records: on a live store the sweeper may have settled it since the scan.
    const head = (await entries.find({ memberId, kind: { $ne: 'refusal' as EntryDoc['kind'] } }).sort({ seq: -1 }).limit(1).next()) ?? last;
    const mine = new Set((await due.find({ kind: dueKind, memberId }).toArray()).map((r) => `${r.memberId}|${r.dueAt.getTime()}`));
    for (const d of uncovered(memberId, head.state, mine)) {
      report.violations.push(`account ${memberId} seq ${head.seq}: ${d.item} (due ${d.dueAt.toISOString()}) has no due record, so no sweep would ever settle it`);
    }
  }

  for await (const a of accounts.find({})) {
    const head = running.get(a._id)?.last;
    if (!head) {
      if (a.seq > 0) report.violations.push(`account ${a._id}: cache at seq ${a.seq} but no entries`);
      continue;
    }
    if (a.seq > head.seq) report.violations.push(`account ${a._id}: cache at seq ${a.seq} is ahead of its last entry ${head.seq}`);
    else if (a.seq < head.seq || JSON.stringify(a.state) !== JSON.stringify(head.state)) report.staleCaches.push(a._id);
  }
  for (const id of running.keys()) {
    if (!(await accounts.findOne({ _id: id }, { projection: { _id: 1 } }))) report.staleCaches.push(id);
  }
  return report;
}

/** Entry kinds that take points out of lots for the member's use or for good: none may touch pending points. */
const CONSUMING = new Set(['spend', 'hold', 'capture', 'adjust', 'expire']);

/**
 * What an entry did wrong with pending points: every command makes what became available by its time available
 * first, so a lot still pending in its state must be pending at its time; and spends, holds, captures, debits and
 * expiries draw only from available lots (their parts name the lots, whose ids carry their availability).
 */
function pendingProblems(e: EntryDoc): string[] {
  const at = e.createdAt.getTime();
  const problems: string[] = [];
  for (const lot of e.state.lots) {
    if (lot.availableAt && lot.availableAt.getTime() <= at) problems.push(`lot ${lot.id} is still pending after its availability`);
  }
  if (CONSUMING.has(e.kind) && !(e.kind === 'adjust' && e.amount > 0)) {
    for (const part of e.lots) {
      const { availableAt } = parseLotId(part.lot);
      if (availableAt && availableAt.getTime() > at) problems.push(`a ${e.kind} took ${part.amount} points from lot ${part.lot}, pending until ${availableAt.toISOString()}`);
    }
  }
  return problems;
}

/**
 * Rewrites every account cache document from the last entry of its account, and records as due work whatever the last
 * entry leaves due (a store written before due records existed, or one that lost them), so sweeps reach it.
 */
export async function repairLedger(db: Connection, name = 'points'): Promise<{ rebuilt: number; dueRecorded: number }> {
  const entries = db.collection<EntryDoc>(`${name}_entries`);
  const accounts = db.collection<AccountDoc>(`${name}_accounts`);
  const due = db.collection('due_work') as unknown as Collection<DueRecord>;
  const heads = new Map<string, EntryDoc>();
  for await (const e of entries.find({}).sort({ _id: 1 })) if ((e as { kind: string }).kind !== 'refusal') heads.set(e.memberId, e);
  let dueRecorded = 0;
  for (const [memberId, e] of heads) {
    const { _id, ...doc } = accountDoc(memberId, { seq: e.seq, state: e.state, at: e.createdAt });
    await accounts.replaceOne({ _id }, doc, { upsert: true });
    for (const d of dueItems(e.state)) {
      const record = { _id: dueRecordId(name, e._id, d.item), kind: dueKindOf(name), memberId, dueAt: d.dueAt, data: {}, createdAt: new Date() };
      if (await insertOnce(due, record)) dueRecorded++;
    }
  }
  return { rebuilt: heads.size, dueRecorded };
}
