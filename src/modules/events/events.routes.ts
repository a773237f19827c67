import { defineRoute, type Route } from '../../platform/http/route.js';
import { dryRunBody, dryRunResponse, eventBody, eventResponse } from './events.schemas.js';
import type { EventsService } from './events.service.js';

export function eventsRoutes(events: EventsService): Route[] {
  return [
    defineRoute({
      method: 'post', path: '/v1/events', tag: 'events', auth: ['service'],
      idempotent: { keyFrom: (body) => String((body as { eventId?: unknown }).eventId) },
      summary: 'Report what a member did; processed at once, answering every effect (eventId is the idempotency key)',
      description: 'A replayed eventId answers the first result with Idempotent-Replayed: true; the same eventId with another body is 409 IDEMPOTENCY_KEY_REUSED.',
      request: { body: eventBody },
      responses: { 201: { description: 'processed', schema: eventResponse } },
      errors: [404, 409],
      handler: async ({ body, caller, idempotency }) => ({
        status: 201,
        body: await events.processEvent(caller, body, { scope: idempotency?.scope ?? body.eventId, retry: idempotency?.retry ?? false }),
      }),
    }),
    defineRoute({
      method: 'post', path: '/v1/admin/earning-rules/dry-run', tag: 'rules', auth: ['ops'], readOnly: true,
      summary: 'Evaluate an event against the rules without writing anything (caps are not consulted); a draft rule stands in for the saved one of its code',
      request: { body: dryRunBody },
      responses: { 200: { description: 'what each rule would do', schema: dryRunResponse } },
      errors: [404],
      handler: async ({ body }) => ({ status: 200, body: await events.dryRun(body.event, body.draft && { ...body.draft.rule, code: body.draft.code }) }),
    }),
  ];
}
