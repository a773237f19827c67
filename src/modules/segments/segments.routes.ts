import { z } from 'zod';
import { validationFailed } from '../../platform/errors.js';
import { defineRoute, type Route } from '../../platform/http/route.js';
import '../../platform/openapi.js';
import { parseSegment, segmentPattern } from './definitions.js';
import type { SegmentsService } from './index.js';

const params = z
  .object({
    segment: z.string().regex(segmentPattern, 'active, silent, churned, tier:<CODE> or cohort:<YYYY-MM>').meta({ example: 'silent' }),
  })
  .strict();
const query = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(300).optional(),
  })
  .strict();
const segmentMember = z
  .object({
    memberId: z.string(),
    registeredAt: z.iso.datetime().nullable(),
    lastActivityAt: z.iso.datetime().nullable().meta({ description: 'the later of the registration and the member’s newest own activity' }),
    tier: z.string().nullable(),
  })
  .meta({ id: 'SegmentMember' });

const encode = (memberId: string) => Buffer.from(JSON.stringify({ after: memberId })).toString('base64url');
function decode(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { after?: unknown };
    if (typeof v.after === 'string') return v.after;
  } catch {
    /* answered below */
  }
  throw validationFailed([{ path: 'query.cursor', message: 'not a cursor from this list' }]);
}

export function segmentsRoutes(segments: SegmentsService): Route[] {
  return [
    defineRoute({
      method: 'get', path: '/v1/admin/segments/:segment/members', tag: 'admin', auth: ['ops'],
      summary: 'Members of a segment by id: active, silent, churned (docs/ANALYTICS.md), tier:<CODE>, or cohort:<YYYY-MM> (registration month)',
      description: 'Each member with its registration time, last activity and tier; a lifecycle segment is as of now, in the program’s calendar.',
      request: { params, query },
      responses: { 200: { description: 'a page', schema: z.object({ items: z.array(segmentMember), nextCursor: z.string().nullable() }) } },
      handler: async ({ params: p, query: q }) => {
        const { items, more } = await segments.page(parseSegment(p.segment), q.limit, q.cursor === undefined ? undefined : decode(q.cursor));
        const last = items[items.length - 1];
        return { status: 200, body: { items, nextCursor: more && last ? encode(last.memberId) : null } };
      },
    }),
  ];
}
