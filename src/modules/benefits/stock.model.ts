import type { ChainEntry } from '../../platform/db/counter-chain.js';

/**
 * What a stock entry records beside the chain's own fields. `op` is the stock operation it belongs to (a take, an
 * adjustment, the opening), `part` its part, `want` the quantity the operation asked for (signed for an adjustment), so
 * an op id reused for another operation is told apart; `back` names the entry a give-back returns.
 */
export type StockFields = { benefit: string; op?: string; part?: number; want?: number; back?: string };
export type StockEntry = ChainEntry<StockFields>;

/**
 * How a benefit's stock is split, written once by `define` (`_id = <code>|stock`) and never changed: every process
 * reads the same number of sub-accounts, so a sub-account is never forgotten by a reader.
 */
export type StockDefinition = { _id: string; benefit: string; opId: string; kind: 'definition'; shards: number; units: number; createdAt: Date };

/** One part of a take: how many units came from which sub-account, and the entry that took them. */
export type StockPart = { shard: number; entryId: string; qty: number };

export type StockLevels = { left: number; taken: number; returned: number; adjusted: number; initial: number; shards: number };

export const STOCK_COLLECTION = 'benefit_stock';
/** At most this many sub-accounts: enough that a flash sale's writers rarely meet on one seq, few enough to read all. */
export const MAX_SHARDS = 16;
export const MAX_TAKE = 10;
export const MAX_UNITS = 1_000_000_000;

export const chainOf = (code: string, shard: number) => `${code}#${shard}`;
export const shardOf = (chain: string) => Number(chain.slice(chain.lastIndexOf('#') + 1));
export const definitionId = (code: string) => `${code}|stock`;
/** Op ids of our own start with `|`, which a caller's may not: a caller can never land under one of them. */
export const DEFINE_OP = '|define';
export const partOp = (opId: string, part: number) => `${opId}#${part}`;
export const backOp = (opId: string, part: number) => `${opId}#${part}#back`;

/** Sub-account `i`'s share of `units` over `shards`: equal, the first ones one more when it does not divide. */
export const shareOf = (units: number, shards: number, i: number) => Math.floor(units / shards) + (i < units % shards ? 1 : 0);

/** The sign each kind of entry must have: units come in by opening and giving back, go out by taking. */
export const signOk = (e: Pick<StockEntry, 'kind' | 'delta'>) =>
  e.kind === 'take' ? e.delta < 0 : e.kind === 'open' || e.kind === 'back' ? e.delta > 0 : e.kind === 'adjust';
