import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import type { Rule } from './rules.evaluate.js';

export type RuleDoc = Rule & { _id: string; createdAt: Date; updatedAt: Date };

/** One document per rule (keyed by code); a slot document per paid firing for caps. */
export function rulesRepository(db: Connection) {
  const rulesModel = db.model('EarningRule', new Schema({}, { collection: 'earning_rules', strict: false, versionKey: false }));
  const slotsModel = db.model('RuleCapSlot', new Schema({}, { collection: 'earning_rule_slots', strict: false, versionKey: false }));
  const rules = rulesModel.collection as unknown as Collection<RuleDoc>;
  const slots = slotsModel.collection as unknown as Collection<{ _id: string; eventScope: string; at: Date }>;
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
     * Takes one of `cap` slots of a counter (rule × member × day or month) for an event: a unique insert per slot,
     * so concurrent events cannot take the same one, and a retried event finds the slot it already took.
     * Returns false when every slot belongs to other events.
     */
    async takeSlot(counter: string, cap: number, eventScope: string, at: Date): Promise<boolean> {
      for (let n = 1; n <= cap; n++) {
        const _id = `${counter}#${n}`;
        if (await insertOnce(slots, { _id, eventScope, at })) return true;
        const taken = await slots.findOne({ _id });
        if (taken?.eventScope === eventScope) return true;
      }
      return false;
    },
  };
}
export type RulesRepository = ReturnType<typeof rulesRepository>;
