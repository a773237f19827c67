import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { systemClock, type Clock } from '../../platform/clock.js';
import { insertOnce } from '../../platform/db/connection.js';
import { chainEntryId, counterChains, type ChainHead, type Totals } from '../../platform/db/counter-chain.js';
import { AppError, conflict, notFound, validationFailed } from '../../platform/errors.js';
import type { Faults } from '../../platform/faults.js';
import {
  backOp, chainOf, DEFINE_OP, definitionId, MAX_SHARDS, MAX_TAKE, MAX_UNITS, partOp, shardOf, shareOf, signOk, STOCK_COLLECTION,
  type StockDefinition, type StockEntry, type StockFields, type StockLevels, type StockPart,
} from './stock.model.js';

export type { StockLevels, StockPart } from './stock.model.js';

/** A sub-account found empty on a fresh read: the take moves on to another; never an operation's answer. */
const EMPTY = 'SUB_ACCOUNT_EMPTY';
/** Rounds of "every sub-account read fresh shows enough, yet each one tried was emptied first" before a 503. */
const FULL_READS = 32;
const CODE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const isRefusal = (err: unknown): err is AppError => err instanceof AppError && err.status === 409;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const toPart = (e: StockEntry): StockPart => ({ shard: shardOf(e.chain), entryId: e._id, qty: Math.abs(e.delta) });

function assertCode(code: string): void {
  if (!CODE.test(code)) throw validationFailed([{ path: 'code', message: 'not a benefit code' }]);
}
function assertOpId(opId: string): void {
  if (typeof opId !== 'string' || opId.length === 0 || opId.length > 200 || opId.startsWith('|')) {
    throw validationFailed([{ path: 'opId', message: '1–200 characters, not starting with |' }]);
  }
}
function assertCount(path: string, n: number, min: number, max: number): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) throw validationFailed([{ path, message: `an integer from ${min} to ${max}` }]);
}

/**
 * A benefit's stock as S sub-accounts (counter chains `<code>#<shard>` in `benefit_stock`), merged on read
 * (docs/BENEFITS.md, "Stock"). Every unit moves by an entry committed by a unique insert; no sub-account goes below
 * zero, so the stock never oversells, and a flash sale's takers spread over S sequences instead of queueing on one.
 */
export function benefitStock(db: Connection, opts: { clock?: Clock; faults?: Faults } = {}) {
  const chains = counterChains<StockFields>(db, STOCK_COLLECTION, { shardKey: 'benefit', ...opts });
  const clock = opts.clock ?? systemClock;
  /** Definitions never change once written, so a process keeps each one it has read. */
  const definitions = new Map<string, StockDefinition>();

  async function definition(code: string): Promise<StockDefinition> {
    const known = definitions.get(code);
    if (known) return known;
    const doc = (await chains.collection.findOne({ _id: definitionId(code) })) as StockDefinition | null;
    if (!doc) throw notFound('benefit stock');
    definitions.set(code, doc);
    return doc;
  }

  /**
   * A sub-account to take `remaining` from: at random among those this process believes hold that much (an unknown one
   * may), else among those it believes non-empty; undefined when it believes all are empty. Belief only chooses where
   * to try: the entry is decided on the sub-account's own head.
   */
  function pick(def: StockDefinition, remaining: number): number | undefined {
    const enough: number[] = [];
    const open: number[] = [];
    for (const s of range(def.shards)) {
      const h = chains.known(chainOf(def.benefit, s));
      if (!h || h.value >= remaining) enough.push(s);
      if (!h || h.value > 0) open.push(s);
    }
    const pool = enough.length > 0 ? enough : open;
    return pool.length > 0 ? pool[Math.floor(Math.random() * pool.length)] : undefined;
  }

  /** Every sub-account's head, read from the database (refusals and levels rest on these, never on memory). */
  const freshHeads = (def: StockDefinition): Promise<ChainHead[]> => Promise.all(range(def.shards).map((s) => chains.head(chainOf(def.benefit, s))));

  /** An entry found under one of this operation's op ids must be this operation's: a reused op id is refused. */
  function own(e: StockEntry, opId: string, kind: string, want: number): void {
    if (e.op !== opId || e.kind !== kind || e.want !== want) throw conflict('OP_ID_REUSED', 'this operation id was used for another stock operation', { opId });
  }

  /** Returns what entries took, each once, on its own sub-account (`<op>#<part>#back`). */
  async function giveBackEntries(code: string, opId: string, taken: StockEntry[]): Promise<void> {
    await Promise.all(
      taken.map((t) =>
        chains.apply({
          chain: t.chain,
          shard: code,
          opId: backOp(opId, t.part ?? 0),
          // An adjustment's undo is an adjustment, so `returned` counts only units members gave back.
          kind: t.kind === 'take' ? 'back' : 'adjust',
          decide: () => -t.delta,
          extra: { op: opId, part: t.part ?? 0, back: t._id },
        }),
      ),
    );
  }

  /**
   * Takes `qty` units as parts `<opId>#0`, `#1`, … each landing once. Whoever runs the op (the first call, a retry, a
   * concurrent repeat) walks the same parts: a part that landed already is adopted, so every caller ends with the same
   * parts. When every sub-account read fresh holds too little, the next part is sealed with the refusal (a unique
   * insert too: a repeat that meanwhile landed that part wins, and is adopted instead), then the parts are given back.
   */
  async function withdraw(code: string, opId: string, qty: number, want: number, kind: 'take' | 'adjust', refusal: (left: number) => AppError): Promise<StockEntry[]> {
    const def = await definition(code);
    const taken: StockEntry[] = [];
    let remaining = qty;
    let fullReads = 0;
    const adopt = (e: StockEntry) => {
      own(e, opId, kind, want);
      taken.push(e);
      remaining += e.delta;
    };
    while (remaining > 0) {
      const part = taken.length;
      const extra = { op: opId, part, want };
      const shard = pick(def, remaining);
      if (shard === undefined) {
        const left = (await freshHeads(def)).reduce((n, h) => n + h.value, 0);
        if (left >= remaining) {
          if (++fullReads >= FULL_READS) throw new AppError(503, 'CONTENTION', 'the stock is too busy right now; retry with the same operation');
          continue;
        }
        // What is left counts what this op holds: all of it goes back with the refusal.
        const sealed = await chains.recordRefusal(code, partOp(opId, part), refusal(left + qty - remaining), extra);
        if ('entry' in sealed) {
          adopt(sealed.entry);
          continue;
        }
        await giveBackEntries(code, opId, taken);
        throw sealed.refusal;
      }
      const asked = remaining;
      try {
        const { entry } = await chains.apply({
          chain: chainOf(code, shard),
          shard: code,
          opId: partOp(opId, part),
          kind,
          extra,
          decide: (h) => {
            const n = Math.min(asked, h.value);
            if (n <= 0) throw conflict(EMPTY, 'this sub-account is empty');
            return -n;
          },
        });
        adopt(entry);
      } catch (err) {
        if (err instanceof AppError && err.code === EMPTY) continue;
        // The op's recorded refusal (sealed by a repeat of it, or by findTake): what it took goes back.
        if (isRefusal(err) && err.code !== 'OP_ID_REUSED') await giveBackEntries(code, opId, taken);
        throw err;
      }
    }
    return taken;
  }

  return {
    async init(): Promise<void> {
      await chains.init();
    },

    /**
     * Defines a benefit's stock: `units` split over S sub-accounts (S = min(16, units), at least 1, or `shards`), written
     * down once with the opening entries. Idempotent: the same definition again completes any opening a crash left out.
     * Restocking is `adjust`. Errors: 400, 409 STOCK_ALREADY_DEFINED (a different number of units).
     */
    async define(code: string, units: number, opt: { shards?: number } = {}): Promise<{ shards: number; replayed: boolean }> {
      assertCode(code);
      assertCount('units', units, 0, MAX_UNITS);
      if (opt.shards !== undefined) assertCount('shards', opt.shards, 1, MAX_SHARDS);
      const shards = opt.shards ?? Math.min(MAX_SHARDS, Math.max(1, units));
      let def: StockDefinition = { _id: definitionId(code), benefit: code, opId: DEFINE_OP, kind: 'definition', shards, units, createdAt: clock.now() };
      const replayed = !(await insertOnce(chains.collection, def));
      if (replayed) {
        def = await definition(code);
        if (def.units !== units) throw conflict('STOCK_ALREADY_DEFINED', 'the stock of this benefit is defined already; restock it with an adjustment', { units: def.units });
      }
      definitions.set(code, def);
      await Promise.all(
        range(def.shards).map(async (s) => {
          const n = shareOf(def.units, def.shards, s);
          if (n > 0) await chains.apply({ chain: chainOf(code, s), shard: code, opId: partOp(DEFINE_OP, s), kind: 'open', decide: () => n, extra: { op: DEFINE_OP, part: s } });
        }),
      );
      return { shards: def.shards, replayed };
    },

    /**
     * Takes `qty` units (1–10) under `opId`: from one sub-account when one has them, else in parts. A repeat of the op
     * answers the same parts and takes nothing more; a refused take leaves nothing taken.
     * Errors: 400, 404 (stock not defined), 409 OUT_OF_STOCK `{left}` (decided on fresh reads of every sub-account;
     * a repeat answers it again), 409 TAKE_CLOSED (findTake closed it first), 409 OP_ID_REUSED, 503 CONTENTION.
     */
    async take(code: string, opId: string, qty: number): Promise<StockPart[]> {
      assertOpId(opId);
      assertCount('qty', qty, 1, MAX_TAKE);
      const taken = await withdraw(code, opId, qty, qty, 'take', (left) => conflict('OUT_OF_STOCK', 'not enough stock left', { left }));
      return taken.map(toPart);
    },

    /**
     * What the take under `opId` took (null: nothing), for undoing it; it also closes the take, so no part can land
     * after the answer (a take still running then stops with TAKE_CLOSED and gives back what it took). Reads each part
     * by a scan: a recovery path (a saga undoing a step), never a request's.
     */
    async findTake(code: string, opId: string): Promise<StockPart[] | null> {
      const found: StockEntry[] = [];
      for (let part = 0; ; part++) {
        const outcome = await chains.findOutcome(code, partOp(opId, part));
        let entry = outcome && outcome.kind !== 'refusal' ? (outcome as StockEntry) : undefined;
        if (!outcome) {
          const sealed = await chains.recordRefusal(code, partOp(opId, part), conflict('TAKE_CLOSED', 'the take was closed before it completed'), { op: opId, part });
          if ('entry' in sealed) entry = sealed.entry;
        }
        if (!entry || entry.kind !== 'take') break;
        found.push(entry);
      }
      return found.length > 0 ? found.map(toPart) : null;
    },

    /**
     * Gives back exactly what the take under `takeOpId` took in `parts` (each read from its entry, not from the caller),
     * once: a repeat, or a concurrent one, returns nothing more. Errors: 409 NOT_TAKEN, 503 CONTENTION.
     */
    async giveBack(code: string, takeOpId: string, parts: Array<Pick<StockPart, 'entryId'>>): Promise<void> {
      const taken = await Promise.all(
        parts.map(async (p) => {
          const e = (await chains.get(p.entryId)) as StockEntry | null;
          if (!e || e.benefit !== code || e.op !== takeOpId || e.kind !== 'take') throw conflict('NOT_TAKEN', 'this part was not taken by this operation', { entryId: p.entryId });
          return e;
        }),
      );
      await giveBackEntries(code, takeOpId, taken);
    },

    /**
     * An ops restock (+) or correction (−) under `opId`, spread over the sub-accounts; a repeat lands nothing more.
     * Errors: 400, 404, 409 STOCK_BELOW_ZERO `{left}` (decided as a take's refusal), 409 OP_ID_REUSED, 503 CONTENTION.
     */
    async adjust(code: string, delta: number, opId: string): Promise<StockPart[]> {
      assertOpId(opId);
      assertCount('delta', Math.abs(delta), 1, MAX_UNITS);
      if (delta < 0) {
        const refusal = (left: number) => conflict('STOCK_BELOW_ZERO', 'the correction would take the stock below zero', { left });
        return (await withdraw(code, opId, -delta, delta, 'adjust', refusal)).map(toPart);
      }
      const def = await definition(code);
      // Spread from a sub-account the op id chooses, so small restocks do not all land on the first ones.
      const offset = createHash('sha256').update(opId).digest().readUInt32BE(0) % def.shards;
      const landed = await Promise.all(
        range(def.shards).map(async (i) => {
          const n = shareOf(delta, def.shards, i);
          const s = (i + offset) % def.shards;
          if (n === 0) return undefined;
          const extra = { op: opId, part: s, want: delta };
          const { entry } = await chains.apply({ chain: chainOf(code, s), shard: code, opId: partOp(opId, s), kind: 'adjust', decide: () => n, extra });
          own(entry, opId, 'adjust', delta);
          return entry;
        }),
      );
      return landed.filter((e): e is StockEntry => e !== undefined).map(toPart);
    },

    /** The stock merged from every sub-account's head, read fresh. Errors: 404. */
    async levels(code: string): Promise<StockLevels> {
      const def = await definition(code);
      const heads = await freshHeads(def);
      const t: Totals = {};
      for (const h of heads) for (const [k, v] of Object.entries(h.totals)) t[k] = (t[k] ?? 0) + v;
      const left = heads.reduce((n, h) => n + h.value, 0);
      return { left, initial: t.open ?? 0, taken: 0 - (t.take ?? 0), returned: t.back ?? 0, adjusted: t.adjust ?? 0, shards: def.shards };
    },

    /** The stock's invariant violations, as sentences (none: an empty list). Scans the benefit's entries: checks only. */
    async check(code: string): Promise<string[]> {
      const def = (await chains.collection.findOne({ _id: definitionId(code) })) as StockDefinition | null;
      if (!def) return [`${code}: no stock definition`];
      const entries = (await chains.entries(code)) as StockEntry[];
      return [...checkChains(code, def, entries), ...checkParts(entries, await chains.refusals(code))];
    },
  };
}
export type BenefitStock = ReturnType<typeof benefitStock>;

/** Each sub-account: contiguous seqs, values never below zero, each entry's value and totals following from the last. */
function checkChains(code: string, def: StockDefinition, entries: StockEntry[]): string[] {
  const problems: string[] = [];
  let opened = 0;
  const byChain = new Map<string, StockEntry[]>();
  for (const e of entries) byChain.set(e.chain, [...(byChain.get(e.chain) ?? []), e]);
  for (const [chain, list] of byChain) {
    const shard = shardOf(chain);
    if (chain !== chainOf(code, shard) || shard >= def.shards) problems.push(`${chain}: not a sub-account of ${code}`);
    let prev: ChainHead = { seq: 0, value: 0, totals: {} };
    for (const e of list) {
      if (e._id !== chainEntryId(chain, e.seq)) problems.push(`${e._id}: not the id of seq ${e.seq} of ${chain}`);
      if (e.value < 0) problems.push(`${e._id}: value ${e.value} is below zero`);
      if (!signOk(e)) problems.push(`${e._id}: a ${e.kind} entry of ${e.delta}`);
      if (e.seq !== prev.seq + 1) problems.push(`${chain}: seq ${prev.seq + 1} to ${e.seq - 1} missing`);
      else if (e.value !== prev.value + e.delta) problems.push(`${e._id}: value ${e.value} does not follow from ${prev.value} and ${e.delta}`);
      else if (!sameTotals(e.totals, { ...prev.totals, [e.kind]: (prev.totals[e.kind] ?? 0) + e.delta })) problems.push(`${e._id}: totals do not follow from the entry before`);
      const sum = Object.values(e.totals ?? {}).reduce((n, v) => n + v, 0);
      if (sum !== e.value) problems.push(`${e._id}: totals add up to ${sum}, its value is ${e.value}`);
      if (e.kind === 'open') opened += e.delta;
      prev = { seq: e.seq, value: e.value, totals: e.totals ?? {} };
    }
  }
  if (opened !== def.units) problems.push(`${code}: opening entries hold ${opened} units, the definition ${def.units}`);
  return problems;
}

/** Every give-back returns an entry of its op on its sub-account, once; a refused op holds none of its earlier parts. */
function checkParts(entries: StockEntry[], refusals: Array<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const byId = new Map(entries.map((e) => [e._id, e]));
  const backs = new Map<string, number>();
  for (const e of entries) {
    if (e.back === undefined) continue;
    const t = byId.get(e.back);
    if (!t || t.chain !== e.chain || t.op !== e.op || t.delta !== -e.delta || t.back !== undefined) problems.push(`${e._id}: gives back ${e.back}, which its op did not take there`);
    backs.set(e.back, (backs.get(e.back) ?? 0) + 1);
  }
  for (const [id, n] of backs) if (n > 1) problems.push(`${id}: given back ${n} times`);
  const partsOf = new Map<string, StockEntry[]>();
  for (const e of entries) if (e.op !== undefined && e.back === undefined && e.delta < 0) partsOf.set(e.op, [...(partsOf.get(e.op) ?? []), e]);
  for (const r of refusals) {
    if (typeof r.op !== 'string' || typeof r.part !== 'number') continue;
    for (const e of partsOf.get(r.op) ?? []) if ((e.part ?? 0) < r.part && !backs.has(e._id)) problems.push(`${e._id}: part of ${r.op}, refused at part ${r.part}, never given back`);
  }
  return problems;
}

function sameTotals(a: Totals, b: Totals): boolean {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].every((k) => (a?.[k] ?? 0) === (b?.[k] ?? 0));
}
