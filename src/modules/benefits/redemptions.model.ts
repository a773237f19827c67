import { Schema, type Connection } from 'mongoose';
import type { Collection, Filter } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import { noFacts, type FactSink } from '../../platform/facts.js';
import { Lru } from '../../platform/lru.js';
import { countedStep, redemptionsFactSource, redemptionStepFact } from './redemptions.facts.js';

/**
 * A redemption as it was asked for: written once, as the saga's first step, under an id derived from the member and
 * the request's Idempotency-Key (so a request re-sent after its key's record is purged finds it). Everything that
 * happens to it afterwards is a step document of its own (`RedemptionStep`), committed by a unique insert.
 */
export type RedemptionDoc = {
  _id: string;
  memberId: string;
  benefit: string;
  benefitName: string;
  kind: string;
  quantity: number;
  /** Points per unit, as priced when recorded (0 for a tier privilege or a free benefit). */
  unitCost: number;
  points: number;
  /** The request's fingerprint: the same key with another request is refused. */
  fingerprint: string;
  /** Whether the benefit had a finite stock when recorded (then a unit is taken per quantity). */
  stocked: boolean;
  /** The member's limit when recorded, and the calendar period it counts in (its key in the member's zone). */
  limit: { count: number; period: string; key: string } | null;
  voucherValidDays: number | null;
  /** Set for an ops grant: the grant's id (granted redemptions cost nothing and count no limit). */
  grant: string | null;
  actor: { role: string; sub: string };
  createdAt: Date;
};

/**
 * What became of a redemption, each at most once (its `_id` is `<redemption id>#<step>`):
 * - `end`: the saga's outcome, `issued` (with the voucher) or `failed` (with the refusal). Exactly one of them lands;
 *   whoever inserts second (a retry, the sweeper) follows the first.
 * - `close`: what became of an issued voucher, `used`, `cancelled` or `expired`; again exactly one.
 * - `captured`: the ledger entry that captured the points (read when a cancellation refunds them).
 */
export type EndStep = {
  _id: string;
  memberId: string;
  step: 'end';
  outcome: 'issued' | 'failed';
  voucherCode: string | null;
  expiresAt: Date | null;
  error: { status: number; code: string; message: string; details?: Record<string, unknown> } | null;
  at: Date;
};
export type CloseStep = {
  _id: string;
  memberId: string;
  step: 'close';
  outcome: 'used' | 'cancelled' | 'expired';
  /** Whether this close gives the points back (a cancellation; an expiry under the refund policy of its time). */
  refunded?: boolean;
  /** Set when the saga voided an issued voucher it could not get paid for (its hold timed out and the points were gone). */
  unpaid?: boolean;
  actor: { role: string; sub: string };
  at: Date;
};
export type CapturedStep = { _id: string; memberId: string; step: 'captured'; entryId: string; at: Date };
export type RedemptionStep = EndStep | CloseStep | CapturedStep;

/** A voucher code, unique across the service; valid only if its redemption's `end` step names it. */
export type VoucherDoc = { _id: string; redemption: string; memberId: string; createdAt: Date };

export type Redemption = { doc: RedemptionDoc; end: EndStep | null; close: CloseStep | null };
export type RedemptionStatus = 'pending' | 'issued' | 'failed' | 'used' | 'cancelled' | 'expired';

export const statusOf = (r: Redemption): RedemptionStatus => (!r.end ? 'pending' : r.end.outcome === 'failed' ? 'failed' : (r.close?.outcome ?? 'issued'));

/**
 * Redemption ids embed the member (they stay unique on a cluster sharded by `memberId`, docs/SCALING.md) and a hash of
 * the operation; the member is everything before the last `:r:` (member ids may contain colons, hashes never do).
 */
export const redemptionId = (memberId: string, hash: string) => `${memberId}:r:${hash}`;
export function memberOfRedemption(id: string): string | undefined {
  const at = id.lastIndexOf(':r:');
  return at > 0 && /^[A-Za-z0-9_-]{16,64}$/.test(id.slice(at + 3)) ? id.slice(0, at) : undefined;
}
const stepId = (id: string, step: RedemptionStep['step']) => `${id}#${step}`;

/** `facts` receives each counted step's rollup fact once it landed (docs/ANALYTICS.md). */
export function redemptionsRepository(db: Connection, facts: FactSink = noFacts) {
  // Listing a member's redemptions filters by memberId (an index on MongoDB; a scan on FerretDB v1, see BENEFITS.md).
  const redemptionsModel = db.model(
    'Redemption',
    new Schema({ memberId: String, benefit: String, createdAt: Date }, { collection: 'redemptions', strict: false, versionKey: false }).index({ memberId: 1, createdAt: -1 }),
  );
  const stepsModel = db.model('RedemptionStep', new Schema({}, { collection: 'redemption_steps', strict: false, versionKey: false }));
  const vouchersModel = db.model('Voucher', new Schema({}, { collection: 'vouchers', strict: false, versionKey: false }));
  const redemptions = redemptionsModel.collection as unknown as Collection<RedemptionDoc>;
  const steps = stepsModel.collection as unknown as Collection<RedemptionStep>;
  const vouchers = vouchersModel.collection as unknown as Collection<VoucherDoc>;

  /** The benefit of each redemption this process has seen, so a step's fact needs no read. */
  const benefitOf = new Lru<string, string>(100_000);
  /** Never fails the step that landed: a fact not written is rebuilt by the rollup from the step. */
  async function stepFact(id: string, step: RedemptionStep): Promise<void> {
    if (!countedStep(step)) return;
    const benefit = benefitOf.get(id) ?? (await redemptions.findOne({ _id: id }, { projection: { benefit: 1 } }).catch(() => null))?.benefit;
    const fact = benefit ? redemptionStepFact(step, benefit) : undefined;
    if (fact) facts.record(fact);
  }

  async function load(doc: RedemptionDoc): Promise<Redemption> {
    benefitOf.set(doc._id, doc.benefit);
    const [end, close] = await Promise.all([steps.findOne({ _id: stepId(doc._id, 'end') }), steps.findOne({ _id: stepId(doc._id, 'close') })]);
    return { doc, end: (end as EndStep | null) ?? null, close: (close as CloseStep | null) ?? null };
  }

  return {
    init: async () => {
      await Promise.all([ensureCollection(redemptionsModel), ensureCollection(stepsModel), ensureCollection(vouchersModel)]);
    },
    factSource: redemptionsFactSource(redemptions, steps),
    /** Records a redemption; false when one is already recorded under its id. */
    record: (doc: RedemptionDoc) => {
      benefitOf.set(doc._id, doc.benefit);
      return insertOnce(redemptions, doc);
    },
    async get(id: string): Promise<Redemption | null> {
      const doc = await redemptions.findOne({ _id: id });
      return doc ? load(doc) : null;
    },
    /**
     * Commits a step unless one of its kind already landed; answers the step that holds (this one, or the earlier).
     */
    async commitStep<S extends RedemptionStep>(id: string, step: Omit<S, '_id'>): Promise<{ step: S; won: boolean }> {
      const doc = { ...step, _id: stepId(id, step.step) } as S;
      if (await insertOnce(steps as unknown as Collection<S>, doc as never)) {
        await stepFact(id, doc);
        return { step: doc, won: true };
      }
      const earlier = (await steps.findOne({ _id: doc._id })) as S | null;
      if (!earlier) throw new Error(`step ${doc._id} was taken but cannot be read`);
      return { step: earlier, won: false };
    },
    captured: async (id: string) => ((await steps.findOne({ _id: stepId(id, 'captured') })) as CapturedStep | null)?.entryId ?? null,
    /** Reserves a voucher code; false when the code is taken (draw another). */
    reserveVoucher: (doc: VoucherDoc) => insertOnce(vouchers, doc),
    /** Redemptions matching `filter`, newest first, after the cursor `(createdAt, _id)`. */
    async list(filter: Filter<RedemptionDoc>, limit: number, after?: { at: Date; id: string }): Promise<Redemption[]> {
      const page = after ? { $or: [{ createdAt: { $lt: after.at } }, { createdAt: after.at, _id: { $lt: after.id } }] } : {};
      const docs = await redemptions
        .find({ ...filter, ...page })
        .sort({ createdAt: -1, _id: -1 })
        .limit(limit)
        .toArray();
      return Promise.all(docs.map(load));
    },
    /** Every redemption of a benefit (checks only: a scan). */
    ofBenefit: async (benefit: string) => Promise.all((await redemptions.find({ benefit }).toArray()).map(load)),
    allBenefits: () => redemptions.distinct('benefit'),
  };
}
export type RedemptionsRepository = ReturnType<typeof redemptionsRepository>;
