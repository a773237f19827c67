import { z } from 'zod';
import { validationFailed } from '../../platform/errors.js';
import { defineRoute, type Route } from '../../platform/http/route.js';
import { memberIdSchema } from '../members/members.schemas.js';
import { benefitCodeSchema, redemptionBody, redemptionResponse, redemptionStatuses, redemptionView, type RedemptionView } from './benefits.schemas.js';
import { statusOf, type Redemption } from './redemptions.model.js';
import type { RedemptionsService } from './redemptions.service.js';

const redemptionParams = z.object({ id: z.string().min(1).max(200) }).strict();
const memberParams = z.object({ memberId: memberIdSchema }).strict();
const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(400).optional(),
  })
  .strict();
const adminListQuery = listQuery
  .extend({ benefit: benefitCodeSchema.optional(), status: z.enum(redemptionStatuses).optional(), memberId: memberIdSchema.optional() })
  .strict();
const page = z.object({ items: z.array(redemptionView), nextCursor: z.string().nullable() }).meta({ id: 'RedemptionPage' });

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

export function toRedemptionView(r: Redemption): RedemptionView {
  const status = statusOf(r);
  return {
    id: r.doc._id,
    benefitCode: r.doc.benefit,
    memberId: r.doc.memberId,
    quantity: r.doc.quantity,
    status,
    voucherCode: r.end?.voucherCode ?? null,
    expiresAt: iso(r.end?.expiresAt),
    pointsSpent: status === 'failed' || status === 'cancelled' || r.close?.refunded ? 0 : r.doc.points,
    createdAt: r.doc.createdAt.toISOString(),
    updatedAt: (r.close?.at ?? r.end?.at ?? r.doc.createdAt).toISOString(),
    usedAt: r.close?.outcome === 'used' ? r.close.at.toISOString() : null,
    cancelledAt: r.close?.outcome === 'cancelled' ? r.close.at.toISOString() : null,
    failure: r.end?.error?.code ?? null,
  };
}

const encode = (r: Redemption) => Buffer.from(`${r.doc.createdAt.toISOString()}|${r.doc._id}`).toString('base64url');
function decode(cursor: string): { at: Date; id: string } {
  const [at, ...id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const date = new Date(at ?? '');
  if (Number.isNaN(date.getTime()) || id.length === 0) throw validationFailed([{ path: 'query.cursor', message: 'not a cursor this list handed out' }]);
  return { at: date, id: id.join('|') };
}

/** Reads a page plus one, so the page knows whether another follows. */
async function listPage(redemptions: RedemptionsService, filter: Record<string, unknown>, query: { limit: number; cursor?: string | undefined }) {
  const status = filter.status as string | undefined;
  delete filter.status;
  // Status is derived from the steps, so it filters after reading; a page may then come back shorter than `limit`.
  const found = await redemptions.list(filter, query.limit + 1, query.cursor ? decode(query.cursor) : undefined);
  const more = found.length > query.limit;
  const items = found.slice(0, query.limit);
  return {
    items: items.filter((r) => !status || statusOf(r) === status).map(toRedemptionView),
    nextCursor: more && items.length > 0 ? encode(items[items.length - 1] as Redemption) : null,
  };
}

export function redemptionsRoutes(redemptions: RedemptionsService): Route[] {
  const created = (r: { redemption: Redemption }) => ({ status: 201, body: { redemption: toRedemptionView(r.redemption) } });
  const errors = [400, 403, 404, 409];
  return [
    defineRoute({
      method: 'post', path: '/v1/me/redemptions', tag: 'benefits', auth: ['member'], idempotent: true, rateLimit: 'redeem',
      summary: 'Redeem a benefit: holds the points, takes the stock and the limit, issues a voucher and captures the points',
      request: { body: redemptionBody },
      responses: { 201: { description: 'issued', schema: redemptionResponse } },
      errors,
      handler: async ({ body, caller, idempotency }) => created(await redemptions.redeem(caller, caller.sub, body, idempotency)),
    }),
    defineRoute({
      method: 'post', path: '/v1/members/:memberId/redemptions', tag: 'benefits', auth: ['service', 'ops'], idempotent: true, rateLimit: 'redeem',
      summary: 'Redeem a benefit for a member (the business backend)',
      request: { params: memberParams, body: redemptionBody },
      responses: { 201: { description: 'issued', schema: redemptionResponse } },
      errors,
      handler: async ({ params, body, caller, idempotency, requestId }) => created(await redemptions.redeem(caller, params.memberId, body, idempotency, requestId)),
    }),
    defineRoute({
      method: 'get', path: '/v1/me/redemptions', tag: 'benefits', auth: ['member'],
      summary: 'The calling member’s redemptions, newest first',
      request: { query: listQuery },
      responses: { 200: { description: 'a page', schema: page } },
      handler: async ({ query, caller }) => ({ status: 200, body: await listPage(redemptions, { memberId: caller.sub }, query) }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/redemptions', tag: 'benefits', auth: ['ops'],
      summary: 'Redemptions, newest first, by benefit, status or member',
      request: { query: adminListQuery },
      responses: { 200: { description: 'a page', schema: page } },
      handler: async ({ query }) => {
        const filter: Record<string, unknown> = {};
        if (query.benefit) filter.benefit = query.benefit;
        if (query.memberId) filter.memberId = query.memberId;
        if (query.status) filter.status = query.status;
        return { status: 200, body: await listPage(redemptions, filter, query) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/redemptions/:id', tag: 'benefits', auth: ['member', 'service', 'ops'],
      summary: 'One redemption (its member, the backend or ops)',
      request: { params: redemptionParams },
      responses: { 200: { description: 'the redemption', schema: redemptionResponse } },
      errors: [404],
      handler: async ({ params, caller }) => ({ status: 200, body: { redemption: toRedemptionView(await redemptions.get(caller, params.id)) } }),
    }),
    defineRoute({
      method: 'post', path: '/v1/redemptions/:id/use', tag: 'benefits', auth: ['service'],
      summary: 'Marks a voucher used, once (a repeat answers the same; a cancelled or expired voucher is refused)',
      request: { params: redemptionParams },
      responses: { 200: { description: 'used', schema: redemptionResponse } },
      errors: [404, 409],
      handler: async ({ params, caller }) => ({ status: 200, body: { redemption: toRedemptionView(await redemptions.use(caller, params.id)) } }),
    }),
    defineRoute({
      method: 'post', path: '/v1/redemptions/:id/cancel', tag: 'benefits', auth: ['member', 'ops'], idempotent: true,
      summary: 'Cancels an unused voucher, once: refunds the points and returns the stock and the limit',
      request: { params: redemptionParams },
      responses: { 200: { description: 'cancelled', schema: redemptionResponse } },
      errors: [404, 409],
      handler: async ({ params, caller, requestId }) => ({ status: 200, body: { redemption: toRedemptionView(await redemptions.cancel(caller, params.id, requestId)) } }),
    }),
  ];
}
