import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import { groupInsertFor } from '../../platform/db/group-insert.js';
import { lastOfRun } from '../../platform/db/last-of-run.js';
import { Lru } from '../../platform/lru.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Logger } from '../../platform/logger.js';
import { emptyState, type AccountState, type Draft, type LotPart } from './ledger.state.js';

/** An immutable ledger entry. Its `_id` is `<memberId>:<seq, 12 digits>`, so "one entry per seq" is the primary key. */
export type EntryDoc = {
  _id: string;
  memberId: string;
  seq: number;
  /** The operation this entry commits; unique, so an operation lands at most once whatever the retries. */
  opId: string;
  /** Fingerprint of the request that asked for it; a different request with the same operation is refused. */
  fingerprint: string | null;
  kind: Draft['kind'];
  amount: number;
  points: number;
  code: string;
  ref: { type: string; id: string } | null;
  lots: LotPart[];
  holdId: string | null;
  reverses: string | null;
  expired: number;
  expiresAt: Date | null;
  /** Of an earn into a pending lot: when its points become available. Absent on every other entry. */
  availableAt?: Date;
  actor: { role: string; sub: string };
  createdAt: Date;
  /** The account's state after this entry: the entry with the highest seq is the account's truth. */
  state: AccountState;
};

/**
 * A refusal of a keyed command (`INSUFFICIENT_POINTS`, `REVERSAL_EXCEEDS_ENTRY`, …), decided on the account's truth and
 * recorded under the command's op id in the entries collection, so the same unique index that lets an operation land
 * once also keeps it refused: a request re-sent under the key later (even after its idempotency record is purged)
 * answers the same refusal, and no entry can land under that op id afterwards. It has no seq and is not an entry of
 * the account (its `_id` is not an entry id, so it is never listed, reversed or counted).
 */
export type RefusalDoc = {
  _id: string;
  memberId: string;
  opId: string;
  fingerprint: string | null;
  kind: 'refusal';
  error: { status: number; code: string; message: string; details?: Record<string, unknown> };
  createdAt: Date;
};

/**
 * How much of a reversed entry was reversed when an entry (`seq`, `opId`) dropped it from the state's list, or reversed
 * it again after: `_id = <target entry id>#<n>`, n counting from 1 per target, so the newest is found by _id alone.
 */
export type ReversalRecord = { _id: string; memberId: string; target: string; seq: number; opId: string; total: number; createdAt: Date };
const reversalId = (targetId: string, n: number) => `${targetId}#${n}`;

/** What an operation left under its op id: an entry, or a recorded refusal. */
export type Outcome = EntryDoc | RefusalDoc;

export const refusalId = (memberId: string, opId: string) => `${memberId}:refusal:${opId}`;

/** The read cache of an account: the state of its latest entry known to this process when it was written. */
export type AccountDoc = {
  _id: string;
  seq: number;
  state: AccountState;
  /** When the entry at `seq` was written. */
  at: Date | null;
  updatedAt: Date;
};

/**
 * An account's state after its entry `seq`, and when that entry was written: an account's time never runs backwards,
 * so a process whose clock is behind decides as of that time (a lot another process expired stays expired for it).
 */
export type Head = { seq: number; state: AccountState; at: Date | null };

export const emptyHead = (): Head => ({ seq: 0, state: emptyState(), at: null });

/** The accounts cache document of a head (a hint for reads: every reader follows the entries from it). */
export const accountDoc = (memberId: string, head: Head): AccountDoc => ({
  _id: memberId,
  seq: head.seq,
  state: head.state,
  at: head.at,
  updatedAt: new Date(),
});

/** The due record of an item an entry opened (a lot that will expire, a hold that will time out). */
export const dueRecordId = (ledger: string, entryId: string, item: string) => `${ledger}|${entryId}|${item}`;
export const dueKindOf = (ledger: string) => `${ledger}.due`;

export const entryId = (memberId: string, seq: number) => `${memberId}:${String(seq).padStart(12, '0')}`;

/** Splits an entry or hold id back into its member and seq; undefined when it is not one of ours. */
export function parseEntryId(id: string): { memberId: string; seq: number } | undefined {
  const m = /^(.+):(\d{12})$/.exec(id);
  return m?.[1] && m[2] ? { memberId: m[1], seq: Number(m[2]) } : undefined;
}

/**
 * The storage of one ledger (points, or growth in a later module): entries, the accounts cache and the head of each
 * account. Everything on a request's path is an insert or a read by _id, the only operations every engine we run on
 * (FerretDB v1 included) does quickly and atomically.
 */
export function ledgerStore(db: Connection, name: string, logger: Logger, faults: Faults = noFaults) {
  const entriesSchema = new Schema({}, { collection: `${name}_entries`, strict: false, versionKey: false });
  // Prefixed by the shard key (memberId, docs/SCALING.md): an operation always lands on one member's account.
  entriesSchema.index({ memberId: 1, opId: 1 }, { unique: true });
  const entriesModel = db.model(`${name}Entry`, entriesSchema);
  const reversalsModel = db.model(`${name}Reversal`, new Schema({}, { collection: `${name}_reversals`, strict: false, versionKey: false }));
  const reversals = reversalsModel.collection as unknown as Collection<ReversalRecord>;
  const accountsModel = db.model(`${name}Account`, new Schema({}, { collection: `${name}_accounts`, strict: false, versionKey: false }));
  const entries = entriesModel.collection as unknown as Collection<EntryDoc>;
  const outcomes = entriesModel.collection as unknown as Collection<Outcome>;
  const accounts = accountsModel.collection as unknown as Collection<AccountDoc>;
  /** Entries of different accounts committed at the same moment share one insertMany, each keeping its unique keys. */
  const entryInserts = groupInsertFor(entries);

  /** Heads this process has seen, so a command rarely reads before it writes. A stale head only costs a re-read. */
  const heads = new Lru<string, Head>(100_000);
  /** Accounts whose cache document is behind; written in the background, coalesced per account. */
  const dirty = new Map<string, Head>();
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  /** Consecutive flushes that failed to write anything: the next one waits longer (at most 30 s). */
  let failedFlushes = 0;

  const remember = (memberId: string, head: Head): void => heads.set(memberId, head);

  async function writeAccount(memberId: string, head: Head): Promise<void> {
    faults.at(`${name}:account-cache-write`);
    const doc = accountDoc(memberId, head);
    // Filtered by _id alone, the one filter every engine can push down (on FerretDB a second key makes it decode every
    // account). A guard against moving backwards would not be atomic there anyway: this process writes each account's
    // heads in order, and across processes a cache left behind is what readers already tolerate (they follow entries).
    await accounts.replaceOne({ _id: memberId }, doc, { upsert: true }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err; // two processes creating one account's cache at once: either is fine
    });
  }

  /**
   * Writes what is dirty; a write that fails goes back on the list (unless a newer head replaced it meanwhile), so a
   * cache is never left behind for good by a failed write. Stops when a whole pass wrote nothing.
   */
  async function flush(): Promise<void> {
    while (dirty.size > 0) {
      const batch = [...dirty.entries()];
      dirty.clear();
      const written = await Promise.all(
        batch.map(([memberId, head]) =>
          writeAccount(memberId, head).then(
            () => true,
            (err: unknown) => {
              logger.warn({ err, memberId }, 'account cache write failed; it is written again later');
              if (!dirty.has(memberId)) dirty.set(memberId, head);
              return false;
            },
          ),
        ),
      );
      failedFlushes = written.some(Boolean) ? 0 : failedFlushes + 1;
      if (failedFlushes > 0) return;
    }
  }

  function scheduleFlush(): void {
    if (flushTimer || flushing) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      flushing = flush().finally(() => {
        flushing = undefined;
        if (dirty.size > 0) scheduleFlush();
      });
    }, failedFlushes === 0 ? 20 : Math.min(30_000, 250 * 2 ** failedFlushes));
    flushTimer.unref();
  }

  /** The number of the newest reversal record of an entry (0 if none), by a doubling then halving search over _ids. */
  const lastReversal = async (targetId: string) =>
    (await lastOfRun({ n: 0, doc: true }, async (n) => ((await reversals.findOne({ _id: reversalId(targetId, n) }, { projection: { _id: 1 } })) ? true : null))).n;

  /** Follows entries forward from a known head to the newest (one read when it is the newest already). */
  async function probeForward(memberId: string, from: Head): Promise<Head> {
    const last = await lastOfRun({ n: from.seq, doc: { state: from.state, at: from.at } }, async (n) => {
      const e = await entries.findOne({ _id: entryId(memberId, n) }, { projection: { state: 1, createdAt: 1 } });
      return e ? { state: e.state, at: e.createdAt } : null;
    });
    return { seq: last.n, ...last.doc };
  }

  return {
    entries,
    accounts,
    async init(): Promise<void> {
      await ensureCollection(entriesModel);
      await ensureCollection(accountsModel);
      await ensureCollection(reversalsModel);
    },

    /** The latest head this process knows, without touching the database; verify with `freshHead` for reads. */
    knownHead: (memberId: string): Head | undefined => heads.get(memberId),

    /** The account's current head: from memory or the accounts cache, then followed forward to the last entry. */
    async freshHead(memberId: string): Promise<Head> {
      let start = heads.get(memberId);
      if (!start) {
        const cached = await accounts.findOne({ _id: memberId });
        start = cached ? { seq: cached.seq, state: cached.state, at: cached.at ?? null } : emptyHead();
      }
      const head = await probeForward(memberId, start);
      remember(memberId, head);
      return head;
    },

    /** Commits one entry; rejects with a duplicate-key error when its seq or its opId is taken. */
    async insert(entry: EntryDoc): Promise<void> {
      await entryInserts.insert(entry);
      const head = { seq: entry.seq, state: entry.state, at: entry.createdAt };
      remember(entry.memberId, head);
      dirty.set(entry.memberId, head);
      scheduleFlush();
    },

    forgetHead(memberId: string): void {
      heads.delete(memberId);
    },

    get: (id: string) => entries.findOne({ _id: id }),

    /** Records a refusal under its op id; rejects with a duplicate-key error when something already landed under it. */
    insertRefusal: (doc: RefusalDoc) => outcomes.insertOne(doc).then(() => undefined),

    /**
     * What an operation left, if anything: its recorded refusal (read by _id), else the entry it committed (a scan on
     * engines without secondary indexes: only for retries and the rare refusals that must rule out an earlier landing).
     */
    async findOutcome(memberId: string, opId: string): Promise<Outcome | null> {
      return (await outcomes.findOne({ _id: refusalId(memberId, opId) })) ?? (await outcomes.findOne({ memberId, opId }));
    },

    /** How much of `targetId` its reversal entries up to `upToSeq` took back (for entries older than the state's list). */
    /**
     * How much of `targetId` is reversed as of the head at `upToSeq`, for an entry the state no longer lists: the total
     * of its newest reversal record whose entry landed at or before that seq (reads by _id only: the record chain's
     * end is found by a doubling then halving search, and each candidate is checked against the entry at its seq).
     */
    async reversedSoFar(memberId: string, targetId: string, upToSeq: number): Promise<number> {
      for (let n = await lastReversal(targetId); n >= 1; n--) {
        const r = await reversals.findOne({ _id: reversalId(targetId, n) });
        if (!r || r.seq > upToSeq) continue;
        const e = await entries.findOne({ _id: entryId(memberId, r.seq) }, { projection: { opId: 1 } });
        if (e?.opId === r.opId) return r.total;
      }
      return 0;
    },

    /**
     * Records, before the entry at `seq` (op `opId`) lands, the totals of the reversed entries it drops from the state's
     * list: each as the next record of that entry's chain (a unique insert; one taken by a racing writer moves on).
     * A record whose entry never lands is ignored by `reversedSoFar`.
     */
    async recordDropped(memberId: string, seq: number, opId: string, dropped: Array<{ entry: string; amount: number }>): Promise<void> {
      await Promise.all(
        dropped.map(async (d) => {
          const record = (n: number) => ({ _id: reversalId(d.entry, n), memberId, target: d.entry, seq, opId, total: d.amount, createdAt: new Date() });
          let n = await lastReversal(d.entry);
          // A slot taken by a writer racing on this entry: the next one (racing writers are few; 64 is a bug).
          for (let tries = 0; !(await insertOnce(reversals, record(++n))); tries++) {
            if (tries === 64) throw new Error(`cannot record the reversals of ${d.entry}`);
          }
        }),
      );
    },

    /** The entry an operation committed, if any (a scan on engines without secondary indexes: recovery paths only). */
    findByOpId: (memberId: string, opId: string) => entries.findOne({ memberId, opId }),

    /** Entries of a member, newest first, before `beforeSeq`, read by _id (never a scan). */
    async page(memberId: string, beforeSeq: number, count: number): Promise<EntryDoc[]> {
      const seqs = Array.from({ length: Math.min(count, beforeSeq - 1) }, (_, i) => beforeSeq - 1 - i);
      const found = await Promise.all(seqs.map((seq) => entries.findOne({ _id: entryId(memberId, seq) })));
      return found.filter((e): e is EntryDoc => e !== null);
    },

    /** Writes every pending account cache document now, trying a failed one up to three times (tests, checks, shutdown). */
    async flush(): Promise<void> {
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = undefined;
      }
      await flushing;
      for (let pass = 0; pass < 3 && dirty.size > 0; pass++) await flush();
    },
  };
}
export type LedgerStore = ReturnType<typeof ledgerStore>;
