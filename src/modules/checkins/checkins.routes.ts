import { assertSelfOrStaff } from '../../platform/http/auth.js';
import { defineRoute, type Route } from '../../platform/http/route.js';
import { z } from 'zod';
import { keyedOperation } from '../ledger/index.js';
import { memberIdSchema } from '../members/index.js';
import { calendarQuery, calendarResponse, checkinConfigBody, checkinConfigResponse, checkinResponse, makeupBody } from './checkins.schemas.js';
import type { CheckinsService } from './checkins.service.js';

const memberParams = z.object({ memberId: memberIdSchema }).strict();

export function checkinsRoutes(checkins: CheckinsService): Route[] {
  return [
    defineRoute({
      method: 'post', path: '/v1/me/checkins', tag: 'checkins', auth: ['member'], idempotent: true, rateLimit: 'checkin',
      summary: "Check in for today in the member's time zone; pays the cycle day, milestones and growth",
      description: 'Once per local day (409 ALREADY_CHECKED_IN); a retried tap with the same Idempotency-Key replays the answer.',
      responses: { 201: { description: 'checked in', schema: checkinResponse } },
      errors: [404, 409],
      handler: async ({ caller, idempotency }) => ({ status: 201, body: await checkins.checkIn(caller.sub, keyedOperation('checkin', 'checkin', caller, idempotency)) }),
    }),
    defineRoute({
      method: 'post', path: '/v1/me/checkins/makeup', tag: 'checkins', auth: ['member'], idempotent: true, rateLimit: 'checkin',
      summary: 'Make up a missed past day of the current month, at the configured points cost',
      description: '409 MAKEUP_NOT_ALLOWED (today or later, another month, before registration), ALREADY_CHECKED_IN, LIMIT_REACHED, INSUFFICIENT_POINTS.',
      request: { body: makeupBody },
      responses: { 201: { description: 'made up', schema: checkinResponse } },
      errors: [404, 409],
      handler: async ({ body, caller, idempotency }) => ({
        status: 201,
        body: await checkins.makeUpCheckin(caller.sub, body.day, keyedOperation('checkin', 'makeup', caller, idempotency)),
      }),
    }),
    defineRoute({
      method: 'get', path: '/v1/me/checkins', tag: 'checkins', auth: ['member'],
      summary: 'The check-in calendar of a month: days checked (and made up), streaks, what the next days pay',
      request: { query: calendarQuery },
      responses: { 200: { description: 'the calendar', schema: calendarResponse } },
      handler: async ({ query, caller }) => ({ status: 200, body: await checkins.getCalendar(caller.sub, query.month) }),
    }),
    defineRoute({
      method: 'get', path: '/v1/members/:memberId/checkins', tag: 'checkins', auth: ['member', 'service', 'ops'],
      summary: "A member's check-in calendar (members may read only themselves)",
      request: { params: memberParams, query: calendarQuery },
      responses: { 200: { description: 'the calendar', schema: calendarResponse } },
      errors: [404],
      handler: async ({ params, query, caller }) => {
        assertSelfOrStaff(caller, params.memberId);
        return { status: 200, body: await checkins.getCalendar(params.memberId, query.month) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/checkin-config', tag: 'checkins', auth: ['ops'],
      summary: 'The check-in program (the default one until ops set theirs)',
      responses: { 200: { description: 'the configuration', schema: checkinConfigResponse } },
      handler: async () => ({ status: 200, body: await checkins.getConfig() }),
    }),
    defineRoute({
      method: 'put', path: '/v1/admin/checkin-config', tag: 'checkins', auth: ['ops'],
      summary: 'Replace the check-in program: cycle, milestones, growth per check-in, make-up cost and monthly cap (audited)',
      request: { body: checkinConfigBody },
      responses: { 200: { description: 'replaced', schema: checkinConfigResponse } },
      handler: async ({ body, caller, requestId }) => ({ status: 200, body: await checkins.putConfig(caller, body, requestId) }),
    }),
  ];
}
