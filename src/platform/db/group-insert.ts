import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';
import { isDuplicateKey } from './connection.js';

/** How inserts into one collection are grouped: at most `maxBatch` documents a batch, `maxInFlight` batches at once. */
export type GroupInsertOptions = { maxBatch: number; maxInFlight: number };

type Waiting<T> = { doc: OptionalUnlessRequiredId<T>; resolve: () => void; reject: (err: unknown) => void };

/** A per-document failure of a batch, shaped as the driver's own error for a lone insert (a duplicate key has code 11000). */
class DocumentWriteError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = 'MongoServerError';
  }
}

/**
 * Group commit for one collection (docs/PERFORMANCE.md): inserts that are ready at the same moment go to the engine as
 * one `insertMany({ ordered: false })`, so many commands share one round trip and, on FerretDB, one SQL transaction.
 * Each document keeps its own unique indexes, and each caller learns from the driver's per-document `writeErrors`
 * whether its own document landed: a duplicate rejects that caller alone, exactly as its lone `insertOne` would have.
 *
 * Nothing waits for a batch to fill: while fewer than `maxInFlight` batches are under way an insert leaves at once
 * (alone when it is alone, so an idle service adds no latency); the inserts that arrive while they are all under way
 * leave together as soon as one returns. An error that is not a document's own (the engine went away) rejects every
 * caller of that batch, as it would have each lone insert: none of them knows whether its document landed.
 *
 *     const inserts = groupInsert(entries, { maxBatch: 50, maxInFlight: 2 }); await inserts.insert(entry);
 */
export function groupInsert<T extends Document>(collection: Collection<T>, opts: GroupInsertOptions) {
  const waiting: Array<Waiting<T>> = [];
  let inFlight = 0;
  const stats = { batches: 0, documents: 0 };

  async function send(batch: Array<Waiting<T>>): Promise<void> {
    stats.batches++;
    stats.documents += batch.length;
    if (batch.length === 1) {
      const [only] = batch as [Waiting<T>];
      await collection.insertOne(only.doc).then(only.resolve, only.reject);
      return;
    }
    try {
      await collection.insertMany(
        batch.map((w) => w.doc),
        { ordered: false },
      );
      for (const w of batch) w.resolve();
    } catch (err) {
      const failed = documentErrors(err);
      if (!failed) {
        for (const w of batch) w.reject(err);
        return;
      }
      batch.forEach((w, i) => {
        const own = failed.get(i);
        if (own) w.reject(own);
        else w.resolve();
      });
    }
  }

  function pump(): void {
    while (inFlight < opts.maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, opts.maxBatch);
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    /** Inserts `doc` with the next batch; rejects with the document's own error (code 11000 when a unique key is taken). */
    insert(doc: OptionalUnlessRequiredId<T>): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ doc, resolve, reject });
        pump();
      });
    },
    /** As insertOnce (connection.ts), with the next batch: whether this call inserted `doc` (false: a unique key was taken). */
    insertOnce(doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
      return this.insert(doc).then(
        () => true,
        (err: unknown) => {
          if (isDuplicateKey(err)) return false;
          throw err;
        },
      );
    },
    /** Batches and documents sent so far (for the benchmark and tests). */
    stats: () => ({ ...stats }),
  };
}

/**
 * The per-document errors of a failed unordered insertMany, by index in the batch; undefined when the failure is not
 * the documents' own (no per-document errors, or a write concern error, which leaves every document's fate unknown).
 */
function documentErrors(err: unknown): Map<number, DocumentWriteError> | undefined {
  const e = err as { writeErrors?: unknown; writeConcernError?: unknown; errorResponse?: { writeConcernError?: unknown } };
  if (!e || !Array.isArray(e.writeErrors) || e.writeErrors.length === 0) return undefined;
  if (e.writeConcernError || e.errorResponse?.writeConcernError) return undefined;
  const out = new Map<number, DocumentWriteError>();
  for (const we of e.writeErrors as Array<{ index: number; code?: number; errmsg?: string }>) {
    out.set(we.index, new DocumentWriteError(we.errmsg ?? 'write error', we.code));
  }
  return out;
}

/** The grouping every collection gets unless told otherwise: GROUP_COMMIT_MAX_BATCH and GROUP_COMMIT_IN_FLIGHT. */
let processDefaults: GroupInsertOptions = { maxBatch: 50, maxInFlight: 2 };
const perCollection = new WeakMap<object, ReturnType<typeof groupInsert>>();

/** Sets the grouping of this process's collections from its configuration (the app does, before any insert). */
export function configureGroupCommit(opts: GroupInsertOptions): void {
  processDefaults = opts;
}

/** The one group inserter of a collection object, so that every insert into it in this process can share a batch. */
export function groupInsertFor<T extends Document>(collection: Collection<T>): ReturnType<typeof groupInsert<T>> {
  let inserter = perCollection.get(collection) as ReturnType<typeof groupInsert<T>> | undefined;
  if (!inserter) {
    inserter = groupInsert(collection, processDefaults);
    perCollection.set(collection, inserter as never);
  }
  return inserter;
}

