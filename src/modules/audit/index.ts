import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import { validationFailed } from '../../platform/errors.js';
import { defineRoute, type Caller, type Route } from '../../platform/http/route.js';
import '../../platform/openapi.js';
import { auditRepository, type AuditDoc } from './audit.model.js';

export type AuditInput = {
  /** Deterministic when the operation may be retried, so its record is written once. */
  id?: string;
  actor: Caller;
  action: string;
  target: { type: string; id: string };
  before?: unknown;
  after?: unknown;
  reason?: string;
  requestId?: string;
};
export type RecordAudit = (input: AuditInput) => Promise<void>;

const auditView = z
  .object({
    id: z.string(),
    actor: z.object({ role: z.string(), sub: z.string() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }),
    before: z.unknown(),
    after: z.unknown(),
    reason: z.string().nullable(),
    requestId: z.string().nullable(),
    at: z.iso.datetime(),
  })
  .meta({ id: 'AuditRecord' });

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
    targetId: z.string().max(128).optional(),
    action: z.string().max(64).optional(),
  })
  .strict();

const encode = (d: AuditDoc) => Buffer.from(JSON.stringify([d.at.toISOString(), d._id])).toString('base64url');
function decode(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at))) throw new Error('bad');
    return { at: new Date(at), id };
  } catch {
    throw validationFailed([{ path: 'query.cursor', message: 'not a cursor from this list' }]);
  }
}

/** The audit log of ops mutations (PRODUCT.md §10). */
export function createAuditModule(deps: { db: Connection; clock: Clock }) {
  const repo = auditRepository(deps.db);
  const record: RecordAudit = (input) =>
    repo.insert({
      _id: input.id ?? randomUUID(),
      actor: { role: input.actor.role, sub: input.actor.sub },
      action: input.action,
      target: input.target,
      before: input.before ?? null,
      after: input.after ?? null,
      reason: input.reason ?? null,
      requestId: input.requestId ?? null,
      at: deps.clock.now(),
    });
  const routes: Route[] = [
    defineRoute({
      method: 'get', path: '/v1/admin/audit', tag: 'admin', auth: ['ops'],
      summary: 'The audit log of ops mutations, newest first',
      request: { query: listQuery },
      responses: { 200: { description: 'a page', schema: z.object({ items: z.array(auditView), nextCursor: z.string().nullable() }) } },
      handler: async ({ query }) => {
        const docs = await repo.list({ limit: query.limit + 1, ...(query.cursor ? { before: decode(query.cursor) } : {}), targetId: query.targetId, action: query.action });
        const page = docs.slice(0, query.limit);
        return {
          status: 200,
          body: {
            items: page.map((d) => ({ id: d._id, actor: d.actor, action: d.action, target: d.target, before: d.before, after: d.after, reason: d.reason, requestId: d.requestId, at: d.at.toISOString() })),
            nextCursor: docs.length > query.limit && page.length > 0 ? encode(page[page.length - 1] as AuditDoc) : null,
          },
        };
      },
    }),
  ];
  return { record, routes, init: () => repo.init() };
}
