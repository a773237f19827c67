import { Schema, type Connection } from 'mongoose';
import type { Collection, Document } from 'mongodb';
import { systemClock, type Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { noFaults, type Faults } from '../faults.js';
import { KeyedQueue } from '../keyed-queue.js';
import { Lru } from '../lru.js';
import { ensureCollection, isDuplicateKey } from './connection.js';
import { groupInsertFor } from './group-insert.js';
import { lastOfRun } from './last-of-run.js';

/** Running sums of the deltas of a chain's entries, by entry kind (`open`, `take`, …): a head carries its history's totals. */
export type Totals = Record<string, number>;

/** A chain's state after its entry `seq` (seq 0: the empty chain). */
export type ChainHead = { seq: number; value: number; totals: Totals };

/**
 * One immutable entry of a counter chain: `_id = <chain>:<seq, 12 digits>`, so "one entry per seq" is the primary key
 * and the next entry is committed by a unique insert at seq + 1. It carries the chain's value and totals after it.
 * `E` holds the shard key field and whatever the user of the chain records beside it.
 */
export type ChainEntry<E extends object = object> = {
  _id: string;
  chain: string;
  seq: number;
  kind: string;
  delta: number;
  value: number;
  totals: Totals;
  opId: string;
  createdAt: Date;
} & E;

/**
 * A refusal recorded under an op id (`_id = <shard value>|refusal|<opId>`), in the chains' collection and under the
 * same `{shardKey, opId}` unique index as entries: once it lands, nothing can land under that op id, and the op's
 * outcome is the refusal for good. It has no seq and belongs to no chain.
 */
export type ChainRefusal = {
  _id: string;
  opId: string;
  kind: 'refusal';
  error: { status: number; code: string; message: string; details?: Record<string, unknown> };
  createdAt: Date;
} & Record<string, unknown>;

export type Applied<E extends object> = { entry: ChainEntry<E>; replayed: boolean };

export type ApplyRequest<E extends object> = {
  chain: string;
  /** The value of the shard key field. The chain name must embed it, so equal `_id`s always share a shard. */
  shard: string;
  opId: string;
  kind: string;
  /** The signed change to make on this head; throws a 409 AppError to refuse (decided again on a fresh head first). */
  decide: (head: ChainHead) => number;
  extra?: Partial<E>;
};

export const chainEntryId = (chain: string, seq: number) => `${chain}:${String(seq).padStart(12, '0')}`;
export const chainRefusalId = (shard: string, opId: string) => `${shard}|refusal|${opId}`;
const EMPTY: ChainHead = { seq: 0, value: 0, totals: {} };

/**
 * How often an apply re-reads and decides again after losing its seq. Within a process writes to one chain are queued,
 * so only writers of other processes take a seq from under it; as for the ledger (ledger.commit.ts), 48 attempts with
 * a growing random pause make a 503 a one-in-a-million event under three busy processes.
 */
export const APPLY_ATTEMPTS = 48;
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 50)));

/** Any document of a chains' collection: entries, recorded refusals, and side documents of the chains' user. */
export type ChainDoc = Document & { _id: string };

const isRefusal = (err: unknown): err is AppError => err instanceof AppError && err.status === 409;
const isRefusalDoc = (d: Document): d is ChainRefusal => d.kind === 'refusal';
const recorded = (r: ChainRefusal) => new AppError(r.error.status, r.error.code, r.error.message, r.error.details);

/**
 * Counter chains in one collection: each chain is an append-only run of entries whose value never goes below zero,
 * decided against the chain's head and committed by a unique insert of the next seq (the one compare-and-set every
 * engine we run on does atomically; no update decides anything). An operation lands at most once per shard value: the
 * unique index `{<shardKey>: 1, opId: 1}` is prefixed by the collection's shard key (docs/SCALING.md).
 *
 * Heads are remembered in memory and followed forward from there (lastOfRun); a stale head only costs a lost insert
 * and a re-read, and a refusal is never decided on one.
 *
 *     const chains = counterChains<{ benefit: string }>(db, 'benefit_stock', { shardKey: 'benefit' });
 *     await chains.apply({ chain: 'tea#0', shard: 'tea', opId, kind: 'take', decide: (h) => { if (h.value < 1) throw conflict(…); return -1; } });
 */
export function counterChains<E extends object>(db: Connection, collection: string, opts: { shardKey: keyof E & string; faults?: Faults; clock?: Clock }) {
  const { shardKey } = opts;
  const faults = opts.faults ?? noFaults;
  const clock = opts.clock ?? systemClock;
  const schema = new Schema({}, { collection, strict: false, versionKey: false });
  schema.index({ [shardKey]: 1, opId: 1 }, { unique: true });
  const modelName = `CounterChain_${collection}`;
  const model = db.models[modelName] ?? db.model(modelName, schema);
  const docs = model.collection as unknown as Collection<ChainDoc>;
  /** Entries of different chains ready at the same moment share one insertMany, each keeping its unique keys. */
  const inserts = groupInsertFor(docs);
  const heads = new Lru<string, ChainHead>(100_000);
  /** Within a process, applies to one chain run one at a time, so they do not race each other for its next seq. */
  const queue = new KeyedQueue();

  /** Keeps the newest head seen: a read that started before an insert of ours must not move the head back. */
  function remember(chain: string, head: ChainHead): void {
    const known = heads.get(chain);
    if (!known || known.seq < head.seq) heads.set(chain, head);
  }

  const get = async (id: string) => (await docs.findOne({ _id: id })) as ChainEntry<E> | null;

  /** The chain's newest head, followed forward by _id from the one this process knows (one read when it is the newest). */
  async function head(chain: string): Promise<ChainHead> {
    const start = heads.get(chain) ?? EMPTY;
    const last = await lastOfRun({ n: start.seq, doc: start }, async (n) => {
      const e = await docs.findOne({ _id: chainEntryId(chain, n) }, { projection: { value: 1, totals: 1 } });
      return e ? { seq: n, value: e.value as number, totals: e.totals as Totals } : null;
    });
    remember(chain, last.doc);
    return last.doc;
  }

  /**
   * What landed under an op id: its recorded refusal (read by _id), else its entry (a scan on engines without
   * secondary indexes: only after a duplicate on the op id, i.e. a retry or a concurrent repeat, and in checks).
   */
  async function findOutcome(shard: string, opId: string): Promise<ChainEntry<E> | ChainRefusal | null> {
    const refusal = await docs.findOne({ _id: chainRefusalId(shard, opId) });
    if (refusal) return refusal as ChainRefusal;
    return (await docs.findOne({ [shardKey]: shard, opId })) as ChainEntry<E> | null;
  }

  /** The answer for an operation that already landed: its entry, replayed, or its recorded refusal, thrown. */
  function landed(outcome: ChainEntry<E> | ChainRefusal): Applied<E> {
    if (isRefusalDoc(outcome)) throw recorded(outcome);
    return { entry: outcome as ChainEntry<E>, replayed: true };
  }

  async function applyNow(req: ApplyRequest<E>): Promise<Applied<E>> {
    const { chain, shard, opId, kind } = req;
    const known = heads.get(chain);
    let at = known ?? (await head(chain));
    let fresh = !known;
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      let delta: number;
      try {
        delta = req.decide(at);
      } catch (err) {
        if (!isRefusal(err) || fresh) throw err;
        at = await head(chain);
        fresh = true;
        continue;
      }
      const value = at.value + delta;
      if (!Number.isSafeInteger(delta) || delta === 0 || value < 0 || !Number.isSafeInteger(value)) {
        throw new Error(`${chain}: a delta of ${delta} on ${at.value} is not a change a counter can make`);
      }
      const seq = at.seq + 1;
      const entry = {
        ...req.extra,
        _id: chainEntryId(chain, seq),
        [shardKey]: shard,
        chain,
        seq,
        kind,
        delta,
        value,
        totals: { ...at.totals, [kind]: (at.totals[kind] ?? 0) + delta },
        opId,
        createdAt: clock.now(),
      } as ChainEntry<E>;
      faults.at(`${collection}:before-insert`);
      try {
        await inserts.insert(entry);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Either a writer of another process took this seq (re-read, decide again) or this op already landed.
        const atSeq = await get(entry._id);
        if (atSeq?.opId === opId) return { entry: atSeq, replayed: true };
        if (!atSeq) {
          const earlier = await findOutcome(shard, opId);
          if (earlier) return landed(earlier);
        }
        heads.delete(chain);
        await backoff(attempt);
        at = await head(chain);
        fresh = true;
        continue;
      }
      remember(chain, { seq, value, totals: entry.totals });
      faults.at(`${collection}:after-insert`);
      return { entry, replayed: false };
    }
    throw new AppError(503, 'CONTENTION', 'the counter is too busy right now; retry with the same operation');
  }

  return {
    /** The underlying collection, for the few side documents a user of the chains keeps beside them (read by _id). */
    collection: docs,

    async init(): Promise<void> {
      await ensureCollection(model);
    },

    head,

    /** The head this process remembers, without reading: a hint for choosing where to write, never for refusing. */
    known: (chain: string): ChainHead | undefined => heads.get(chain),

    /**
     * Decides on the chain's head and appends the entry; retries on a lost seq. Idempotent by op id: an op that already
     * landed answers its entry (`replayed`, possibly on another chain of the same shard value), an op recorded as
     * refused throws that refusal. Errors: the 409 `decide` throws (on a fresh head), 503 CONTENTION.
     */
    apply: (req: ApplyRequest<E>): Promise<Applied<E>> => queue.run(req.chain, () => applyNow(req)),

    /**
     * Records `error` as the outcome of `opId`, so nothing lands under it later. If something landed first, that is
     * the answer: `{ entry }` for an entry, `{ refusal }` with the refusal recorded earlier.
     */
    async recordRefusal(shard: string, opId: string, error: AppError, extra: Record<string, unknown> = {}): Promise<{ entry: ChainEntry<E> } | { refusal: AppError }> {
      const doc: ChainRefusal = {
        ...extra,
        _id: chainRefusalId(shard, opId),
        [shardKey]: shard,
        opId,
        kind: 'refusal',
        error: { status: error.status, code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
        createdAt: clock.now(),
      };
      if (await inserts.insertOnce(doc)) return { refusal: error };
      const earlier = await findOutcome(shard, opId);
      if (!earlier) throw new Error(`${opId}: its op id is taken, yet nothing is found under it`);
      return isRefusalDoc(earlier) ? { refusal: recorded(earlier) } : { entry: earlier as ChainEntry<E> };
    },

    findOutcome,

    /** The entry an op committed, if any (a scan on engines without secondary indexes: recovery paths and checks only). */
    findByOpId: async (shard: string, opId: string) => (await docs.findOne({ [shardKey]: shard, opId, seq: { $exists: true } })) as ChainEntry<E> | null,

    get,

    /** Every entry of a shard value's chains, by chain then seq (a scan: checks only). */
    async entries(shard: string): Promise<Array<ChainEntry<E>>> {
      const all = (await docs.find({ [shardKey]: shard }).toArray()) as Array<ChainEntry<E>>;
      return all.filter((d) => typeof d.seq === 'number').sort((a, b) => (a.chain === b.chain ? a.seq - b.seq : a.chain < b.chain ? -1 : 1));
    },

    /** Every refusal recorded under a shard value (a scan: checks only). */
    async refusals(shard: string): Promise<ChainRefusal[]> {
      return (await docs.find({ [shardKey]: shard, kind: 'refusal' }).toArray()) as ChainRefusal[];
    },

    /** Forgets remembered heads (a test simulating a fresh process). */
    forget: (chain: string) => heads.delete(chain),
  };
}

export type CounterChains<E extends object> = ReturnType<typeof counterChains<E>>;
