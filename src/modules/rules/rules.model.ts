import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import { lastOfRun } from '../../platform/db/last-of-run.js';
import type { Rule } from './rules.evaluate.js';

/** `auditId`: the audit id of the ops write that saved it (docs/DECISIONS.md, "Audit"). */
export type RuleDoc = Rule & { _id: string; createdAt: Date; updatedAt: Date; auditId?: string };

/** Parallel reads when a retried event looks for the cap slot it may already hold. */
const SCAN_BATCH = 32;

/** One document per rule (keyed by code); a slot document per paid firing for caps. */
export function rulesRepository(db: Connection) {
  const rulesModel = db.model('EarningRule', new Schema({}, { collection: 'earning_rules', strict: false, versionKey: false }));
  const slotsModel = db.model('RuleCapSlot', new Schema({}, { collection: 'earning_rule_slots', strict: false, versionKey: false }));
  const rules = rulesModel.collection as unknown as Collection<RuleDoc>;
  const slots = slotsModel.collection as unknown as Collection<{ _id: string; eventScope: string; at: Date }>;
  const slotId = (counter: string, n: number) => `${counter}#${n}`;
  const isTaken = async (counter: string, n: number) => ((await slots.findOne({ _id: slotId(counter, n) }, { projection: { _id: 1 } })) ? true : null);
  /** The highest taken slot of a counter (0 for none), searching on from `from` (taken, or 0). */
  const highestSlot = async (counter: string, from: number, cap: number) => (await lastOfRun({ n: from, doc: true }, (n) => isTaken(counter, n), cap)).n;
  /** Whether one of slots 1..upTo is the event's, newest first (a retry's slot is most likely among the latest). */
  async function ownSlot(counter: string, upTo: number, eventScope: string): Promise<boolean> {
    for (let high = upTo; high >= 1; high -= SCAN_BATCH) {
      const ids = Array.from({ length: Math.min(SCAN_BATCH, high) }, (_, i) => slotId(counter, high - i));
      const found = await Promise.all(ids.map((_id) => slots.findOne({ _id })));
      if (found.some((s) => s?.eventScope === eventScope)) return true;
    }
    return false;
  }
  return {
    async init() {
      await ensureCollection(rulesModel);
      await ensureCollection(slotsModel);
    },
    get: (code: string) => rules.findOne({ _id: code }),
    all: () => rules.find({}).sort({ _id: 1 }).toArray(),
    /** Rules are configuration written by ops: last write wins, and every write is audited. */
    async save(doc: RuleDoc): Promise<void> {
      await rules.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    /**
     * Takes the next of `cap` slots of a counter (rule × member × day or month) for an event, or finds the one it holds:
     * answers false when every slot belongs to other events. A unique insert takes a slot, so concurrent events never
     * share one. Slots fill contiguously from 1 (slot n + 1 is only tried once n is known taken), so after a lost
     * insert the highest taken slot is found by a search reading by _id (about 2·log₂ n reads, not 2n) and the next is
     * tried: the first event of a counter costs one insert, the n-th about 2·log₂ n reads and two inserts.
     *
     * A retry (`retry`: an earlier attempt of the event may have taken a slot) looks for its own slot among the taken
     * ones first. That scan is only paid by a retry whose first attempt died after its caps and before recording its
     * decision (a retry that finds the decision never claims caps); recording each slot a second time under
     * (counter, event) would make it a single read, but cost every capped event one more insert.
     */
    async takeSlot(counter: string, cap: number, eventScope: string, at: Date, retry: boolean): Promise<boolean> {
      let last = 0;
      if (retry) {
        last = await highestSlot(counter, 0, cap);
        if (await ownSlot(counter, last, eventScope)) return true;
      }
      while (last < cap) {
        if (await insertOnce(slots, { _id: slotId(counter, last + 1), eventScope, at })) return true;
        last = await highestSlot(counter, last + 1, cap); // another event took it: the run goes on from there
      }
      return false;
    },
  };
}
export type RulesRepository = ReturnType<typeof rulesRepository>;
