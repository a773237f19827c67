import { z } from 'zod';
import { defineRoute, type Route } from '../../platform/http/route.js';
import { memberIdSchema } from '../members/members.schemas.js';
import { segmentNames, type Segment } from '../segments/index.js';
import { benefitCodeSchema } from './benefits.schemas.js';
import type { BenefitGrants } from './grants.js';

const grantBody = z
  .object({
    benefitCode: benefitCodeSchema,
    /** The members to grant to (duplicates count once). */
    memberIds: z.array(memberIdSchema).min(1).max(10_000).optional(),
    /** Or a lifecycle segment, resolved when the grant is asked (src/modules/segments). */
    segment: z.enum(segmentNames as [Segment, ...Segment[]]).optional(),
    note: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => (b.memberIds ? 1 : 0) + (b.segment ? 1 : 0) === 1, { message: 'send memberIds or a segment, not both', path: ['memberIds'] })
  .meta({ id: 'BenefitGrantRequest' });

const grantView = z
  .object({
    id: z.string(),
    benefitCode: z.string(),
    segment: z.enum(segmentNames as [Segment, ...Segment[]]).nullable(),
    note: z.string().nullable(),
    status: z.enum(['running', 'done']),
    total: z.number().int(),
    processed: z.number().int(),
    issued: z.number().int(),
    failed: z.number().int(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'BenefitGrant' });
const grantResponse = z.object({ grant: grantView });

export function grantsRoutes(grants: BenefitGrants): Route[] {
  return [
    defineRoute({
      method: 'post', path: '/v1/admin/benefit-grants', tag: 'benefits', auth: ['ops'], idempotent: true,
      summary: 'Grants a benefit free to listed members or to a lifecycle segment, at most once per member; runs in the background and resumes after a crash',
      request: { body: grantBody },
      responses: { 202: { description: 'accepted; its progress so far', schema: grantResponse } },
      errors: [400, 404, 409],
      handler: async ({ body, caller, idempotency, requestId }) => ({ status: 202, body: { grant: await grants.create(caller, body, idempotency, requestId) } }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/benefit-grants/:id', tag: 'benefits', auth: ['ops'],
      summary: 'A grant’s progress: members processed, issued and failed',
      request: { params: z.object({ id: z.string().min(1).max(40) }).strict() },
      responses: { 200: { description: 'the grant', schema: grantResponse } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: { grant: await grants.get(params.id) } }),
    }),
  ];
}
