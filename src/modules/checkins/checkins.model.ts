import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection } from '../../platform/db/connection.js';
import { noFacts, type FactSink } from '../../platform/facts.js';
import { groupInsertFor } from '../../platform/db/group-insert.js';
import { lastOfRun } from '../../platform/db/last-of-run.js';
import { Lru } from '../../platform/lru.js';
import { checkinFact } from './checkins.facts.js';
import type { CheckinConfig } from './checkins.schemas.js';
import { emptyState, type CheckinState, type RewardPlan } from './checkins.state.js';

/**
 * One committed check-in or make-up: `_id = <memberId>#<seq>`, seq counting the member's commits from 1, so the next
 * one is a unique insert at seq + 1 (as ledger entries are). `(memberId, day)` is unique too: a day is
 * checked at most once whatever the state says. Each entry carries the state after it and what its day pays.
 */
export type CheckinEntry = {
  _id: string;
  memberId: string;
  seq: number;
  opId: string;
  fingerprint: string | null;
  kind: 'checkin' | 'makeup';
  day: string;
  timezone: string;
  plan: RewardPlan;
  cost: number;
  at: Date;
  state: CheckinState;
};
export type CheckinHead = { seq: number; state: CheckinState };
/** `auditId`: the audit id of the ops write that saved it (docs/DECISIONS.md, "Audit"). */
type ConfigDoc = { _id: string; config: CheckinConfig; updatedAt: Date; auditId?: string };

export const checkinEntryId = (memberId: string, seq: number) => `${memberId}#${String(seq).padStart(10, '0')}`;

const HEADS_MAX = 100_000;

/** `facts` receives each committed entry's rollup fact (docs/ANALYTICS.md). */
export function checkinsStore(db: Connection, facts: FactSink = noFacts) {
  const logSchema = new Schema({}, { collection: 'checkin_log', strict: false, versionKey: false });
  // Prefixed by the shard key (memberId, docs/SCALING.md).
  logSchema.index({ memberId: 1, opId: 1 }, { unique: true });
  logSchema.index({ memberId: 1, day: 1 }, { unique: true });
  const logModel = db.model('CheckinEntry', logSchema);
  const configModel = db.model('CheckinConfig', new Schema({}, { collection: 'checkin_config', strict: false, versionKey: false }));
  const hintsModel = db.model('CheckinHead', new Schema({}, { collection: 'checkin_heads', strict: false, versionKey: false }));
  const hints = hintsModel.collection as unknown as Collection<{ _id: string; seq: number; state: CheckinState }>;
  const log = logModel.collection as unknown as Collection<CheckinEntry>;
  /** Entries of different members committed at the same moment share one insertMany, each keeping its unique keys. */
  const logInserts = groupInsertFor(log);
  const configs = configModel.collection as unknown as Collection<ConfigDoc>;
  /** The newest entry this process knows per member; a commit on a stale one loses its insert and re-reads. */
  const heads = new Lru<string, CheckinHead>(HEADS_MAX);

  const remember = (memberId: string, head: CheckinHead): void => heads.set(memberId, head);
  const get = (memberId: string, seq: number) => log.findOne({ _id: checkinEntryId(memberId, seq) });

  /** The newest head from `from` on (seqs are contiguous; one read when `from` is still the newest). */
  async function probe(memberId: string, from: CheckinHead): Promise<CheckinHead> {
    const last = await lastOfRun({ n: from.seq, doc: from.state }, async (n) => (await get(memberId, n))?.state ?? null);
    return { seq: last.n, state: last.doc };
  }

  /**
   * Hint documents (`checkin_heads`, one per member: a seq and the state after it) let a process that has not seen a
   * member start near its newest entry instead of probing from 1. Written after each commit without being awaited by
   * it; one written late only makes the probe a step longer, since the entries themselves decide.
   */
  const pendingHints = new Set<Promise<void>>();
  function writeHint(memberId: string, head: CheckinHead): void {
    const p = hints
      .replaceOne({ _id: memberId }, { seq: head.seq, state: head.state }, { upsert: true })
      .then(
        () => undefined,
        () => undefined, // a hint is only a shortcut; a failed write costs a longer probe later
      )
      .finally(() => pendingHints.delete(p));
    pendingHints.add(p);
  }

  return {
    log,
    async init() {
      await ensureCollection(logModel);
      await ensureCollection(configModel);
      await ensureCollection(hintsModel);
    },
    knownHead: (memberId: string) => heads.get(memberId),

    /** The member's newest entry: from this process's head, else the member's hint, probing forward by _id. */
    async freshHead(memberId: string): Promise<CheckinHead | null> {
      const start = heads.get(memberId) ?? (await hints.findOne({ _id: memberId })) ?? { seq: 0, state: emptyState() };
      const head = await probe(memberId, { seq: start.seq, state: start.state });
      remember(memberId, head); // an empty head too: the next command of this request need not read again
      return head.seq === 0 ? null : head;
    },

    /** Waits for the hint writes under way (shutdown and tests). */
    flush: async () => {
      await Promise.all([...pendingHints]);
    },

    forgetHead: (memberId: string) => heads.delete(memberId),
    get,

    /** Commits an entry; rejects with a duplicate-key error when its seq, its day or its opId is taken. */
    async insert(entry: CheckinEntry): Promise<void> {
      await logInserts.insert(entry);
      facts.record(checkinFact(entry));
      remember(entry.memberId, { seq: entry.seq, state: entry.state });
      writeHint(entry.memberId, { seq: entry.seq, state: entry.state });
    },

    /** The entry an operation committed: the newest few by _id first (a retry comes soon after), else a scan. */
    async findByOpId(memberId: string, opId: string, newestSeq: number): Promise<CheckinEntry | null> {
      const seqs = Array.from({ length: Math.min(8, newestSeq) }, (_, i) => newestSeq - i);
      const recent = await Promise.all(seqs.map((seq) => get(memberId, seq)));
      return recent.find((e) => e?.opId === opId) ?? (await log.findOne({ memberId, opId }));
    },


    /** The newest entry whose day is in `month` or before (months of entries never decrease along seq). */
    async newestUpToMonth(memberId: string, head: CheckinHead, month: string): Promise<CheckinEntry | null> {
      let lo = 0; // an entry known to be at or before month (0: none)
      let hi = head.seq + 1; // an entry known to be after it
      let best: CheckinEntry | null = null;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        const e = await get(memberId, mid);
        if (e && e.day.slice(0, 7) <= month) {
          lo = mid;
          best = e;
        } else hi = mid;
      }
      return best;
    },

    getConfig: () => configs.findOne({ _id: 'current' }),
    /** Configuration written by ops: last write wins, and every write is audited. */
    async saveConfig(config: CheckinConfig, at: Date, auditId: string | undefined): Promise<void> {
      await configs.replaceOne({ _id: 'current' }, { config, updatedAt: at, ...(auditId ? { auditId } : {}) }, { upsert: true });
    },
  };
}
export type CheckinsStore = ReturnType<typeof checkinsStore>;
