import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, isDuplicateKey } from '../../platform/db/connection.js';
import type { DayData, MemberRow } from './days.js';

/**
 * The rollup's storage (docs/ANALYTICS.md), every payload one JSON string (FerretDB v1 decodes one string field far
 * faster than many fields), every document written once by a unique `_id`:
 * - `stats_days`: one per closed day, `_id` = the day, its flows and where things stood at its end;
 * - `stats_snapshots`: one per rollup run that closed days, `_id` = the last day it closed, written last: the members'
 *   rows in `stats_member_rows` chunks (`_id` = `<day>|<chunks>|<i>`) and the points expiring by instant, as of the end
 *   of that day.
 */
type DayDoc = { _id: string; data: string };
type SnapshotDoc = { _id: string; chunks: number; data: string; at: Date };
type RowsDoc = { _id: string; rows: string };
export type Snapshot = { day: string; expiring: Record<string, number>; rows: Map<string, MemberRow> };
type PackedRow = [string, number | null, number, number, string | null, number];

/** Members per chunk of a snapshot: about 40 KB of JSON each. */
const ROWS_PER_CHUNK = 500;
/** Snapshots kept: a report reading the newest while a run writes the next still finds its chunks. */
const SNAPSHOTS_KEPT = 3;

/** Inserts documents, leaving those already there (a run that died part-way, or one racing, wrote the same ones). */
async function insertAll<T extends { _id: string }>(c: Collection<T>, docs: T[]): Promise<void> {
  for (let i = 0; i < docs.length; i += 200) {
    try {
      await c.insertMany(docs.slice(i, i + 200) as never, { ordered: false });
    } catch (err) {
      const e = err as { writeErrors?: Array<{ code?: number }> };
      if (!Array.isArray(e.writeErrors) || !e.writeErrors.every((w) => isDuplicateKey(w))) throw err;
    }
  }
}

export function rollupRepository(db: Connection) {
  const model = (name: string, collection: string) => db.model(name, new Schema({}, { collection, strict: false, versionKey: false }));
  const models = { days: model('StatsDay', 'stats_days'), snapshots: model('StatsSnapshot', 'stats_snapshots'), rows: model('StatsMemberRows', 'stats_member_rows') };
  const days = models.days.collection as unknown as Collection<DayDoc>;
  const snapshots = models.snapshots.collection as unknown as Collection<SnapshotDoc>;
  const rows = models.rows.collection as unknown as Collection<RowsDoc>;

  return {
    init: async () => {
      for (const m of Object.values(models)) await ensureCollection(m);
    },

    /** The closed days from `from` to `to` (a scan of one document per closed day). */
    async days(from: string, to: string): Promise<Map<string, DayData>> {
      const docs = await days.find({ _id: { $gte: from, $lte: to } }).toArray();
      return new Map(docs.map((d) => [d._id, JSON.parse(d.data) as DayData]));
    },
    async day(day: string): Promise<DayData | null> {
      const doc = await days.findOne({ _id: day });
      return doc ? (JSON.parse(doc.data) as DayData) : null;
    },
    insertDays: (docs: Array<{ day: string; data: DayData }>) => insertAll(days, docs.map((d) => ({ _id: d.day, data: JSON.stringify(d.data) }))),

    /** The newest snapshot's day and its points expiring by instant (no rows), or null before the first close. */
    async newest(): Promise<{ day: string; chunks: number; expiring: Record<string, number> } | null> {
      const [doc] = await snapshots.find({}).sort({ _id: -1 }).limit(1).toArray();
      return doc ? { day: doc._id, chunks: doc.chunks, expiring: (JSON.parse(doc.data) as { expiring: Record<string, number> }).expiring } : null;
    },

    /** The members' rows of a snapshot (its chunks by `_id`); null when a chunk is gone (pruned under the reader). */
    async rows(day: string, chunks: number): Promise<Map<string, MemberRow> | null> {
      const docs = await Promise.all(Array.from({ length: chunks }, (_, i) => rows.findOne({ _id: `${day}|${chunks}|${i}` })));
      const out = new Map<string, MemberRow>();
      for (const doc of docs) {
        if (!doc) return null;
        for (const [id, reg, last, lastDay, tier, tierSeq] of JSON.parse(doc.rows) as PackedRow[]) out.set(id, { reg, last, lastDay, tier, tierSeq });
      }
      return out;
    },

    /** Writes a snapshot's rows (its chunks); answers how many chunks, for `markSnapshot`. */
    async writeRows(day: string, members: Map<string, MemberRow>): Promise<number> {
      const packed: PackedRow[] = [...members.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, r]) => [id, r.reg, r.last, r.lastDay, r.tier, r.tierSeq]);
      const chunks = Math.max(1, Math.ceil(packed.length / ROWS_PER_CHUNK));
      await insertAll(rows, Array.from({ length: chunks }, (_, i) => ({ _id: `${day}|${chunks}|${i}`, rows: JSON.stringify(packed.slice(i * ROWS_PER_CHUNK, (i + 1) * ROWS_PER_CHUNK)) })));
      return chunks;
    },

    /** Says a snapshot is complete (written after its rows and its days' documents). */
    markSnapshot: (s: Omit<Snapshot, 'rows'> & { chunks: number }, at: Date) =>
      insertAll(snapshots, [{ _id: s.day, chunks: s.chunks, data: JSON.stringify({ expiring: s.expiring }), at }]),

    /** Deletes all but the newest snapshots (their chunks first). */
    async prune(): Promise<void> {
      const old = (await snapshots.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).toArray()).slice(SNAPSHOTS_KEPT);
      for (const s of old) {
        await rows.deleteMany({ _id: { $gte: `${s._id}|`, $lt: `${s._id}|~` } });
        await snapshots.deleteOne({ _id: s._id });
      }
    },
  };
}
export type RollupRepository = ReturnType<typeof rollupRepository>;
