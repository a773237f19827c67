import type { Collection } from 'mongodb';
import type { Fact, FactSource } from '../../platform/facts.js';
import { entryId, type EntryDoc } from './ledger.model.js';
import type { AccountState } from './ledger.state.js';

/** Entry kinds that are the member's own doing (lifecycle segments count them as activity, docs/ANALYTICS.md). */
const ACTIVITY = new Set(['earn', 'spend', 'hold', 'capture']);

/** Points not spent yet (free: neither spent nor held), pending ones included, by when they expire. */
export function unspentByExpiry(s: AccountState | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const lot of s?.lots ?? []) {
    if (!lot.expiresAt) continue;
    const key = new Date(lot.expiresAt).toISOString();
    out.set(key, (out.get(key) ?? 0) + lot.remaining - lot.held);
  }
  return out;
}

/**
 * What one points entry adds to the ops figures: the points it earned, spent, expired, reversed or adjusted, its
 * signed effect on the balance (summed from the first entry, the outstanding liability), and how it changed the points
 * expiring at each instant (the difference of the states before and after it, so merges of lots and pending points
 * that paid a debt as they became available are counted where they happened).
 */
export function pointsFact(before: Map<string, number>, e: EntryDoc): Fact {
  const c: Record<string, number> = { 'points.net': e.amount };
  const add = (name: string, n: number) => {
    if (n !== 0) c[name] = (c[name] ?? 0) + n;
  };
  switch (e.kind) {
    case 'earn':
      add('points.earned', e.points);
      break;
    case 'spend':
      add('points.spent', e.points);
      break;
    case 'capture':
      add('points.spent', e.points);
      break;
    case 'expire':
      add('points.expired', e.points);
      break;
    case 'reverse':
      // Taking back an earn lowers the balance by all of it; giving back a spend raises it by what did not expire at once.
      add(e.amount < 0 ? 'points.reversedEarned' : 'points.reversedSpent', e.points);
      break;
    case 'adjust':
      add(e.amount > 0 ? 'points.adjustedIn' : 'points.adjustedOut', Math.abs(e.amount));
      break;
    default:
      break;
  }
  add('points.expired', e.kind === 'expire' ? 0 : e.expired ?? 0);
  const after = unspentByExpiry(e.state);
  const x: Record<string, number> = {};
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const d = (after.get(key) ?? 0) - (before.get(key) ?? 0);
    if (d !== 0) x[key] = d;
  }
  return { id: `points|${e._id}`, at: e.createdAt, member: e.memberId, ...(ACTIVITY.has(e.kind) ? { active: true } : {}), c, x };
}

/** Entries read at a time by the rollup's scan; the entries before those that need one are read together. */
const BATCH = 2000;

/**
 * The facts of the entries committed since `from`, for the rollup (a scan: on FerretDB v1 every filter but `_id` is).
 * Entries come in the order they were inserted, which is each account's seq order, so the state before an entry is
 * usually the one just read; otherwise the stored fact is used, or the previous entry is read by `_id` (those of a
 * batch at once: the first entry of each account in a run's window needs one).
 */
export function pointsFactSource(entries: Collection<EntryDoc>): FactSource {
  return {
    name: 'points',
    async *since(from, known) {
      const last = new Map<string, { seq: number; unspent: Map<string, number> }>();
      // Only what a fact needs: the state's lots, not its holds and reversals (a third less to move and decode).
      const projection = { memberId: 1, seq: 1, kind: 1, amount: 1, points: 1, expired: 1, createdAt: 1, 'state.lots': 1 };
      const cursor = entries.find({ createdAt: { $gte: from }, kind: { $ne: 'refusal' as never } } as never, { projection }) as unknown as AsyncIterable<EntryDoc>;
      let batch: EntryDoc[] = [];
      const facts = async function* (list: EntryDoc[]) {
        const wanted = new Set<string>();
        const seen = new Map<string, number>();
        for (const e of list) {
          const prev = seen.get(e.memberId) ?? last.get(e.memberId)?.seq;
          if (!known(`points|${e._id}`) && e.seq > 1 && prev !== e.seq - 1) wanted.add(entryId(e.memberId, e.seq - 1));
          seen.set(e.memberId, e.seq);
        }
        const before = new Map<string, Map<string, number>>();
        const ids = [...wanted];
        for (let i = 0; i < ids.length; i += 64) {
          const found = await Promise.all(ids.slice(i, i + 64).map((id) => entries.findOne({ _id: id }, { projection: { 'state.lots': 1 } })));
          found.forEach((p, j) => before.set(ids[i + j] as string, unspentByExpiry(p?.state ?? null)));
        }
        for (const e of list) {
          const stored = known(`points|${e._id}`);
          const prev = last.get(e.memberId);
          const unspent = prev && prev.seq === e.seq - 1 ? prev.unspent : (before.get(entryId(e.memberId, e.seq - 1)) ?? new Map<string, number>());
          last.set(e.memberId, { seq: e.seq, unspent: unspentByExpiry(e.state) });
          yield stored ?? pointsFact(unspent, e);
        }
      };
      for await (const e of cursor) {
        if (typeof e.seq !== 'number') continue;
        batch.push(e);
        if (batch.length >= BATCH) {
          yield* facts(batch);
          batch = [];
        }
      }
      yield* facts(batch);
    },
  };
}
