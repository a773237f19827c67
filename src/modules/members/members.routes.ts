import { assertSelfOrStaff } from '../../platform/http/auth.js';
import { defineRoute, type Route } from '../../platform/http/route.js';
import {
  createMemberBody,
  memberParams,
  memberResponse,
  memberWithSummaryResponse,
  registrationResponse,
  updateMemberBody,
} from './members.schemas.js';
import type { MembersService } from './members.service.js';

export function membersRoutes(members: MembersService): Route[] {
  return [
    defineRoute({
      method: 'post', path: '/v1/members', tag: 'members', auth: ['service', 'ops'],
      summary: 'Register a member (with referralCode: bound to its referrer, or `referral.refusal` says why not)',
      request: { body: createMemberBody },
      responses: { 201: { description: 'registered', schema: registrationResponse } },
      errors: [409],
      handler: async ({ body, caller, requestId }) => ({ status: 201, body: await members.registerMember(caller, body, requestId) }),
    }),
    defineRoute({
      method: 'get', path: '/v1/members/:memberId', tag: 'members', auth: ['member', 'service', 'ops'],
      summary: 'A member with its summary (members may read only themselves)',
      request: { params: memberParams },
      responses: { 200: { description: 'the member', schema: memberWithSummaryResponse } },
      errors: [404],
      handler: async ({ params, caller }) => {
        assertSelfOrStaff(caller, params.memberId);
        return { status: 200, body: await members.getMemberWithSummary(params.memberId) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/me', tag: 'members', auth: ['member'],
      summary: 'The calling member with its summary',
      responses: { 200: { description: 'the member', schema: memberWithSummaryResponse } },
      errors: [404],
      handler: async ({ caller }) => ({ status: 200, body: await members.getMemberWithSummary(caller.sub) }),
    }),
    defineRoute({
      method: 'patch', path: '/v1/members/:memberId', tag: 'members', auth: ['member', 'service', 'ops'],
      summary: 'Change a profile (members: displayName, timezone, birthday once) or the status (ops)',
      request: { params: memberParams, body: updateMemberBody },
      responses: { 200: { description: 'updated', schema: memberResponse } },
      errors: [404, 409],
      handler: async ({ params, body, caller, requestId }) => {
        assertSelfOrStaff(caller, params.memberId);
        return { status: 200, body: { member: await members.updateMember(caller, params.memberId, body, requestId) } };
      },
    }),
  ];
}
