import { z } from 'zod';
import { defineRoute, type Route } from '../../platform/http/route.js';
import type { ReferralPrograms } from './programs.js';
import { toProgramView } from './programs.js';
import {
  bindBody, decisionBody, inviteeParams, listQuery, memberParams, memberReferralView, pageQuery, programBody, programView, referralView,
} from './referrals.schemas.js';
import type { ReferralsService } from './referrals.service.js';

const referralResponse = z.object({ referral: referralView });
const programResponse = z.object({ program: programView });

export function referralsRoutes(referrals: ReferralsService, programs: ReferralPrograms): Route[] {
  const decision = (outcome: 'approved' | 'rejected') =>
    defineRoute({
      method: 'post', path: `/v1/admin/referrals/:id/${outcome === 'approved' ? 'approve' : 'reject'}`, tag: 'referrals', auth: ['ops'], idempotent: true,
      summary: outcome === 'approved' ? 'Approve a referral in review: pays both sides once (audited)' : 'Reject a referral in review: nothing is paid (audited)',
      description: 'One decision per referral: the same decision again answers it, the other is 409 REFERRAL_ALREADY_DECIDED.',
      request: { params: inviteeParams, body: decisionBody },
      responses: { 200: { description: 'decided', schema: referralResponse } },
      errors: [404, 409],
      handler: async ({ params, body, caller, requestId }) => ({ status: 200, body: { referral: await referrals.decide(caller, params.id, outcome, body.note, requestId) } }),
    });

  return [
    defineRoute({
      method: 'get', path: '/v1/me/referral', tag: 'referrals', auth: ['member'],
      summary: 'The calling member’s code (created on first need), share link, invitees (names masked) and rewards',
      request: { query: pageQuery },
      responses: { 200: { description: 'the member’s referral page', schema: memberReferralView } },
      errors: [404],
      handler: async ({ caller, query }) => ({ status: 200, body: await referrals.memberReferral(caller.sub, query, false) }),
    }),
    defineRoute({
      method: 'post', path: '/v1/me/referral/bind', tag: 'referrals', auth: ['member'],
      summary: 'Bind the calling member to the owner of an invite code, within the window after registering',
      description:
        'Refusals: 404 REFERRAL_CODE_NOT_FOUND; 409 SELF_REFERRAL, ALREADY_BOUND, REFERRAL_CYCLE, REFERRER_FROZEN, REFERRER_JOINED_LATER, BIND_WINDOW_CLOSED, ' +
        'REFERRAL_PROGRAM_INACTIVE, MEMBER_FROZEN. Binding again to the same referrer answers 200 with the binding.',
      request: { body: bindBody },
      responses: { 201: { description: 'bound', schema: referralResponse }, 200: { description: 'already bound to this referrer', schema: referralResponse } },
      errors: [404, 409],
      handler: async ({ caller, body }) => {
        const { referral, created } = await referrals.bind(caller.sub, body.code, body.device);
        return { status: created ? 201 : 200, body: { referral } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/members/:memberId/referral', tag: 'referrals', auth: ['service', 'ops'],
      summary: 'A member’s referral page, with its invitees’ ids and names',
      request: { params: memberParams, query: pageQuery },
      responses: { 200: { description: 'the member’s referral page', schema: memberReferralView } },
      errors: [404],
      handler: async ({ params, query }) => ({ status: 200, body: await referrals.memberReferral(params.memberId, query, true) }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/referral-program', tag: 'referrals', auth: ['ops'],
      summary: 'The referral program in force (version 0, inactive, until ops save one)',
      responses: { 200: { description: 'the program', schema: programResponse } },
      handler: async () => ({ status: 200, body: { program: toProgramView(await programs.current()) } }),
    }),
    defineRoute({
      method: 'put', path: '/v1/admin/referral-program', tag: 'referrals', auth: ['ops'],
      summary: 'Save the referral program as its next version (audited); referrals keep the version they were bound under',
      request: { body: programBody },
      responses: { 200: { description: 'the new version', schema: programResponse } },
      handler: async ({ body, caller, requestId }) => ({ status: 200, body: { program: toProgramView(await programs.put(caller, body, requestId)) } }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/referrals', tag: 'referrals', auth: ['ops'],
      summary: 'Referrals newest first, e.g. ?state=review for the review queue',
      request: { query: listQuery },
      responses: { 200: { description: 'a page', schema: z.object({ items: z.array(referralView), nextCursor: z.string().nullable() }) } },
      handler: async ({ query }) => ({ status: 200, body: await referrals.list(query) }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/referrals/:id', tag: 'referrals', auth: ['ops'],
      summary: 'One referral, by its invitee’s member id',
      request: { params: inviteeParams },
      responses: { 200: { description: 'the referral', schema: referralResponse } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: { referral: await referrals.get(params.id) } }),
    }),
    decision('approved'),
    decision('rejected'),
  ];
}
