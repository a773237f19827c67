import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import { lastOfRun } from '../../platform/db/last-of-run.js';
import type { Task } from './tasks.evaluate.js';

/** `auditId`: the audit id of the ops write that saved it (docs/DECISIONS.md, "Audit"). */
export type TaskDoc = Task & { _id: string; createdAt: Date; updatedAt: Date; auditId?: string };
/**
 * What a deletion leaves under the task's code: the stamp of the ops write that deleted it, so a deletion whose request
 * died before its audit record can be told from one that never happened (docs/DECISIONS.md, "Audit").
 */
type TombstoneDoc = { _id: string; deletedAt: Date; auditId?: string };
const isTombstone = (d: TaskDoc | TombstoneDoc): d is TombstoneDoc => 'deletedAt' in d;
export type Reward = { points: number; growth: number; badge: { code: string; name: string } | null };
/** One matching event counted: slot n of a (task, member, period) counter, `_id = <task>|<member>|<period>#<n>`. */
export type SlotDoc = { _id: string; eventScope: string; at: Date };
/** A task's payout to a member, `_id = <task>|<member>|<payKey>`: taken by the event that completed it, with what it pays. */
export type PayoutDoc = { _id: string; eventScope: string; task: string; memberId: string; payKey: string; reward: Reward; at: Date };
/** A badge a member holds, `_id = <member>:<badge>`. */
export type BadgeDoc = { _id: string; memberId: string; code: string; name: string; task: string; awardedAt: Date };

/** Parallel reads when a retried event looks for the slot it may already hold. */
const SCAN_BATCH = 32;

/**
 * Task definitions (keyed by code), the catalogue of badge codes ever defined (so the member summary probes badges by
 * _id instead of scanning), progress slots, payouts and badges — every decision an insert under a unique _id.
 */
export function tasksRepository(db: Connection) {
  const models = {
    tasks: db.model('Task', new Schema({}, { collection: 'tasks', strict: false, versionKey: false })),
    badgeCodes: db.model('TaskBadgeCode', new Schema({}, { collection: 'task_badge_codes', strict: false, versionKey: false })),
    slots: db.model('TaskProgressSlot', new Schema({}, { collection: 'task_progress', strict: false, versionKey: false })),
    payouts: db.model('TaskPayout', new Schema({}, { collection: 'task_payouts', strict: false, versionKey: false })),
    badges: db.model('Badge', new Schema({}, { collection: 'badges', strict: false, versionKey: false })),
  };
  const tasks = models.tasks.collection as unknown as Collection<TaskDoc | TombstoneDoc>;
  const badgeCodes = models.badgeCodes.collection as unknown as Collection<{ _id: string; at: Date }>;
  const slots = models.slots.collection as unknown as Collection<SlotDoc>;
  const payouts = models.payouts.collection as unknown as Collection<PayoutDoc>;
  const badges = models.badges.collection as unknown as Collection<BadgeDoc>;
  const taken = async (counter: string, n: number) => (await slots.findOne({ _id: `${counter}#${n}` }, { projection: { _id: 1 } })) !== null;

  return {
    async init() {
      for (const m of Object.values(models)) await ensureCollection(m);
    },
    /** The task and the audit id of the last ops write under its code (a deletion's too): `task` is null when there is none. */
    async get(code: string): Promise<{ task: TaskDoc | null; auditId: string | undefined }> {
      const doc = await tasks.findOne({ _id: code });
      return { task: doc && !isTombstone(doc) ? doc : null, auditId: doc?.auditId };
    },
    all: () => tasks.find({ deletedAt: { $exists: false } }).sort({ _id: 1 }).toArray() as Promise<TaskDoc[]>,
    /** Tasks are configuration written by ops: last write wins, and every write is audited. */
    async save(doc: TaskDoc): Promise<void> {
      await tasks.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async remove(code: string, at: Date, auditId: string | undefined): Promise<void> {
      await (tasks as Collection<TombstoneDoc>).replaceOne({ _id: code }, { deletedAt: at, ...(auditId ? { auditId } : {}) });
    },
    /** Remembers a badge code for good (a later edit or deletion of its task does not hide badges already awarded). */
    addBadgeCode: (code: string, at: Date) => insertOnce(badgeCodes, { _id: code, at }),
    badgeCodes: async () => (await badgeCodes.find({}).toArray()).map((d) => d._id),

    /**
     * How many slots of a counter are taken, reading by _id only: slots fill contiguously from 1, so an exponential
     * probe (1, 2, 4, …) brackets the highest one and a binary search finds it — about 2·log2(target) reads.
     */
    async progress(counter: string, target: number): Promise<number> {
      return (await lastOfRun({ n: 0, doc: true }, async (n) => ((await taken(counter, n)) ? true : null), target)).n;
    },

    /** The slot (1..upTo) an event already holds in a counter, if any: for retries, which may have counted before. */
    async ownSlot(counter: string, upTo: number, eventScope: string): Promise<number | undefined> {
      for (let high = upTo; high >= 1; high -= SCAN_BATCH) {
        const ids = Array.from({ length: Math.min(SCAN_BATCH, high) }, (_, i) => `${counter}#${high - i}`);
        const found = await Promise.all(ids.map((_id) => slots.findOne({ _id })));
        const mine = found.find((s) => s?.eventScope === eventScope);
        if (mine) return Number(mine._id.slice(mine._id.lastIndexOf('#') + 1));
      }
      return undefined;
    },

    /**
     * Takes the first free slot above `after` (up to `target`) by unique insert, so concurrent events never share one
     * and the slots stay contiguous (slot n + 1 is only tried once slot n is seen taken). Returns undefined when full.
     */
    async takeSlot(counter: string, after: number, target: number, eventScope: string, at: Date): Promise<number | undefined> {
      for (let n = after + 1; n <= target; n++) {
        if (await insertOnce(slots, { _id: `${counter}#${n}`, eventScope, at })) return n;
      }
      return undefined;
    },

    getPayout: (id: string) => payouts.findOne({ _id: id }),
    /** Claims a payout for an event; answers the existing claim when it is taken (by this event or another). */
    async claimPayout(doc: PayoutDoc): Promise<PayoutDoc> {
      return (await insertOnce(payouts, doc)) ? doc : ((await payouts.findOne({ _id: doc._id })) as PayoutDoc);
    },


    /** Awards a badge; a member who already holds it keeps the first award. */
    awardBadge: (doc: BadgeDoc) => insertOnce(badges, doc),
    getBadge: (id: string) => badges.findOne({ _id: id }),
  };
}
export type TasksRepository = ReturnType<typeof tasksRepository>;
