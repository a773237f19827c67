import type { Connection } from 'mongoose';
import type { DueRecord } from '../../platform/sweeper.js';
import { derivedOpId, type EntryDoc } from '../ledger/index.js';
import type { Benefit } from './benefits.model.js';
import { statusOf, type CapturedStep, type CloseStep, type EndStep, type RedemptionDoc, type RedemptionStatus, type RedemptionStep, type VoucherDoc } from './redemptions.model.js';
import { REDEMPTION_LEASE_MS } from './redemptions.service.js';
import { benefitStock } from './stock.js';
import { STOCK_COLLECTION, type StockDefinition, type StockEntry } from './stock.model.js';

export type BenefitsCheckReport = {
  /** Benefits looked at: the catalogue's, and any stock defined without a benefit. */
  benefits: number;
  redemptions: number;
  /** Broken invariants, each naming the benefit, redemption or entry: any of these fails `npm run ledger:check`. */
  violations: string[];
  /** Redemptions not finished yet but still owned by a live saga step (within their lease, or with a sweep recorded). */
  inFlight: string[];
};

/** The due-work kinds of the saga and of a closed voucher's refund, as redemptions.service.ts records them. */
const KIND_SAGA = 'benefits.redemption';
const KIND_CLOSE = 'benefits.close';

/** The op ids the saga derives for a redemption's steps (redemptions.service.ts `ops`), and the ledger's resolution op. */
const opsOf = (id: string) => ({
  hold: derivedOpId('points', 'redemption-hold', id),
  stock: derivedOpId('stock', 'redemption', id),
  limit: derivedOpId('limit', 'redemption', id),
  refund: derivedOpId('points', 'redemption-refund', id),
  spend: derivedOpId('points', 'redemption-spend', id),
});
const resolutionOp = (holdId: string) => derivedOpId('points', 'resolve', holdId);
const units = (n: number) => `${n} unit${n === 1 ? '' : 's'}`;

type LedgerFact = Pick<EntryDoc, '_id' | 'memberId' | 'opId' | 'kind' | 'points' | 'holdId' | 'reverses'>;
type LimitEntry = { _id: string; chain: string; seq: number; kind: string; delta: number; value: number; opId: string };
/** What the stores hold about one redemption. Units are what its ops took and did not give back. */
type Facts = {
  doc: RedemptionDoc;
  end: EndStep | null;
  close: CloseStep | null;
  captured: CapturedStep | null;
  voucher: VoucherDoc | null;
  hold?: LedgerFact;
  resolution?: LedgerFact;
  refund?: LedgerFact;
  /** The spend that took the points when the hold timed out before its capture. */
  spend?: LedgerFact;
  stockUnits: number;
  limitUnits: number;
};

/**
 * Verifies the benefits' invariants (issue 12, item 6) over the whole store, from its records alone. Meant for a
 * quiet store (a redemption that starts while this reads may be half seen); a redemption whose request is still
 * within its lease, or whose sweep is recorded, is reported as in flight instead of broken.
 *
 * - each stock passes `stock.check` (chains, give-backs, refused takes), never goes below zero, and its units taken −
 *   returned equal the units held by redemptions: issued, used or expired (an expired voucher keeps its unit), plus
 *   whatever the takes of unfinished ones landed; every take belongs to a redemption;
 * - every redemption has an outcome, and the stores agree with it: a failed one holds no points, stock or limit; an
 *   issued one captured exactly its hold and names a voucher of its own; a cancelled one refunded the capture and gave
 *   its stock and limit back;
 * - every limit chain runs 1..n, never below zero, and no take left it above the count its redemption was priced
 *   with (the benefit's limit at that time, so a later change of the definition does not matter).
 *
 * `expiredPoints` is BENEFIT_EXPIRED_VOUCHER_POINTS; without it an expired voucher may or may not have been refunded.
 */
export async function checkBenefits(db: Connection, opts: { now: Date; expiredPoints?: 'keep' | 'refund' }): Promise<BenefitsCheckReport> {
  // Due work first: a redemption finishing while the rest is read then still counts as owned rather than broken.
  const due = new Set((await db.collection<DueRecord>('due_work').find({ kind: { $in: [KIND_SAGA, KIND_CLOSE] } }).project({ _id: 1 }).toArray()).map((r) => String(r._id)));
  const docs = await db.collection<RedemptionDoc>('redemptions').find({}).toArray();
  const steps = new Map((await db.collection<RedemptionStep>('redemption_steps').find({}).toArray()).map((s) => [s._id, s]));
  const vouchers = new Map((await db.collection<VoucherDoc>('vouchers').find({}).toArray()).map((v) => [v._id, v]));
  const report: BenefitsCheckReport = { benefits: 0, redemptions: docs.length, violations: [], inFlight: [] };

  const facts = new Map<string, Facts>();
  for (const doc of docs) {
    const end = (steps.get(`${doc._id}#end`) as EndStep | undefined) ?? null;
    facts.set(doc._id, {
      doc,
      end,
      close: (steps.get(`${doc._id}#close`) as CloseStep | undefined) ?? null,
      captured: (steps.get(`${doc._id}#captured`) as CapturedStep | undefined) ?? null,
      voucher: end?.voucherCode ? (vouchers.get(end.voucherCode) ?? null) : null,
      stockUnits: 0,
      limitUnits: 0,
    });
  }
  for (const s of steps.values()) {
    const id = s._id.slice(0, s._id.lastIndexOf('#'));
    if (!facts.has(id)) report.violations.push(`step ${s._id}: its redemption was never recorded`);
  }
  await readLedger(db, facts);
  const stockOps = new Map([...facts.values()].map((f) => [opsOf(f.doc._id).stock, f]));
  const limitOps = new Map([...facts.values()].map((f) => [opsOf(f.doc._id).limit, f]));
  const stockEntries = (await db.collection<StockEntry>(STOCK_COLLECTION).find({}).toArray()).filter((e) => typeof e.seq === 'number');
  report.violations.push(...countStockUnits(stockEntries, stockOps));
  const limitEntries = (await db.collection<LimitEntry>('benefit_limits').find({}).toArray()).filter((e) => typeof e.seq === 'number');
  report.violations.push(...checkLimits(limitEntries, limitOps));

  // Each redemption held to its outcome; one still owned by a live step counts what it landed so far.
  const held = new Map<string, number>();
  for (const f of facts.values()) {
    const problems = judge(f, opts.expiredPoints);
    let holding = expectedUnits(f, 'stock');
    if (problems.length > 0) {
      const owner = liveOwner(f, due, opts.now);
      if (owner) {
        report.inFlight.push(`redemption ${f.doc._id} (${statusOf(f)}): ${owner}`);
        holding = f.stockUnits;
      } else {
        report.violations.push(...problems.map((p) => `redemption ${f.doc._id} (${f.doc.benefit}, ${statusOf(f)}): ${p}`));
      }
    }
    if (f.doc.stocked) held.set(f.doc.benefit, (held.get(f.doc.benefit) ?? 0) + holding);
  }

  const benefits = await db.collection<Benefit & { _id: string }>('benefits').find({}).toArray();
  const defined = (await db.collection<StockDefinition>(STOCK_COLLECTION).find({ kind: 'definition' }).toArray()).map((d) => d.benefit);
  const stocked = new Set([...benefits.filter((b) => b.stock !== null).map((b) => b.code), ...defined]);
  report.benefits = new Set([...benefits.map((b) => b.code), ...defined]).size;
  const stock = benefitStock(db);
  for (const code of [...stocked].sort()) {
    const problems = await stock.check(code);
    report.violations.push(...problems.map((p) => `stock ${p}`));
    if (!defined.includes(code)) continue;
    const levels = await stock.levels(code);
    const out = levels.taken - levels.returned;
    const want = held.get(code) ?? 0;
    if (levels.left < 0) report.violations.push(`stock ${code}: ${levels.left} units left, below zero`);
    if (out !== want) report.violations.push(`stock ${code}: taken ${levels.taken} − returned ${levels.returned} = ${out}, but redemptions hold ${want}`);
  }
  return report;
}

/** Why a redemption that is not finished may still be: its request's lease, or a sweep recorded to finish it. */
function liveOwner(f: Facts, due: Set<string>, now: Date): string | null {
  const until = f.doc.createdAt.getTime() + REDEMPTION_LEASE_MS;
  if (!f.end && now.getTime() < until) return `its request's lease runs until ${new Date(until).toISOString()}`;
  if (due.has(`${KIND_SAGA}|${f.doc._id}`)) return 'the sweeper is recorded to finish it';
  if (f.close && due.has(`${KIND_CLOSE}|${f.doc._id}`)) return `the sweeper is recorded to finish its ${f.close.outcome} voucher`;
  return null;
}

const holdsUnits = (status: RedemptionStatus) => status === 'issued' || status === 'used' || status === 'expired';

/** Units of stock or limit a finished redemption must hold: its quantity while its voucher stands, else none. */
function expectedUnits(f: Facts, what: 'stock' | 'limit'): number {
  const status = statusOf(f);
  if (status === 'pending') return what === 'stock' ? f.stockUnits : f.limitUnits; // whatever its takes landed
  const applies = what === 'stock' ? f.doc.stocked : f.doc.limit !== null;
  return applies && holdsUnits(status) ? f.doc.quantity : 0;
}

/** What is wrong with a redemption, as if it were finished (the caller decides whether it still may be in flight). */
function judge(f: Facts, expiredPoints: 'keep' | 'refund' | undefined): string[] {
  const { doc, end, close } = f;
  if (!end) return ['has no outcome (no end step), and no saga step owns it'];
  const problems: string[] = [];
  const status = statusOf(f);
  for (const what of ['stock', 'limit'] as const) {
    const has = what === 'stock' ? f.stockUnits : f.limitUnits;
    const want = expectedUnits(f, what);
    if (has !== want) problems.push(`holds ${units(has)} of ${what}, ${status === 'failed' || status === 'cancelled' ? `${status} (all given back)` : status} means ${want}`);
  }
  if (end.outcome === 'failed') {
    if (close) problems.push(`failed, yet its voucher was closed as ${close.outcome}`);
    if (f.resolution?.kind === 'capture') problems.push(`failed, yet ${f.resolution.points} points were captured (${f.resolution._id})`);
    else if (f.hold && !f.resolution) problems.push(`failed, yet its hold ${f.hold._id} of ${f.hold.points} points was never released`);
    if (f.refund) problems.push(`failed, yet a refund ${f.refund._id} landed`);
    return problems;
  }
  if (!end.voucherCode || f.voucher?.redemption !== doc._id) problems.push(`issued voucher ${end.voucherCode ?? '(none)'} is not reserved for it`);
  if (doc.points === 0) {
    if (f.hold) problems.push(`costs nothing, yet holds points (${f.hold._id})`);
    return problems;
  }
  if (!f.hold) return [...problems, `issued for ${doc.points} points, but no hold of them landed`];
  if (f.hold.points !== doc.points) problems.push(`its hold ${f.hold._id} is of ${f.hold.points} points, it costs ${doc.points}`);
  if (close?.unpaid) {
    // Voided by the saga: its hold timed out before the capture and the member no longer had the points.
    if (f.resolution?.kind === 'capture' || f.spend) problems.push(`voided as unpaid, yet its points were taken (${(f.spend ?? f.resolution)?._id})`);
    if (f.refund) problems.push(`voided as unpaid, yet a refund ${f.refund._id} landed`);
    return problems;
  }
  // The points are taken by the hold's capture, or (a hold timed out before it) by a spend of their own.
  const capture = f.resolution?.kind === 'capture' ? f.resolution : f.spend;
  if (f.resolution?.kind === 'capture' && f.spend) problems.push(`paid twice: captured (${f.resolution._id}) and spent (${f.spend._id})`);
  if (!capture && f.resolution) return [...problems, `issued, but its hold ${f.hold._id} was released (${f.resolution._id}) and no spend took its points`];
  if (!capture) return [...problems, `issued, but its hold ${f.hold._id} was never captured`];
  if (capture.points !== doc.points) problems.push(`captured ${capture.points} points of ${doc.points}`);
  if (f.captured?.entryId !== capture._id) problems.push(`its captured step names ${f.captured?.entryId ?? 'nothing'}, the capture is ${capture._id}`);
  const refundDue = close?.outcome === 'cancelled' || (close?.outcome === 'expired' && expiredPoints === 'refund');
  const refundAllowed = refundDue || (close?.outcome === 'expired' && expiredPoints === undefined);
  if (f.refund && !refundAllowed) problems.push(`refunded (${f.refund._id}) though ${status}`);
  else if (!f.refund && refundDue) problems.push(`${status}, but its ${doc.points} points were never refunded`);
  else if (f.refund && (f.refund.kind !== 'reverse' || f.refund.reverses !== capture._id || f.refund.points !== doc.points)) {
    problems.push(`its refund ${f.refund._id} does not reverse the capture ${capture._id} in full (${f.refund.kind} of ${f.refund.points})`);
  }
  return problems;
}

/**
 * Finds each redemption's hold and refund by the op ids the saga derives, then each hold's resolution (capture,
 * release or time-out share one op id) by the ledger's: two scans of the points entries, keeping only those.
 */
async function readLedger(db: Connection, facts: Map<string, Facts>): Promise<void> {
  const wanted = new Map<string, { f: Facts; as: 'hold' | 'refund' | 'resolution' | 'spend' }>();
  for (const f of facts.values()) {
    if (f.doc.points === 0) continue;
    const op = opsOf(f.doc._id);
    wanted.set(`${f.doc.memberId}|${op.hold}`, { f, as: 'hold' });
    wanted.set(`${f.doc.memberId}|${op.refund}`, { f, as: 'refund' });
    wanted.set(`${f.doc.memberId}|${op.spend}`, { f, as: 'spend' });
  }
  if (wanted.size === 0) return;
  const entries = db.collection<EntryDoc>('points_entries');
  const projection = { _id: 1, memberId: 1, opId: 1, kind: 1, points: 1, holdId: 1, reverses: 1 };
  const scan = async (filter: Record<string, unknown>) => {
    for await (const e of entries.find(filter).project<LedgerFact>(projection)) {
      const w = (e.kind as string) === 'refusal' ? undefined : wanted.get(`${e.memberId}|${e.opId}`);
      if (w) w.f[w.as] = e;
    }
  };
  await scan({});
  for (const f of facts.values()) if (f.hold) wanted.set(`${f.doc.memberId}|${resolutionOp(f.hold._id)}`, { f, as: 'resolution' });
  await scan({ kind: { $in: ['capture', 'release'] } });
}

/** Adds to each redemption the units its stock op holds (takes − give-backs); a take of no redemption is a violation. */
function countStockUnits(entries: StockEntry[], byOp: Map<string, Facts>): string[] {
  const problems: string[] = [];
  const orphans = new Map<string, { benefit: string; taken: number; out: number }>();
  for (const e of entries) {
    if ((e.kind !== 'take' && e.kind !== 'back') || e.op === undefined) continue;
    const n = -e.delta;
    const f = byOp.get(e.op);
    if (f) f.stockUnits += n;
    else {
      const o = orphans.get(e.op) ?? { benefit: e.benefit, taken: 0, out: 0 };
      if (e.kind === 'take') o.taken += n;
      o.out += n;
      orphans.set(e.op, o);
    }
  }
  for (const [op, o] of orphans) problems.push(`stock ${o.benefit}: op ${op} took ${units(o.taken)} (${o.out} still out) for no redemption`);
  return problems;
}

/** Each limit chain: seqs 1..n, values following from the deltas, never below zero, never above a take's count. */
function checkLimits(entries: LimitEntry[], byOp: Map<string, Facts>): string[] {
  const problems: string[] = [];
  const chains = new Map<string, LimitEntry[]>();
  for (const e of entries) chains.set(e.chain, [...(chains.get(e.chain) ?? []), e]);
  for (const [chain, list] of chains) {
    let prev = { seq: 0, value: 0 };
    for (const e of list.sort((a, b) => a.seq - b.seq)) {
      const at = `limit ${chain} seq ${e.seq}`;
      if (e.seq !== prev.seq + 1) problems.push(`${at}: expected seq ${prev.seq + 1} (a gap or a duplicate)`);
      else if (e.value !== prev.value + e.delta) problems.push(`${at}: value ${e.value} does not follow from ${prev.value} and ${e.delta}`);
      if (e.value < 0) problems.push(`${at}: value ${e.value} is below zero`);
      prev = { seq: e.seq, value: e.value };
      const f = byOp.get(e.opId.endsWith('#back') ? e.opId.slice(0, -'#back'.length) : e.opId);
      if (!f) {
        problems.push(`${at}: a ${e.kind} of ${e.delta} under op ${e.opId}, which no redemption owns`);
        continue;
      }
      f.limitUnits += e.delta;
      const count = f.doc.limit?.count;
      if (e.kind === 'take' && count !== undefined && e.value > count) problems.push(`${at}: ${e.value} in use after ${f.doc._id}, its limit was ${count}`);
    }
  }
  return problems;
}
