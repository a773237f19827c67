import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Calendar } from './calendar.js';
import { ensureCollection, isDuplicateKey } from './db/connection.js';
import { groupInsertFor } from './db/group-insert.js';
import { noFaults, type Faults } from './faults.js';
import type { Logger } from './logger.js';

/**
 * A rollup fact: what one committed record adds to the ops figures (docs/ANALYTICS.md). Its `id` derives from the
 * record (`points|<entry id>`, `checkin|<entry id>` …), so however often it is written — after the commit, by a
 * retry, by the rollup's backfill from the records — it counts once.
 */
export type Fact = {
  id: string;
  /** When the record was committed: the program-zone day it counts on. */
  at: Date;
  member?: string;
  /** The record is the member's own activity (earned, spent, held, captured, checked in). */
  active?: boolean;
  /** The record is the member's registration. */
  registered?: boolean;
  /** The member's tier after the record (a tier change, `seq` ordering a member's changes). */
  tier?: { to: string; seq: number };
  /** Counters summed per day, e.g. `points.earned`. */
  c?: Record<string, number>;
  /** Counters by key summed per day, e.g. `benefits.issued` by benefit code. */
  k?: Record<string, Record<string, number>>;
  /** Change of the points not yet spent, by the ISO instant they expire at. */
  x?: Record<string, number>;
};

/** Where modules put the facts of what they commit; written off the request path. */
export type FactSink = { record(fact: Fact): void };
export const noFacts: FactSink = { record: () => {} };

/**
 * Where a module's facts come from when they are rebuilt: every fact of the records committed at or after `from`.
 * `known(id)` answers a fact already stored, which a source may use instead of rebuilding it (the points source saves
 * a read of the previous entry that way).
 */
export type FactSource = { name: string; since(from: Date, known: (id: string) => Fact | undefined): AsyncIterable<Fact> };

/** As stored: the day it counts on, when, and the rest packed in one string (FerretDB decodes one field far faster than many). */
type FactDoc = { _id: string; day: string; at: Date; f: string };
type Packed = { at: number; m?: string; a?: 1; r?: 1; t?: [string, number]; c?: Fact['c']; k?: Fact['k']; x?: Fact['x'] };

export const packFact = (f: Fact, day: string): FactDoc => {
  const p: Packed = { at: f.at.getTime() };
  if (f.member !== undefined) p.m = f.member;
  if (f.active) p.a = 1;
  if (f.registered) p.r = 1;
  if (f.tier) p.t = [f.tier.to, f.tier.seq];
  if (f.c && Object.keys(f.c).length > 0) p.c = f.c;
  if (f.k && Object.keys(f.k).length > 0) p.k = f.k;
  if (f.x && Object.keys(f.x).length > 0) p.x = f.x;
  return { _id: f.id, day, at: f.at, f: JSON.stringify(p) };
};

export function unpackFact(doc: FactDoc): Fact {
  const p = JSON.parse(doc.f) as Packed;
  return {
    id: doc._id,
    at: new Date(p.at),
    ...(p.m !== undefined ? { member: p.m } : {}),
    ...(p.a ? { active: true } : {}),
    ...(p.r ? { registered: true } : {}),
    ...(p.t ? { tier: { to: p.t[0], seq: p.t[1] } } : {}),
    ...(p.c ? { c: p.c } : {}),
    ...(p.k ? { k: p.k } : {}),
    ...(p.x ? { x: p.x } : {}),
  };
}

/**
 * The facts of the records the rollup has not summed yet (`stats_facts`): written by the modules after each commit, in
 * the background and grouped with other inserts, never awaited by a request; read by the stats reports; deleted once a
 * rollup run has summed their records (it sums the records themselves, so a fact lost to a crash between a commit and
 * its write is not lost from the figures).
 *
 *     const facts = factStore(db, { calendar, logger }); facts.record({ id: `points|${entry._id}`, at, c: { 'points.earned': 10 } });
 */
export function factStore(db: Connection, deps: { calendar: Calendar; logger: Logger; faults?: Faults }) {
  const model = db.model('StatsFact', new Schema({}, { collection: 'stats_facts', strict: false, versionKey: false }));
  const facts = model.collection as unknown as Collection<FactDoc>;
  const faults = deps.faults ?? noFaults;
  const writing = new Set<Promise<void>>();

  return {
    init: () => ensureCollection(model),

    /** Writes a fact in the background (a fact already written counts once); a failure is repaired by the rollup. */
    record(fact: Fact): void {
      try {
        faults.at('stats:before-fact');
      } catch {
        return; // a crash injected between the commit and its fact: the fact is never written, as if the process died here
      }
      const p = groupInsertFor(facts)
        .insertOnce(packFact(fact, deps.calendar.dayOf(fact.at)))
        .then(
          () => undefined,
          (err: unknown) => deps.logger.warn({ err, fact: fact.id }, 'rollup fact not written; the next rollup run rebuilds it from the record'),
        )
        .finally(() => writing.delete(p));
      writing.add(p);
    },

    /** Waits for the facts being written (reads that must see this process's own facts, shutdown, tests). */
    flush: async () => {
      await Promise.all([...writing]);
    },

    /** Every stored fact with its day (the collection holds the last hour or two of facts, so this scan stays small). */
    async all(): Promise<Array<{ day: string; fact: Fact }>> {
      return (await facts.find({}).toArray()).map((d) => ({ day: d.day, fact: unpackFact(d) }));
    },

    /** Inserts the facts a rollup rebuilt that are missing; one already there is left as it is. */
    async insertMissing(missing: Array<{ day: string; fact: Fact }>): Promise<number> {
      let inserted = 0;
      for (let i = 0; i < missing.length; i += 500) {
        const batch = missing.slice(i, i + 500).map((m) => packFact(m.fact, m.day));
        try {
          inserted += (await facts.insertMany(batch, { ordered: false })).insertedCount;
        } catch (err) {
          const e = err as { writeErrors?: Array<{ code?: number }>; insertedCount?: number; result?: { insertedCount?: number } };
          if (!Array.isArray(e.writeErrors) || !e.writeErrors.every((w) => isDuplicateKey(w))) throw err;
          inserted += batch.length - e.writeErrors.length;
        }
      }
      return inserted;
    },

    /** Deletes the facts of records committed before `at` (a rollup snapshot has summed them). */
    deleteBefore: (at: Date) => facts.deleteMany({ at: { $lt: at } }).then(() => undefined),
  };
}
export type FactStore = ReturnType<typeof factStore>;
