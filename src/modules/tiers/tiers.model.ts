import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { cachedFor } from '../../platform/cache.js';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import type { LadderInput } from './tiers.schemas.js';

/**
 * A ladder version: every PUT inserts the next version, so concurrent changes cannot both claim one. `auditId`: the
 * audit id of the ops write that saved it (docs/DECISIONS.md, "Audit").
 */
export type LadderDoc = LadderInput & { _id: number; updatedAt: Date; actor: string; auditId?: string };
/** One tier change of a member; `_id` is `<memberId>:<seq>`, so two racing changes cannot both be the next. */
export type TierChangeDoc = {
  _id: string;
  memberId: string;
  seq: number;
  from: string | null;
  to: string;
  reason: string;
  growth: number;
  ladderVersion: number;
  at: Date;
  validUntil: Date | null;
};

const changeId = (memberId: string, seq: number) => `${memberId}:${String(seq).padStart(6, '0')}`;
export const changeIdOf = (c: Pick<TierChangeDoc, 'memberId' | 'seq'>) => changeId(c.memberId, c.seq);

export function tiersRepository(db: Connection) {
  const laddersModel = db.model('TierLadder', new Schema({ _id: Number }, { collection: 'tier_ladders', strict: false, versionKey: false }));
  const historyModel = db.model('TierChange', new Schema({}, { collection: 'tier_history', strict: false, versionKey: false }));
  const ladders = laddersModel.collection as unknown as Collection<LadderDoc>;
  const history = historyModel.collection as unknown as Collection<TierChangeDoc>;
  let knownVersion = 0;
  /**
   * The newest ladder: from the newest version this process has seen (versions are never deleted), follow versions
   * forward by _id. The walk keeps its own position, as concurrent walks move `knownVersion` under it.
   */
  async function newestLadder(): Promise<LadderDoc | null> {
    let version = knownVersion;
    let current = version > 0 ? await ladders.findOne({ _id: version }) : null;
    for (;;) {
      const next = await ladders.findOne({ _id: version + 1 });
      if (!next) break;
      current = next;
      version = next._id;
    }
    knownVersion = Math.max(knownVersion, version);
    return current;
  }
  /** Every event reads the ladder, so it is served from memory for up to 2 s, as earning rules are. */
  const ladder = cachedFor(2000, newestLadder);
  return {
    async init() {
      await ensureCollection(laddersModel);
      await ensureCollection(historyModel);
    },
    /** The newest ladder, from memory (a ladder saved on this instance applies at once, on others within 2 s). */
    currentLadder: () => ladder.get(),
    /** The newest ladder in the database, for decisions that write (the next version, a re-evaluation). */
    latestLadder: newestLadder,
    /** One version, null when it does not exist (yet). */
    ladderVersion: (version: number) => ladders.findOne({ _id: version }),
    /** Inserts the next version; false when another writer took it first. */
    async insertLadder(doc: LadderDoc): Promise<boolean> {
      const inserted = await insertOnce(ladders, doc);
      if (inserted) ladder.invalidate();
      return inserted;
    },
    /** A member's changes, oldest first (few per member: read by _id until one is missing). */
    async changes(memberId: string): Promise<TierChangeDoc[]> {
      const out: TierChangeDoc[] = [];
      for (let seq = 1; ; seq++) {
        const c = await history.findOne({ _id: changeId(memberId, seq) });
        if (!c) return out;
        out.push(c);
      }
    },
    /** Every change made at or after `from` (a scan: the rollup only). */
    changesSince: (from: Date): AsyncIterable<TierChangeDoc> => history.find({ at: { $gte: from } }),
    /** Appends a change at `seq`; false when another writer appended first (re-read and decide again). */
    append: (change: Omit<TierChangeDoc, '_id'>): Promise<boolean> => insertOnce(history, { ...change, _id: changeId(change.memberId, change.seq) }),
  };
}
export type TiersRepository = ReturnType<typeof tiersRepository>;
