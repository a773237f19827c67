import { defineRoute, type Route } from '../../platform/http/route.js';
import { benefitBody, benefitPage, benefitParams, benefitResponse, encodeCursor, listQuery, memberBenefitPage } from './benefits.schemas.js';
import type { Benefit } from './benefits.model.js';
import type { AdminBenefitView } from './benefits.schemas.js';
import { toBenefitView, type BenefitsService } from './benefits.service.js';

const cursorOf = (next: string | null) => (next ? encodeCursor(next) : null);

/**
 * `maxPoints` is MAX_POINTS_AMOUNT, the most a benefit may cost; `stockLeft` reads a benefit's units left (null:
 * unlimited), which ops see beside the total they configure.
 */
export function benefitsRoutes(benefits: BenefitsService, deps: { maxPoints: number; stockLeft: (b: Benefit) => Promise<number | null> }): Route[] {
  const opsView = async (b: Benefit): Promise<AdminBenefitView> => ({ ...toBenefitView(b), stockLeft: await deps.stockLeft(b) });
  return [
    defineRoute({
      method: 'put', path: '/v1/admin/benefits/:code', tag: 'benefits', auth: ['ops'],
      summary: 'Create or replace a benefit (audited); every save is a new version',
      request: { params: benefitParams, body: benefitBody(deps.maxPoints) },
      responses: { 200: { description: 'replaced', schema: benefitResponse }, 201: { description: 'created', schema: benefitResponse } },
      errors: [503],
      handler: async ({ params, body, caller, requestId }) => {
        const { benefit, created } = await benefits.putBenefit(caller, params.code, body, requestId);
        return { status: created ? 201 : 200, body: { benefit: await opsView(benefit) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/benefits', tag: 'benefits', auth: ['ops'],
      summary: 'Every benefit, active or not, in code order; cursor-paginated',
      request: { query: listQuery },
      responses: { 200: { description: 'a page', schema: benefitPage } },
      handler: async ({ query }) => {
        const page = await benefits.listBenefits({ limit: query.limit, after: query.cursor });
        return { status: 200, body: { items: await Promise.all(page.items.map(opsView)), nextCursor: cursorOf(page.next) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/benefits/:code', tag: 'benefits', auth: ['ops'],
      summary: 'One benefit as last saved',
      request: { params: benefitParams },
      responses: { 200: { description: 'the benefit', schema: benefitResponse } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: { benefit: await opsView(await benefits.getBenefit(params.code, { fresh: true })) } }),
    }),
    defineRoute({
      method: 'get', path: '/v1/benefits', tag: 'benefits', auth: ['member'],
      summary: 'The active catalogue for the calling member: each benefit with whether one unit can be redeemed now and, if not, every reason',
      request: { query: listQuery },
      responses: { 200: { description: 'a page', schema: memberBenefitPage } },
      errors: [404],
      handler: async ({ query, caller }) => {
        const page = await benefits.listMemberBenefits(caller.sub, { limit: query.limit, after: query.cursor });
        return { status: 200, body: { items: page.items, nextCursor: cursorOf(page.next) } };
      },
    }),
  ];
}
