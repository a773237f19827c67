import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';

export type AuditDoc = {
  _id: string;
  actor: { role: string; sub: string };
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
  at: Date;
};

export function auditRepository(db: Connection) {
  const model = db.model('AuditRecord', new Schema({}, { collection: 'audit_log', strict: false, versionKey: false }));
  const log = model.collection as unknown as Collection<AuditDoc>;
  return {
    init: () => ensureCollection(model),
    /** Inserts once per id: a retried operation that writes its audit record again changes nothing. */
    async insert(doc: AuditDoc): Promise<void> {
      await insertOnce(log, doc);
    },
    /** Newest first; the cursor is the (at, _id) of the last record read. */
    async list(opts: { limit: number; before?: { at: Date; id: string }; targetId?: string; action?: string }): Promise<AuditDoc[]> {
      const filter: Record<string, unknown> = {};
      if (opts.targetId) filter['target.id'] = opts.targetId;
      if (opts.action) filter.action = opts.action;
      if (opts.before) {
        filter.$or = [{ at: { $lt: opts.before.at } }, { at: opts.before.at, _id: { $lt: opts.before.id } }];
      }
      return log.find(filter).sort({ at: -1, _id: -1 }).limit(opts.limit).toArray();
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
