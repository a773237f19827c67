import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, isDuplicateKey } from '../../platform/db/connection.js';
import type { DayData, Flows, MemberRow, MembersAtEnd } from './days.js';

/**
 * What a snapshot says, as of `through`: the last closed day and the liability at its end, what the records before
 * `through` of each later (open) day added, the points expiring by instant, and where the members stood (idle days
 * counted on `through`'s day). A `closed` snapshot is taken at the end of its last closed day; a live one an hour
 * before its rollup run (docs/ANALYTICS.md).
 */
export type SnapshotData = {
  through: string;
  closed: boolean;
  closedThrough: string | null;
  closedLiability: number;
  open: Record<string, Flows>;
  expiring: Record<string, number>;
  members: MembersAtEnd;
  /** The day the members' idle days are counted on. */
  membersOn: string;
};
export type Snapshot = SnapshotData & { id: string; chunks: number };

/**
 * The rollup's storage (docs/ANALYTICS.md), every payload one JSON string (FerretDB v1 decodes one string field far
 * faster than many fields), every document written once under a unique `_id`:
 * - `stats_days`: one per closed day, `_id` = the day: its flows and where things stood at its end;
 * - `stats_snapshots`: `_id` = `<through, ISO>|closed` or `|live`, written after its members' rows
 *   (`stats_member_rows`, `_id` = `<snapshot id>|<chunks>|<i>`, 20,000 members a chunk in columns).
 */
type DayDoc = { _id: string; data: string };
type SnapshotDoc = { _id: string; chunks: number; data: string; at: Date };
type RowsDoc = { _id: string; rows: string };
type Columns = { id: string[]; reg: Array<number | null>; last: number[]; lastDay: number[]; tiers: string[]; tier: number[]; seq: number[] };

const ROWS_PER_CHUNK = 20_000;
/** Snapshots kept of each kind: a reader of the newest, or a run from the newest closed one, still finds its rows. */
const KEPT = 2;

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

function pack(rows: Array<[string, MemberRow]>): string {
  const tiers: string[] = [];
  const tierIndex = (t: string | null) => (t === null ? -1 : tiers.indexOf(t) >= 0 ? tiers.indexOf(t) : tiers.push(t) - 1);
  const c: Columns = { id: [], reg: [], last: [], lastDay: [], tiers, tier: [], seq: [] };
  for (const [id, r] of rows) {
    c.id.push(id);
    c.reg.push(r.reg);
    c.last.push(r.last);
    c.lastDay.push(r.lastDay);
    c.tier.push(tierIndex(r.tier));
    c.seq.push(r.tierSeq);
  }
  return JSON.stringify(c);
}

function unpack(text: string, into: Map<string, MemberRow>): void {
  const c = JSON.parse(text) as Columns;
  c.id.forEach((id, i) => {
    const t = c.tier[i] as number;
    into.set(id, { reg: c.reg[i] ?? null, last: c.last[i] as number, lastDay: c.lastDay[i] as number, tier: t < 0 ? null : (c.tiers[t] as string), tierSeq: c.seq[i] as number });
  });
}

export function rollupRepository(db: Connection) {
  const model = (name: string, collection: string) => db.model(name, new Schema({}, { collection, strict: false, versionKey: false }));
  const models = { days: model('StatsDay', 'stats_days'), snapshots: model('StatsSnapshot', 'stats_snapshots'), rows: model('StatsMemberRows', 'stats_member_rows') };
  const days = models.days.collection as unknown as Collection<DayDoc>;
  const snapshots = models.snapshots.collection as unknown as Collection<SnapshotDoc>;
  const rows = models.rows.collection as unknown as Collection<RowsDoc>;

  async function all(): Promise<Snapshot[]> {
    const docs = await snapshots.find({}).sort({ _id: -1 }).toArray();
    return docs.map((d) => ({ ...(JSON.parse(d.data) as SnapshotData), id: d._id, chunks: d.chunks }));
  }

  return {
    init: async () => {
      for (const m of Object.values(models)) await ensureCollection(m);
    },

    /** The closed days from `from` to `to` (a scan of one small document per closed day). */
    async days(from: string, to: string): Promise<Map<string, DayData>> {
      const docs = await days.find({ _id: { $gte: from, $lte: to } }).toArray();
      return new Map(docs.map((d) => [d._id, JSON.parse(d.data) as DayData]));
    },
    insertDays: (docs: Array<{ day: string; data: DayData }>) => insertAll(days, docs.map((d) => ({ _id: d.day, data: JSON.stringify(d.data) }))),

    /** The newest snapshot (either kind), or null before the first rollup run. */
    newest: async (): Promise<Snapshot | null> => (await all())[0] ?? null,
    /** The newest closed snapshot: where a rollup run starts from. */
    newestClosed: async (): Promise<Snapshot | null> => (await all()).find((s) => s.closed) ?? null,

    /** A snapshot's members' rows; null when a chunk is gone (pruned under the reader). */
    async rows(s: Snapshot): Promise<Map<string, MemberRow> | null> {
      const docs = await Promise.all(Array.from({ length: s.chunks }, (_, i) => rows.findOne({ _id: `${s.id}|${s.chunks}|${i}` })));
      const out = new Map<string, MemberRow>();
      for (const doc of docs) {
        if (!doc) return null;
        unpack(doc.rows, out);
      }
      return out;
    },

    /** Writes a snapshot: its rows first, then the document that says it is complete. Answers its id. */
    async writeSnapshot(data: SnapshotData, members: Map<string, MemberRow>, at: Date): Promise<string> {
      const id = `${data.through}|${data.closed ? 'closed' : 'live'}`;
      const sorted = [...members.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const chunks = Math.max(1, Math.ceil(sorted.length / ROWS_PER_CHUNK));
      const docs = Array.from({ length: chunks }, (_, i) => ({ _id: `${id}|${chunks}|${i}`, rows: pack(sorted.slice(i * ROWS_PER_CHUNK, (i + 1) * ROWS_PER_CHUNK)) }));
      for (const doc of docs) await insertAll(rows, [doc]);
      await insertAll(snapshots, [{ _id: id, chunks, data: JSON.stringify(data), at }]);
      return id;
    },

    /** Deletes all but the newest snapshots of each kind (their rows first). */
    async prune(): Promise<void> {
      const list = await all();
      const old = [...list.filter((s) => s.closed).slice(KEPT), ...list.filter((s) => !s.closed).slice(KEPT)];
      for (const s of old) {
        await rows.deleteMany({ _id: { $gte: `${s.id}|`, $lt: `${s.id}|~` } });
        await snapshots.deleteOne({ _id: s.id });
      }
    },
  };
}
export type RollupRepository = ReturnType<typeof rollupRepository>;
