import { z } from 'zod';
import { validationFailed } from '../../platform/errors.js';
import { defineRoute, type Route } from '../../platform/http/route.js';
import '../../platform/openapi.js';
import type { AuditDoc, AuditRepository } from './audit.model.js';

const auditView = z
  .object({
    id: z.string(),
    actor: z.object({ role: z.string(), sub: z.string() }),
    action: z.string().meta({ example: 'earning-rule.update' }),
    target: z.object({ type: z.string(), id: z.string() }),
    before: z.unknown(),
    after: z.unknown(),
    reason: z.string().nullable(),
    requestId: z.string().nullable(),
    at: z.iso.datetime(),
  })
  .meta({ id: 'AuditRecord' });

const name = z.string().min(1).max(128);
const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
    actor: name.optional().meta({ description: 'the actor’s `sub`' }),
    action: z.string().min(1).max(64).optional().meta({ description: 'e.g. `points.adjust`' }),
    targetType: z.string().min(1).max(64).optional().meta({ description: 'e.g. `member`, `benefit`, `earning-rule`' }),
    targetId: name.optional(),
    from: z.iso.datetime({ offset: true }).optional().meta({ description: 'records at or after this instant' }),
    to: z.iso.datetime({ offset: true }).optional().meta({ description: 'records before this instant' }),
  })
  .strict()
  // Only a range of two valid instants is judged here (an invalid one is named by its own issue).
  .refine((q) => !q.from || !q.to || !(Date.parse(q.from) >= Date.parse(q.to)), { message: 'must be after `from`', path: ['to'] });

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

const toView = (d: AuditDoc) => ({
  id: d._id, actor: d.actor, action: d.action, target: d.target, before: d.before, after: d.after, reason: d.reason, requestId: d.requestId, at: d.at.toISOString(),
});

export function auditRoutes(repo: AuditRepository): Route[] {
  return [
    defineRoute({
      method: 'get', path: '/v1/admin/audit', tag: 'admin', auth: ['ops'],
      summary: 'The audit log of ops mutations, newest first, by actor, action, target and time range',
      request: { query: listQuery },
      responses: { 200: { description: 'a page', schema: z.object({ items: z.array(auditView), nextCursor: z.string().nullable() }) } },
      handler: async ({ query }) => {
        const filter = {
          actor: query.actor, action: query.action, targetType: query.targetType, targetId: query.targetId,
          from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined,
        };
        const docs = await repo.list(filter, { limit: query.limit + 1, ...(query.cursor ? { before: decode(query.cursor) } : {}) });
        const page = docs.slice(0, query.limit);
        const last = page[page.length - 1];
        return { status: 200, body: { items: page.map(toView), nextCursor: docs.length > query.limit && last ? encode(last) : null } };
      },
    }),
  ];
}
