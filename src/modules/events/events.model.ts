import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';

/**
 * What an event pays, as its first attempt to get that far decided: each rule that pays (after its caps) and each that
 * does not, with why. Recorded before anything is paid; every later attempt pays and answers this, whatever the rules
 * say by then.
 */
export type Decision = {
  /** `pendingDays`: the rule's, when its points are pending after the event (recorded so a retry pays them the same way). */
  pays: Array<{ rule: string; points: number; growth: number; pendingDays?: number }>;
  notFired: Array<{ rule: string; reason: string }>;
};
/**
 * An accepted event, keyed by its scope (caller × eventId) and written once. A paying event is stored with its decision,
 * in the same insert; a refund is stored before it is processed and has none (nor have events stored before decisions
 * were recorded).
 */
export type EventDoc = { _id: string; eventId: string; memberId: string; type: string; occurredAt: Date; properties: Record<string, unknown>; source: string; receivedAt: Date; decision?: Decision };
/**
 * An order claimed by the first order.paid of (member, order); a second event for the order is refused. What the order
 * earns is the decision of the event named by `eventScope`, and its entries are in `order_entries`.
 */
export type OrderDoc = { _id: string; eventScope: string; orderAmount: number; at: Date };
/** The ledger entries an order earned (one per ledger), keyed by the order so refunds read them by _id. */
export type OrderEntriesDoc = { _id: string; points: { entryId: string; amount: number } | null; growth: { entryId: string; amount: number } | null };
/** One refund of an order: slot n of the order's refunds, taken by one refund event. */
export type RefundDoc = { _id: string; eventScope: string; amount: number; at: Date };

export function eventsRepository(db: Connection) {
  const models = {
    events: db.model('Event', new Schema({}, { collection: 'events', strict: false, versionKey: false })),
    orders: db.model('OrderEarning', new Schema({}, { collection: 'order_earnings', strict: false, versionKey: false })),
    orderEntries: db.model('OrderEntry', new Schema({}, { collection: 'order_entries', strict: false, versionKey: false })),
    refunds: db.model('OrderRefund', new Schema({}, { collection: 'order_refunds', strict: false, versionKey: false })),
  };
  const events = models.events.collection as unknown as Collection<EventDoc>;
  const orders = models.orders.collection as unknown as Collection<OrderDoc>;
  const orderEntries = models.orderEntries.collection as unknown as Collection<OrderEntriesDoc>;
  const refunds = models.refunds.collection as unknown as Collection<RefundDoc>;
  return {
    async init() {
      for (const m of Object.values(models)) await ensureCollection(m);
    },
    /** Keeps every accepted event for audit; answers false when its scope is stored already (a retry's earlier attempt). */
    saveEvent: (doc: EventDoc) => insertOnce(events, doc),
    getEvent: (scope: string) => events.findOne({ _id: scope }),
    /** Claims an order for an event; answers the existing claim when the order is taken (by this event or another). */
    async claimOrder(doc: OrderDoc): Promise<OrderDoc> {
      return (await insertOnce(orders, doc)) ? doc : ((await orders.findOne({ _id: doc._id })) as OrderDoc);
    },
    getOrder: (id: string) => orders.findOne({ _id: id }),
    /** Records the entries an order earned, with the amounts the ledger committed (written once, after they landed). */
    linkEntries: (doc: OrderEntriesDoc) => insertOnce(orderEntries, doc),
    getEntries: (orderKey: string) => orderEntries.findOne({ _id: orderKey }),
    /** Takes the next refund slot of an order for a refund event (or finds the one it took); returns all slots up to it. */
    async takeRefundSlot(orderKey: string, eventScope: string, amount: number, at: Date): Promise<RefundDoc[]> {
      const earlier: RefundDoc[] = [];
      for (let n = 1; n <= 1000; n++) {
        const _id = `${orderKey}#${n}`;
        const existing = await refunds.findOne({ _id });
        if (existing) {
          earlier.push(existing);
          if (existing.eventScope === eventScope) return earlier;
          continue;
        }
        const doc = { _id, eventScope, amount, at };
        if (await insertOnce(refunds, doc)) return [...earlier, doc];
        n--; // another refund took this slot first: read it and go on
      }
      throw new Error(`order ${orderKey} has more than 1000 refunds`);
    },
  };
}
export type EventsRepository = ReturnType<typeof eventsRepository>;
