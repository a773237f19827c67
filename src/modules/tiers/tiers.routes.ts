import { z } from 'zod';
import { assertSelfOrStaff } from '../../platform/http/auth.js';
import { defineRoute, type Route } from '../../platform/http/route.js';
import type { LadderDoc, TierChangeDoc } from './tiers.model.js';
import { ladderBody, ladderView, memberParams, tierChangeView } from './tiers.schemas.js';
import type { TiersService } from './tiers.service.js';

const toLadderView = (d: LadderDoc | null) =>
  d ? { version: d._id, tiers: d.tiers, policy: d.policy, updatedAt: d.updatedAt.toISOString() } : { version: 0, tiers: [], policy: {}, updatedAt: new Date(0).toISOString() };
const toChangeView = (c: TierChangeDoc) => ({
  seq: c.seq, from: c.from, to: c.to, reason: c.reason, growth: c.growth, at: c.at.toISOString(), validUntil: c.validUntil?.toISOString() ?? null,
});

export function tiersRoutes(tiers: TiersService): Route[] {
  return [
    defineRoute({
      method: 'put', path: '/v1/admin/tiers', tag: 'tiers', auth: ['ops'],
      summary: 'Set the tier ladder and policy (a new version; audited)',
      request: { body: ladderBody },
      responses: { 200: { description: 'the ladder', schema: z.object({ ladder: ladderView }) } },
      handler: async ({ body, caller, requestId }) => {
        const ladder = await tiers.putLadder(caller, body, requestId);
        // Re-evaluate every member against the new ladder in the background: a resumable run keyed by the version.
        void tiers.runEvaluation(`ladder-v${ladder._id}`).catch(() => undefined);
        return { status: 200, body: { ladder: toLadderView(ladder) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/tiers', tag: 'tiers', auth: ['member', 'service', 'ops'],
      summary: 'The tier ladder (version 0 and no tiers until ops set one)',
      responses: { 200: { description: 'the ladder', schema: z.object({ ladder: ladderView }) } },
      handler: async () => ({ status: 200, body: { ladder: toLadderView(await tiers.getLadder()) } }),
    }),
    defineRoute({
      method: 'post', path: '/v1/admin/tiers/preview', tag: 'tiers', auth: ['ops'], readOnly: true,
      summary: 'How many members each tier would hold today with this ladder (or the current one); changes nobody',
      request: { body: z.object({ ladder: ladderBody.optional() }).strict().default({}) },
      responses: { 200: { description: 'counts per tier', schema: z.object({ members: z.number().int(), counts: z.record(z.string(), z.number().int()) }) } },
      errors: [404],
      handler: async ({ body }) => ({ status: 200, body: await tiers.preview(body.ladder) }),
    }),
    defineRoute({
      method: 'get', path: '/v1/members/:memberId/tier-history', tag: 'tiers', auth: ['member', 'service', 'ops'],
      summary: 'Every tier change of a member with its reason, newest first',
      request: { params: memberParams },
      responses: { 200: { description: 'the changes', schema: z.object({ items: z.array(tierChangeView) }) } },
      errors: [404],
      handler: async ({ params, caller }) => {
        assertSelfOrStaff(caller, params.memberId);
        return { status: 200, body: { items: (await tiers.history(params.memberId)).map(toChangeView) } };
      },
    }),
  ];
}
