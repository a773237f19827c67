import { z } from 'zod';
import { defineRoute, type Route } from '../../platform/http/route.js';
import { ruleBody, ruleCodeSchema } from './rules.schemas.js';
import { toRuleView, type RulesService } from './rules.service.js';

const ruleParams = z.object({ code: ruleCodeSchema }).strict();
const ruleView = z.record(z.string(), z.unknown()).meta({ id: 'EarningRuleView' });

export function rulesRoutes(rules: RulesService): Route[] {
  return [
    defineRoute({
      method: 'put', path: '/v1/admin/earning-rules/:code', tag: 'rules', auth: ['ops'],
      summary: 'Create or replace an earning rule (audited); contradictory rules are refused with the failing paths',
      request: { params: ruleParams, body: ruleBody },
      responses: { 200: { description: 'replaced', schema: z.object({ rule: ruleView }) }, 201: { description: 'created', schema: z.object({ rule: ruleView }) } },
      handler: async ({ params, body, caller, requestId }) => {
        const { rule, created } = await rules.putRule(caller, params.code, body, requestId);
        return { status: created ? 201 : 200, body: { rule: toRuleView(rule) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/earning-rules', tag: 'rules', auth: ['ops'],
      summary: 'Every earning rule',
      responses: { 200: { description: 'the rules', schema: z.object({ items: z.array(ruleView) }) } },
      handler: async () => ({ status: 200, body: { items: (await rules.listRules()).map(toRuleView) } }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/earning-rules/:code', tag: 'rules', auth: ['ops'],
      summary: 'One earning rule',
      request: { params: ruleParams },
      responses: { 200: { description: 'the rule', schema: z.object({ rule: ruleView }) } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: { rule: toRuleView(await rules.getRule(params.code)) } }),
    }),
  ];
}
