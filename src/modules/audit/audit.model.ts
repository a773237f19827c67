import { Schema, type Connection } from 'mongoose';
import type { Collection, Filter } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';

export type AuditDoc = {
  /** The mutation's own id (docs/DECISIONS.md, "Audit"): whoever writes the record first, the request or the sweep, wins. */
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

/** What the list filters on; every field is optional and they combine with AND. */
export type AuditFilter = {
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
};

const schema = new Schema({}, { collection: 'audit_log', strict: false, versionKey: false });
// Newest first, alone or after one equality filter. FerretDB v1 answers from _id only (a scan of the log); MongoDB
// uses these (docs/PERFORMANCE.md).
schema.index({ at: -1, _id: -1 });
schema.index({ 'target.id': 1, at: -1, _id: -1 });
schema.index({ 'actor.sub': 1, at: -1, _id: -1 });
schema.index({ action: 1, at: -1, _id: -1 });

export function auditRepository(db: Connection) {
  const model = db.model('AuditRecord', schema);
  const log = model.collection as unknown as Collection<AuditDoc>;
  return {
    init: () => ensureCollection(model),
    /** Inserts once per id: a retried operation, or the sweep after its request, writing the record again changes nothing. */
    insert: (doc: AuditDoc): Promise<boolean> => insertOnce(log, doc),
    has: async (id: string): Promise<boolean> => (await log.findOne({ _id: id }, { projection: { _id: 1 } })) !== null,
    /** Newest first; the cursor is the (at, _id) of the last record read. */
    async list(filter: AuditFilter, opts: { limit: number; before?: { at: Date; id: string } }): Promise<AuditDoc[]> {
      const q: Filter<AuditDoc> = {};
      if (filter.actor) q['actor.sub'] = filter.actor;
      if (filter.action) q.action = filter.action;
      if (filter.targetType) q['target.type'] = filter.targetType;
      if (filter.targetId) q['target.id'] = filter.targetId;
      if (filter.from || filter.to) q.at = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
      if (opts.before) q.$or = [{ at: { $lt: opts.before.at } }, { at: opts.before.at, _id: { $lt: opts.before.id } }];
      return log.find(q).sort({ at: -1, _id: -1 }).limit(opts.limit).toArray();
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
