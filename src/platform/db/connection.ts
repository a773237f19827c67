import mongoose, { type Connection } from 'mongoose';
import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';
import { groupInsertFor } from './group-insert.js';

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

// Classes of the driver mongoose runs (a process may hold another copy of the driver: the tests' embedded
// engine brings one). Other copies' errors are matched by class name along the prototype chain below.
const { MongoClientClosedError, MongoExpiredSessionError, MongoNetworkError, MongoNotConnectedError, MongoServerClosedError, MongoServerSelectionError, MongoTopologyClosedError } =
  mongoose.mongo;
/** What an operation gets when our own client is closed under it (shutdown). */
const closingClasses = [MongoClientClosedError, MongoNotConnectedError, MongoTopologyClosedError, MongoExpiredSessionError];
const closingNames = new Set([
  ...closingClasses.map((c) => c.name),
  // Not exported by the driver: the pool an operation waited on was closed.
  'MongoPoolClosedError',
]);
const unavailableClasses = [MongoNetworkError, MongoServerSelectionError, MongoServerClosedError];
const unavailableNames = new Set([
  ...unavailableClasses.map((c) => c.name),
  // Not exported by the driver: a pool cleared after a network error (a MongoNetworkError), or out of connections.
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongooseServerSelectionError',
]);
/** Labels the driver puts on errors after which the pool is reset or the operation may be retried on a fresh one. */
const unavailableLabels = ['ResetPool', 'PoolRequestedRetry'];
/** What node's socket says when the engine goes away under a write or read; the driver does not always wrap it. */
const socketCodes = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The class names of `err` and its ancestors, and its `name` (the driver's classes override it). */
function classNames(err: Error): string[] {
  const names = [err.name];
  for (let proto = Object.getPrototypeOf(err) as object | null; proto && proto !== Error.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    names.push((proto as { constructor: { name: string } }).constructor.name);
  }
  return names;
}

/** `err` and its causes, at most five (a cause may point back at its error). */
function errorChain(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = err; chain.length < 5 && current instanceof Error && !chain.includes(current); current = current.cause) chain.push(current);
  return chain;
}

/**
 * insertMany and bulkWrite wrap a driver error that stopped them (not a server's answer) in a MongoBulkWriteError with
 * no per-document errors: it keeps the message and labels of what it wrapped, not its class, so the message tells.
 */
const wrappedDriverError = (err: Error): boolean => {
  const e = err as { writeErrors?: unknown; writeConcernError?: unknown };
  return err.name === 'MongoBulkWriteError' && (!Array.isArray(e.writeErrors) || e.writeErrors.length === 0) && !e.writeConcernError;
};
/** What the closing classes say (client, topology, pool closed; a session ended by closing). */
const closingMessages = /client was closed|client must be connected|topology is closed|closed connection pool|session that has ended/i;
/** What the unavailable classes say (a connection lost or timed out, server selection, a cleared pool). */
const unavailableMessages = /^connection \d+ to .* (closed|timed out)|server selection timed out|connection pool .* was cleared|\b(EPIPE|ECONNRESET|ECONNREFUSED|ETIMEDOUT)\b/i;

function saysClosing(err: Error): boolean {
  return (
    closingClasses.some((c) => err instanceof c) ||
    classNames(err).some((n) => closingNames.has(n)) ||
    (wrappedDriverError(err) && closingMessages.test(err.message)) ||
    // Closing sends an unacknowledged endSessions; FerretDB answers it anyway (it has no such command), and the
    // operation that reads that connection next receives the answer as its own.
    ((err as { code?: unknown }).code === 59 && /'endSessions'/.test(err.message))
  );
}

function saysUnavailable(err: Error): boolean {
  const { code, hasErrorLabel } = err as { code?: unknown; hasErrorLabel?: unknown };
  return (
    saysClosing(err) ||
    unavailableClasses.some((c) => err instanceof c) ||
    classNames(err).some((n) => unavailableNames.has(n)) ||
    (typeof hasErrorLabel === 'function' && unavailableLabels.some((l) => hasErrorLabel.call(err, l) === true)) ||
    (typeof code === 'string' && socketCodes.has(code)) ||
    (wrappedDriverError(err) && unavailableMessages.test(err.message)) ||
    (err.name === 'MongooseError' && /initial connection|buffering|disconnected/i.test(err.message))
  );
}

/**
 * True for errors that mean "the database cannot be reached right now" rather than "the request is wrong": the engine
 * is gone, the connection or pool was lost, cleared or closed (our own shutdown closes it under running requests).
 * The driver and mongoose wrap what the socket said, so the error's causes count too, a few levels deep.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return errorChain(err).some(saysUnavailable);
}

/** True when the database is unavailable because our own client was closed under the operation (at shutdown). */
export function isDatabaseClosing(err: unknown): boolean {
  return errorChain(err).some(saysClosing);
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
 * claim, slot and record that a retry or a racing writer may write again goes through here. Inserts into one
 * collection that are ready at the same moment share a batch (group commit, group-insert.ts); each keeps its own
 * unique keys and its own answer.
 *
 *     if (!(await insertOnce(slots, { _id: `${counter}#${n}`, eventScope, at }))) ... // taken by another writer
 */
export function insertOnce<T extends Document>(collection: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  return groupInsertFor(collection).insertOnce(doc);
}

/**
 * Creates a model's collection and makes its indexes exactly the declared ones: missing ones are built and ones no
 * longer declared are dropped (an index replaced, e.g. a unique op id now prefixed by the shard key, docs/SCALING.md).
 * An existing collection is fine; two processes starting at once may race on an index, so one retry follows.
 */
export async function ensureCollection(model: { createCollection(): Promise<unknown>; syncIndexes(): Promise<unknown> }): Promise<void> {
  try {
    await model.createCollection();
  } catch (err) {
    if ((err as { code?: number }).code !== 48) throw err; // NamespaceExists
  }
  try {
    await model.syncIndexes();
  } catch {
    await new Promise((r) => setTimeout(r, 200));
    await model.syncIndexes();
  }
}
