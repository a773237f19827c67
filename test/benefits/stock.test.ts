import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase } from '../../src/platform/db/connection.js';
import { chainEntryId } from '../../src/platform/db/counter-chain.js';
import { AppError } from '../../src/platform/errors.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { benefitStock, type BenefitStock, type StockPart } from '../../src/modules/benefits/stock.js';
import { freshDbName } from '../helpers/app.js';

/** A benefit's stock over sub-accounts, against the real engine: never oversold, every op once, refusals on fresh reads. */
const dbName = freshDbName('stock');
const connections: Connection[] = [];
let stock: BenefitStock;

async function instance(opts: Parameters<typeof benefitStock>[1] = {}): Promise<BenefitStock> {
  const db = await connectDatabase(inject('mongoUri'), dbName, 3000);
  connections.push(db);
  const s = benefitStock(db, opts);
  await s.init();
  return s;
}

beforeAll(async () => {
  stock = await instance();
});
afterAll(async () => {
  await connections[0]?.dropDatabase().catch(() => {});
  await Promise.all(connections.map((c) => c.close()));
});

/** The error code a call was refused with, or 'ok'. */
const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (err: unknown) => (err instanceof AppError ? err.code : `error ${String(err)}`));
const sumQty = (parts: StockPart[]) => parts.reduce((n, p) => n + p.qty, 0);
const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;

describe('taking stock', () => {
  it('when 50 members race for 10 units, then exactly 10 takes succeed, 40 are refused OUT_OF_STOCK, nothing is left and the check is clean', async () => {
    await stock.define('flash-10', 10);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => outcome(stock.take('flash-10', `m${i}`, 1))));
    expect(count(results, 'ok')).toBe(10);
    expect(count(results, 'OUT_OF_STOCK')).toBe(40);
    expect(await stock.levels('flash-10')).toEqual({ left: 0, initial: 10, taken: 10, returned: 0, adjusted: 0, shards: 10 });
    expect(await stock.check('flash-10')).toEqual([]);
  });

  it('when 500 takes of a 100-unit stock run on 3 instances at once, then exactly 100 units go, each once', async () => {
    const instances = [stock, await instance(), await instance()];
    await stock.define('flash-100', 100);
    const parts: StockPart[] = [];
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        outcome(
          (instances[i % 3] as BenefitStock).take('flash-100', `t${i}`, 1).then((p) => {
            parts.push(...p);
          }),
        ),
      ),
    );
    expect(count(results, 'ok')).toBe(100);
    expect(count(results, 'OUT_OF_STOCK')).toBe(400);
    expect(sumQty(parts)).toBe(100);
    expect(new Set(parts.map((p) => p.entryId)).size).toBe(100);
    expect((await instances[1]!.levels('flash-100')).left).toBe(0);
    expect(await stock.check('flash-100')).toEqual([]);
  });

  it('when 3 units are asked of 3 sub-accounts holding 1 each, then the take lands in 3 parts', async () => {
    expect(await stock.define('tri', 3)).toEqual({ shards: 3, replayed: false });
    const parts = await stock.take('tri', 'all-three', 3);
    expect(parts.map((p) => p.qty)).toEqual([1, 1, 1]);
    expect(new Set(parts.map((p) => p.shard))).toEqual(new Set([0, 1, 2]));
    expect((await stock.levels('tri')).left).toBe(0);
    expect(await stock.check('tri')).toEqual([]);
  });

  it('when 3 units are asked and only 2 are left, then the take is refused with what is left and gives back any part it took', async () => {
    await stock.define('two', 2);
    await expect(stock.take('two', 'three-of-two', 3)).rejects.toMatchObject({ status: 409, code: 'OUT_OF_STOCK', details: { left: 2 } });
    const levels = await stock.levels('two');
    expect(levels.left).toBe(2);
    expect(levels.taken).toBe(levels.returned);
    // The refusal is the op's outcome for good: even with stock back, the same op answers it again.
    await stock.adjust('two', 5, 'restock-two');
    await expect(stock.take('two', 'three-of-two', 3)).rejects.toMatchObject({ code: 'OUT_OF_STOCK' });
    expect((await stock.levels('two')).left).toBe(7);
    expect(await stock.check('two')).toEqual([]);
  });

  it('when one op id is taken twice, then concurrently, then after the stock ran out, then it is one take with the same parts each time', async () => {
    await stock.define('dup', 6);
    const first = await stock.take('dup', 'tap', 2);
    expect(await stock.take('dup', 'tap', 2)).toEqual(first);
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => stock.take('dup', 'double-tap', 3)));
    for (const parts of concurrent) expect(parts).toEqual(concurrent[0]);
    expect(sumQty(concurrent[0]!)).toBe(3);
    expect((await stock.levels('dup')).taken).toBe(5);
    await stock.take('dup', 'last', 1);
    expect(await stock.take('dup', 'tap', 2)).toEqual(first);
    expect(await stock.levels('dup')).toMatchObject({ left: 0, taken: 6 });
    await expect(stock.take('dup', 'tap', 3)).rejects.toMatchObject({ code: 'OP_ID_REUSED' });
    expect(await stock.check('dup')).toEqual([]);
  });

  it('when a take dies after its first part, then a retry of the op completes it with that part', async () => {
    const faults = new ArmedFaults();
    const dying = await instance({ faults });
    await dying.define('crash', 3);
    faults.arm('benefit_stock:after-insert');
    await expect(dying.take('crash', 'dies', 3)).rejects.toThrow(/injected crash/);
    expect((await dying.levels('crash')).taken).toBe(1);
    const parts = await stock.take('crash', 'dies', 3);
    expect(sumQty(parts)).toBe(3);
    expect(await stock.levels('crash')).toMatchObject({ left: 0, taken: 3 });
    expect(await stock.check('crash')).toEqual([]);
  });
});

describe('giving back', () => {
  it('when the parts of a take are given back twice, then concurrently, then they come back once', async () => {
    await stock.define('back', 4);
    const parts = await stock.take('back', 'redeemed', 3);
    await stock.giveBack('back', 'redeemed', parts);
    await stock.giveBack('back', 'redeemed', parts);
    await Promise.all(Array.from({ length: 6 }, () => stock.giveBack('back', 'redeemed', parts)));
    expect(await stock.levels('back')).toMatchObject({ left: 4, taken: 3, returned: 3 });
    await expect(stock.giveBack('back', 'someone-else', parts)).rejects.toMatchObject({ code: 'NOT_TAKEN' });
    expect(await stock.check('back')).toEqual([]);
  });

  it('when a take that died half way is found by its op id, then it is closed: a retry takes nothing more and one give-back returns it all', async () => {
    const faults = new ArmedFaults();
    const dying = await instance({ faults });
    await dying.define('half', 3);
    faults.arm('benefit_stock:after-insert');
    await expect(dying.take('half', 'saga-step', 3)).rejects.toThrow(/injected crash/);
    const found = await stock.findTake('half', 'saga-step');
    expect(found?.map((p) => p.qty)).toEqual([1]);
    await expect(stock.take('half', 'saga-step', 3)).rejects.toMatchObject({ code: 'TAKE_CLOSED' });
    await stock.giveBack('half', 'saga-step', found!);
    expect(await stock.levels('half')).toMatchObject({ left: 3, taken: 1, returned: 1 });
    expect(await stock.findTake('half', 'never-taken')).toBeNull();
    expect(await stock.check('half')).toEqual([]);
  });
});

describe('defining and adjusting', () => {
  it('when a stock is defined again, then the same units replay and other units are refused', async () => {
    expect(await stock.define('once', 40)).toEqual({ shards: 16, replayed: false });
    expect(await stock.define('once', 40)).toEqual({ shards: 16, replayed: true });
    await expect(stock.define('once', 50)).rejects.toMatchObject({ code: 'STOCK_ALREADY_DEFINED', details: { units: 40 } });
    expect(await stock.levels('once')).toEqual({ left: 40, initial: 40, taken: 0, returned: 0, adjusted: 0, shards: 16 });
    await expect(stock.take('nothing-here', 'x', 1)).rejects.toMatchObject({ status: 404 });
  });

  it('when ops restock and correct, then each lands once and a correction below zero is refused', async () => {
    await stock.define('adj', 5);
    await stock.adjust('adj', 20, 'restock-1');
    await stock.adjust('adj', 20, 'restock-1');
    expect((await stock.levels('adj')).left).toBe(25);
    await expect(stock.adjust('adj', -26, 'too-much')).rejects.toMatchObject({ code: 'STOCK_BELOW_ZERO', details: { left: 25 } });
    expect((await stock.levels('adj')).left).toBe(25);
    await Promise.all([stock.adjust('adj', -7, 'fix-1'), stock.adjust('adj', -7, 'fix-1')]);
    expect(await stock.levels('adj')).toMatchObject({ left: 18, adjusted: 13 });
    await expect(stock.adjust('adj', 0, 'zero')).rejects.toMatchObject({ status: 400 });
    expect(await stock.check('adj')).toEqual([]);
  });
});

describe('checking', () => {
  it('when an entry below zero and a give-back of nothing are planted, then the check names both', async () => {
    await stock.define('planted', 2, { shards: 2 });
    const head = await stock.levels('planted');
    expect(head.left).toBe(2);
    const entries = connections[0]!.collection('benefit_stock');
    const base = { benefit: 'planted', createdAt: new Date() };
    await entries.insertOne({
      ...base,
      _id: chainEntryId('planted#0', 2) as never,
      chain: 'planted#0',
      seq: 2,
      kind: 'adjust',
      delta: -2,
      value: -1,
      totals: { open: 1, adjust: -2 },
      opId: 'planted-minus',
    });
    await entries.insertOne({
      ...base,
      _id: chainEntryId('planted#1', 2) as never,
      chain: 'planted#1',
      seq: 2,
      kind: 'back',
      delta: 1,
      value: 2,
      totals: { open: 1, back: 1 },
      opId: 'ghost#0#back',
      op: 'ghost',
      part: 0,
      back: chainEntryId('planted#1', 1),
    });
    const problems = await stock.check('planted');
    expect(problems).toContain('planted#0:000000000002: value -1 is below zero');
    expect(problems).toContain('planted#1:000000000002: gives back planted#1:000000000001, which its op did not take there');
  });
});
