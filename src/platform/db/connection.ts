import mongoose, { type Connection } from 'mongoose';
import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';

/**
 * Opens a mongoose connection of our own (never the global one, so several apps can share a process).
 * Commands are not buffered while disconnected: a request fails fast with 503 instead of hanging.
 */
export async function connectDatabase(uri: string, dbName: string, timeoutMs: number): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    dbName,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: 60_000,
    maxPoolSize: 64,
  });
  await conn.asPromise();
  return conn;
}

/** True for errors that mean "the database cannot be reached right now" rather than "the request is wrong". */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    ['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoPoolClosedError'].includes(err.name) ||
    (err.name === 'MongooseError' && /initial connection|buffering|disconnected/i.test(err.message))
  );
}

/** Pings the database within `timeoutMs`; used by /readyz. */
export async function pingDatabase(conn: Connection, timeoutMs: number): Promise<boolean> {
  const db = conn.db;
  if (!db || conn.readyState !== 1) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.command({ ping: 1 }),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ping timeout')), timeoutMs))),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** True for a unique-index violation: the one compare-and-set every engine does atomically (PRODUCT.md §4). */
export const isDuplicateKey = (err: unknown): boolean => (err as { code?: number } | null)?.code === 11000;

/**
 * Inserts `doc` unless a document with one of its unique keys exists; answers whether this call inserted it. Every
 * claim, slot and record that a retry or a racing writer may write again goes through here.
 *
 *     if (!(await insertOnce(slots, { _id: `${counter}#${n}`, eventScope, at }))) ... // taken by another writer
 */
export async function insertOnce<T extends Document>(collection: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await collection.insertOne(doc);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Creates a model's collection and declared indexes; an existing collection is fine. */
export async function ensureCollection(model: { createCollection(): Promise<unknown>; createIndexes(): Promise<unknown> }): Promise<void> {
  try {
    await model.createCollection();
  } catch (err) {
    if ((err as { code?: number }).code !== 48) throw err; // NamespaceExists
  }
  await model.createIndexes();
}
