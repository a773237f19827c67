import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase } from '../src/platform/db/connection.js';
import { groupInsert } from '../src/platform/db/group-insert.js';
import { freshDbName } from './helpers/app.js';

/** Group commit against the real engine: each caller learns its own document's fate, whatever shares its batch. */
let db: Connection;

beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), freshDbName('group'), 3000);
});
afterAll(async () => {
  await db.dropDatabase().catch(() => {});
  await db.close();
});

type Doc = { _id: string; memberId: string; opId: string };

async function collection(name: string) {
  const c = db.collection(name) as unknown as Collection<Doc>;
  await c.insertOne({ _id: 'seed', memberId: 'seed', opId: 'seed' });
  await c.createIndex({ memberId: 1, opId: 1 }, { unique: true });
  return c;
}

const outcome = (p: Promise<void>) => p.then(() => 'landed', (err: { code?: number }) => (err.code === 11000 ? 'duplicate' : `error ${String(err)}`));

describe('group commit of inserts', () => {
  it('when 200 inserts are ready at once, then they leave in few batches and every one lands', async () => {
    const c = await collection('many');
    const inserts = groupInsert(c, { maxBatch: 50, maxInFlight: 2 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => outcome(inserts.insert({ _id: `m${i}`, memberId: `m${i}`, opId: 'op' }))));
    expect(results.every((r) => r === 'landed')).toBe(true);
    expect(await c.countDocuments({ opId: 'op' })).toBe(200);
    // The first leaves alone (nothing was under way), the next with the second slot; the rest wait and fill batches.
    expect(inserts.stats()).toEqual({ batches: 6, documents: 200 });
  });

  it('when some documents of a batch take a taken _id or unique key, then exactly those callers get the duplicate error and the others land', async () => {
    const c = await collection('dups');
    await c.insertMany([
      { _id: 'a:3', memberId: 'a', opId: 'x3' },
      { _id: 'b:1', memberId: 'b', opId: 'taken-op' },
    ]);
    const inserts = groupInsert(c, { maxBatch: 50, maxInFlight: 1 });
    const blocker = outcome(inserts.insert({ _id: 'first', memberId: 'z', opId: 'z' })); // under way: the rest batch up
    const docs: Doc[] = [
      { _id: 'a:1', memberId: 'a', opId: 'x1' },
      { _id: 'a:3', memberId: 'a', opId: 'other' }, // _id taken
      { _id: 'b:2', memberId: 'b', opId: 'taken-op' }, // unique (memberId, opId) taken
      { _id: 'c:1', memberId: 'c', opId: 'y' },
      { _id: 'c:1', memberId: 'c', opId: 'y2' }, // the same _id twice in one batch: the second loses
    ];
    const results = await Promise.all(docs.map((d) => outcome(inserts.insert(d))));
    expect(await blocker).toBe('landed');
    expect(results).toEqual(['landed', 'duplicate', 'duplicate', 'landed', 'duplicate']);
    expect(inserts.stats().batches).toBe(2);
    expect((await c.find({ memberId: { $in: ['a', 'b', 'c'] } }).sort({ _id: 1 }).toArray()).map((d) => `${d._id}/${d.opId}`)).toEqual([
      'a:1/x1',
      'a:3/x3',
      'b:1/taken-op',
      'c:1/y',
    ]);
  });

  it('when one insert is alone, then it leaves at once as a lone insert', async () => {
    const c = await collection('alone');
    const inserts = groupInsert(c, { maxBatch: 50, maxInFlight: 4 });
    await inserts.insert({ _id: 'solo', memberId: 's', opId: 's' });
    await expect(inserts.insert({ _id: 'solo', memberId: 's', opId: 's2' })).rejects.toMatchObject({ code: 11000 });
    expect(inserts.stats()).toEqual({ batches: 2, documents: 2 });
  });
});
