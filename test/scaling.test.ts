import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config.js';
import { ops, service, startTestApp, type TestApp } from './helpers/app.js';
import { checkIn } from './helpers/checkins.js';
import { earned, points, registerMember } from './helpers/ledger.js';

/**
 * docs/SCALING.md names a shard key for every collection and the indexes it may have; this reads the indexes the
 * running engine actually has (after the app created them) and checks them against that table, so the table stays
 * true and no unique index the cluster could not enforce slips in.
 */
type Key = Array<[string, unknown]>;
type Row = { shardKey: Key | 'unsharded'; unique: Key[]; other: Key[] };

/** Parses `{ memberId: 1, opId: 1 }` (or `{ _id: "hashed" }`) into its ordered fields. */
function parseKey(text: string): Key {
  const inner = text.trim().replace(/^\{/, '').replace(/\}$/, '').trim();
  return inner.split(',').map((part) => {
    const [field, value] = part.split(':').map((x) => x.trim());
    return [field as string, value === '"hashed"' ? 'hashed' : Number(value)];
  });
}
const keysIn = (cell: string): Key[] => [...cell.matchAll(/`(\{[^`]*\})`/g)].map((m) => parseKey(m[1] as string));
const show = (k: Key) => `{ ${k.map(([f, v]) => `${f}: ${v}`).join(', ')} }`;

async function scalingTable(): Promise<Map<string, Row>> {
  const md = await readFile(path.join(repoRoot, 'docs', 'SCALING.md'), 'utf8');
  const rows = new Map<string, Row>();
  for (const line of md.split('\n')) {
    const m = /^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (!m) continue;
    const [, name, shard, unique, other] = m as unknown as [string, string, string, string, string];
    rows.set(name, { shardKey: shard.trim() === 'unsharded' ? 'unsharded' : (keysIn(shard)[0] as Key), unique: keysIn(unique), other: keysIn(other) });
  }
  return rows;
}

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
  // A few writes, so the member-sharded collections hold documents whose shard key can be checked.
  await registerMember(api, 'scale-1');
  await earned(api, 'scale-1', 10);
  expect((await points.spend(api, 'scale-1', { amount: 50, code: 'redemption' })).status).toBe(409); // a recorded refusal
  expect((await checkIn(api, 'scale-1')).status).toBe(201);
  // A redemption of a stocked, limited benefit: stock, limit and redemption documents.
  const benefit = { name: 'Tea', kind: 'coupon', costPoints: 5, stock: 3, perMemberLimit: { count: 1, period: 'day' }, active: true };
  expect((await api.request('PUT', '/v1/admin/benefits/tea', { token: ops, body: benefit })).status).toBe(201);
  const redeemed = await api.request('POST', '/v1/members/scale-1/redemptions', { token: service, body: { benefitCode: 'tea' }, headers: { 'Idempotency-Key': 'scale-tea' } });
  expect(redeemed.status, redeemed.text).toBe(201);
});
afterAll(async () => {
  await api?.close();
});

describe('indexes valid on a cluster sharded as docs/SCALING.md says', () => {
  it('when the app has created its collections, then each is in the table with exactly its indexes, and every unique index starts with the shard key', async () => {
    const table = await scalingTable();
    expect(table.size).toBeGreaterThan(20);
    const names = (await api.db.db!.listCollections().toArray()).map((c) => c.name).sort();
    expect(names.filter((n) => !table.has(n)), 'collections docs/SCALING.md does not list').toEqual([]);
    expect([...table.keys()].filter((n) => !names.includes(n)), 'collections the table lists that do not exist').toEqual([]);

    for (const name of names) {
      const row = table.get(name) as Row;
      const indexes = (await api.db.collection(name).listIndexes().toArray()).filter((i) => i.name !== '_id_');
      const unique = indexes.filter((i) => i.unique).map((i) => show(Object.entries(i.key)));
      const other = indexes.filter((i) => !i.unique).map((i) => show(Object.entries(i.key)));
      expect(unique.sort(), `${name}: unique indexes`).toEqual(row.unique.map(show).sort());
      expect(other.sort(), `${name}: other indexes`).toEqual(row.other.map(show).sort());

      if (row.shardKey === 'unsharded') continue;
      const shardFields = row.shardKey.map(([f]) => f);
      for (const u of row.unique) {
        expect(u.slice(0, shardFields.length).map(([f]) => f), `${name}: ${show(u)} must start with the shard key`).toEqual(shardFields);
      }
      if (row.shardKey[0]?.[1] === 'hashed') expect(row.unique, `${name}: a hashed shard key allows no unique index`).toEqual([]);
    }
  });

  it('when documents are written to a collection sharded by memberId, then every one carries its memberId', async () => {
    const table = await scalingTable();
    const byMember = [...table.entries()].filter(([, r]) => r.shardKey !== 'unsharded' && r.shardKey[0]?.[0] === 'memberId').map(([n]) => n);
    expect(byMember.sort()).toEqual(['benefit_limits', 'checkin_log', 'growth_entries', 'points_entries', 'redemptions']);
    for (const name of byMember) {
      const docs = await api.db.collection(name).find({}).toArray();
      expect(docs.length, `${name} has documents to check`).toBeGreaterThan(0);
      for (const d of docs) expect(typeof d.memberId, `${name} ${String(d._id)}`).toBe('string');
    }
    expect(await api.db.collection('points_entries').countDocuments({ kind: 'refusal' })).toBe(1);
    const stock = await api.db.collection('benefit_stock').find({}).toArray();
    expect(stock.length).toBeGreaterThan(0);
    for (const d of stock) expect(d.benefit, String(d._id)).toBe('tea');
  });
});
