import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce, isDuplicateKey } from '../../platform/db/connection.js';
import type { LimitPeriod } from './periods.js';

/** A benefit definition as the service works with it: optional fields are null, instants are Dates. */
export type Benefit = {
  code: string;
  name: string;
  description: string | null;
  kind: 'coupon' | 'gift' | 'privilege' | 'voucher';
  costPoints: number;
  tiers: string[] | null;
  stock: number | null;
  perMemberLimit: { count: number; period: LimitPeriod } | null;
  validFrom: Date | null;
  validTo: Date | null;
  voucherValidDays: number | null;
  active: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** `role:sub` of the caller who saved this version. */
  updatedBy: string;
  /** The audit id of the ops write that saved this version (docs/DECISIONS.md, "Audit"). */
  auditId?: string;
};

/** The current definition, `_id = code`: what the catalogue lists and caches. */
type CurrentDoc = Benefit & { _id: string };
/** Every version ever saved, `_id = <code>#<version>`: the unique insert that makes each version number one save's. */
type RevisionDoc = Benefit & { _id: string };

const revisionId = (code: string, version: number) => `${code}#${version}`;
const plain = (doc: (Benefit & { _id: string }) | null): Benefit | null => {
  if (!doc) return null;
  const { _id, ...benefit } = doc;
  return benefit;
};

/**
 * Benefit definitions. A save claims the next version by inserting it into the revisions (FerretDB v1 has no
 * transactions and does not re-check an update's filter, so a unique insert is the only safe "next number"), then
 * copies it to the current document that lists and reads use.
 */
export function benefitsRepository(db: Connection) {
  const models = {
    current: db.model('Benefit', new Schema({}, { collection: 'benefits', strict: false, versionKey: false })),
    revisions: db.model('BenefitRevision', new Schema({}, { collection: 'benefit_revisions', strict: false, versionKey: false })),
  };
  const current = models.current.collection as unknown as Collection<CurrentDoc>;
  const revisions = models.revisions.collection as unknown as Collection<RevisionDoc>;

  /** The newest revision after `version`, following versions forward by _id (the only index FerretDB v1 uses). */
  async function newestAfter(code: string, version: number): Promise<Benefit | null> {
    let newest: Benefit | null = null;
    for (let v = version + 1; ; v++) {
      const next = plain(await revisions.findOne({ _id: revisionId(code, v) }));
      if (!next) return newest;
      newest = next;
    }
  }

  async function replaceCurrent(b: Benefit): Promise<void> {
    const doc = { ...b, _id: b.code };
    try {
      await current.replaceOne({ _id: b.code }, doc, { upsert: true });
    } catch (err) {
      // Two first saves upserting at once: one inserts, the other is refused and replaces the document now there.
      if (!isDuplicateKey(err)) throw err;
      await current.replaceOne({ _id: b.code }, doc);
    }
  }

  return {
    async init() {
      for (const m of Object.values(models)) await ensureCollection(m);
    },
    get: async (code: string) => plain(await current.findOne({ _id: code })),
    /** The whole catalogue in code order (it is small: tens to hundreds of benefits). */
    all: async () => (await current.find({}).sort({ _id: 1 }).toArray()).map((d) => plain(d) as Benefit),
    /** A page in code order after `after`. */
    page: async (limit: number, after?: string) =>
      (await current.find(after ? { _id: { $gt: after } } : {}).sort({ _id: 1 }).limit(limit).toArray()).map((d) => plain(d) as Benefit),

    /** The newest saved version, which may be ahead of the current document while another save is publishing it. */
    async latest(code: string): Promise<Benefit | null> {
      const shown = await this.get(code);
      return (await newestAfter(code, shown?.version ?? 0)) ?? shown;
    },

    /** One saved version, null when there is none. */
    revision: async (code: string, version: number) => plain(await revisions.findOne({ _id: revisionId(code, version) })),

    /** Claims `b.version` for this save; false when another save took it first (re-read and try the next). */
    claim: (b: Benefit) => insertOnce(revisions, { ...b, _id: revisionId(b.code, b.version) }),

    /**
     * Makes a claimed version current. Replacing is last-write-wins, so a slow save could put an older version back over
     * a newer one; after each write it looks for a newer revision and writes that instead. Whichever save writes last
     * has looked after its write, so the current document ends at the newest version.
     */
    async publish(b: Benefit): Promise<void> {
      for (let doc: Benefit | null = b; doc; doc = await newestAfter(doc.code, doc.version)) await replaceCurrent(doc);
    },
  };
}
export type BenefitsRepository = ReturnType<typeof benefitsRepository>;
