/**
 * The benchmark's "driver ceiling": the database work one earn does, issued straight through the mongodb driver with
 * no HTTP, no validation and no ledger logic, at a given concurrency. What the service reaches over HTTP is judged
 * against it. The documents mirror what src/platform/http/idempotency.ts and src/modules/ledger write, in the same
 * order: idempotency claim insert → (member read by _id) → entry insert (unique opId index) → idempotency result
 * insert → the accounts cache replaceOne (which the service coalesces in the background).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { Schema, type Connection } from 'mongoose';
import type { EntryDoc } from '../../src/modules/ledger/index.js';

export type RunStats = { ops: number; errors: number; firstError?: string; seconds: number; p50: number; p99: number; cpuUsPerOp: number };

/** Runs `op` from `concurrency` workers for `seconds`; counts completions and latencies (ms) and this process's CPU. */
export async function runFor(seconds: number, concurrency: number, op: () => Promise<void>): Promise<RunStats> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await op();
        latencies.push(performance.now() - t);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    ops: latencies.length,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds: elapsed,
    p50: pct(50),
    p99: pct(99),
    cpuUsPerOp: latencies.length ? (used.user + used.system) / latencies.length : NaN,
  };
}

type AccountState = EntryDoc['state'];
const sha = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');
const entryId = (memberId: string, seq: number) => `${memberId}:${String(seq).padStart(12, '0')}`;
const isDuplicate = (err: unknown) => (err as { code?: number }).code === 11000;

/** Collections as the service has them: the entries' unique opId index included. */
export async function prepareCeilingDb(db: Db, memberIds: readonly string[]): Promise<void> {
  await db.collection<{ _id: string }>('members').insertMany(
    memberIds.map((id) => ({ _id: id, displayName: `Load ${id}`, birthday: null, timezone: 'UTC', status: 'active', createdAt: new Date(), updatedAt: new Date() })),
  );
  await db.collection('points_entries').createIndex({ opId: 1 }, { unique: true });
  for (const name of ['points_accounts', 'idempotency_claims', 'idempotency_results']) await db.createCollection(name).catch(() => {});
}

/**
 * A source of realistic earn documents: per member the next seq and the state after it (one lot, as earns within a
 * month share their lot), advanced synchronously so concurrent workers never pick the same seq. Share one source
 * between runs on the same database, or their entries collide on _id.
 */
export type EarnDocuments = ReturnType<typeof earnDocuments>;
export function earnDocuments(lotExpiry: Date) {
  const heads = new Map<string, { seq: number; state: AccountState }>();
  return (memberId: string, amount: number) => {
    const prev = heads.get(memberId) ?? { seq: 0, state: { available: 0, held: 0, pending: 0, debt: 0, lots: [], holds: [], reversed: [], totals: { earned: 0, spent: 0, expired: 0, reversed: 0, adjusted: 0 } } };
    const remaining = prev.state.available + amount;
    const state: AccountState = {
      ...prev.state,
      available: remaining,
      lots: [{ id: lotExpiry.toISOString(), expiresAt: lotExpiry, remaining, held: 0 }],
      totals: { ...prev.state.totals, earned: prev.state.totals.earned + amount },
    };
    const seq = prev.seq + 1;
    heads.set(memberId, { seq, state });
    const key = randomUUID();
    const scope = sha('service', 'bench', key);
    const fingerprint = sha('POST', `/v1/members/${memberId}/points/earn`, JSON.stringify({ amount, code: 'order' }));
    const now = new Date();
    const entry: EntryDoc = {
      _id: entryId(memberId, seq), memberId, seq, opId: sha('points', 'earn', scope), fingerprint, kind: 'earn', amount, points: amount,
      code: 'order', ref: null, lots: [{ lot: lotExpiry.toISOString(), amount }], holdId: null, reverses: null, expired: 0,
      expiresAt: lotExpiry, actor: { role: 'service', sub: 'bench' }, createdAt: now, state,
    };
    const balance = { memberId, available: remaining, held: 0, pending: 0, becomingAvailable: [], debt: 0, expiringIn30Days: 0, expiring: [{ expiresAt: lotExpiry.toISOString(), points: remaining }], lifetime: state.totals, seq };
    const view = {
      id: entry._id, memberId, seq, kind: entry.kind, amount, points: amount, code: entry.code, ref: null, holdId: null, reverses: null, lots: entry.lots,
      expired: 0, expiresAt: lotExpiry.toISOString(), availableAt: null, createdAt: now.toISOString(), balanceAfter: { available: remaining, held: 0, pending: 0 },
    };
    return {
      claim: { _id: `${scope}#1`, fingerprint, leaseUntil: new Date(now.getTime() + 30_000), createdAt: now },
      entry,
      result: { _id: `${scope}#1/r`, fingerprint, status: 201, body: { entry: view, balance }, abandoned: false, createdAt: now },
      account: { _id: memberId, seq, state, nextLotExpiry: lotExpiry, nextHoldExpiry: null, updatedAt: now },
    };
  };
}

/**
 * One earn's database work through the driver. `readMember` adds the member read by _id the service does;
 * `writeAccount: false` leaves out the accounts cache write, which the service does in the background, coalesced.
 */
export function driverEarn(
  db: Db,
  pickMember: () => string,
  next: EarnDocuments,
  opts: { readMember: boolean; writeAccount: boolean },
): () => Promise<void> {
  const claims = db.collection<{ _id: string }>('idempotency_claims');
  const members = db.collection<{ _id: string }>('members');
  const entries = db.collection<EntryDoc>('points_entries');
  const results = db.collection<{ _id: string }>('idempotency_results');
  const accounts = db.collection<{ _id: string; seq: number }>('points_accounts');
  return async () => {
    const memberId = pickMember();
    const docs = next(memberId, 1 + Math.floor(Math.random() * 100));
    await claims.insertOne(docs.claim);
    if (opts.readMember && !(await members.findOne({ _id: memberId }))) throw new Error(`member ${memberId} missing`);
    await entries.insertOne(docs.entry);
    await results.insertOne(docs.result);
    if (!opts.writeAccount) return;
    await accounts.replaceOne({ _id: memberId }, docs.account, { upsert: true }).catch((err: unknown) => {
      if (!isDuplicate(err)) throw err;
    });
  };
}

/** The one read a balance read does when the process knows the head: the next entry by _id (absent). */
export function driverBalanceRead(db: Db, pickMember: () => string): () => Promise<void> {
  const entries = db.collection<EntryDoc>('points_entries');
  return async () => {
    await entries.findOne({ _id: entryId(pickMember(), 1_000_000) });
  };
}

/** The entry insert through mongoose documents (Model.create, full schema) and through the driver, for comparison. */
export function entryInserts(conn: Connection, lotExpiry: Date) {
  const lot = new Schema({ id: String, expiresAt: Date, remaining: Number, held: Number }, { _id: false });
  const part = new Schema({ lot: String, amount: Number }, { _id: false });
  const schema = new Schema(
    {
      _id: String, memberId: { type: String, required: true }, seq: { type: Number, required: true }, opId: { type: String, required: true, unique: true },
      fingerprint: String, kind: { type: String, enum: ['earn', 'spend', 'hold', 'capture', 'release', 'expire', 'reverse', 'adjust'], required: true },
      amount: { type: Number, required: true }, points: Number, code: String, ref: { type: new Schema({ type: String, id: String }, { _id: false }), default: null },
      lots: [part], holdId: String, reverses: String, expired: Number, expiresAt: Date, actor: { role: String, sub: String }, createdAt: Date,
      state: {
        available: Number, held: Number, debt: Number, lots: [lot],
        holds: [{ id: String, amount: Number, expiresAt: Date, from: [part], code: String }],
        reversed: [{ entry: String, amount: Number }],
        totals: { earned: Number, spent: Number, expired: Number, reversed: Number, adjusted: Number },
      },
    },
    { versionKey: false, collection: 'bench_entries_mongoose', autoIndex: false },
  );
  const Model = conn.model('BenchEntry', schema);
  const direct = conn.collection('bench_entries_driver') as unknown as Collection<EntryDoc>;
  const docs = earnDocuments(lotExpiry);
  let n = 0;
  const member = () => `bench-${n++ % 1000}`;
  return {
    async init() {
      await Model.createCollection();
      await Model.createIndexes();
      await direct.createIndex({ opId: 1 }, { unique: true });
    },
    mongoose: async () => {
      await Model.create(docs(member(), 10).entry);
    },
    driver: async () => {
      await direct.insertOne(docs(member(), 10).entry);
    },
    /** The engine's batched-insert ceiling (issue 11): `size` entry-sized documents in one unordered insertMany. */
    batch: (size: number) => async () => {
      await direct.insertMany(
        Array.from({ length: size }, () => docs(member(), 10).entry),
        { ordered: false },
      );
    },
  };
}
