import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { notFound, validationFailed } from '../../platform/errors.js';
import { assertSelfOrStaff } from '../../platform/http/auth.js';
import { defineRoute, type Caller, type Route, type RouteInput } from '../../platform/http/route.js';
import type { AuditTrail } from '../audit/index.js';
import { parseEntryId, type EntryDoc } from './ledger.model.js';
import {
  adjustBody, captureBody, decodeCursor, earnBody, encodeCursor, entryParams, entryResponse, historyQuery, historyResponse,
  holdBody, holdParams, holdResponse, memberPointsParams, reverseBody, spendBody, toBalanceView, toEntryView, balanceView,
} from './ledger.schemas.js';
import { keyedOperation, type Operation, type ResolutionRequest } from './ledger.commit.js';
import type { LedgerService } from './ledger.service.js';

type Idem = RouteInput<unknown, unknown, unknown>['idempotency'];

const keyedOp = (command: string, caller: Caller, idem: Idem): Operation => keyedOperation('points', command, caller, idem);
/** For requests whose op id is fixed by what they resolve (a hold): the key and body tell one request from another. */
const resolutionRequest = (idem: Idem): ResolutionRequest => ({
  fingerprint: createHash('sha256').update(`${idem?.scope}\u0000${idem?.fingerprint}`).digest('base64url'),
  retry: idem?.retry ?? false,
});

/** An entry as the audit record of the ops command that wrote it shows it. */
export const entryAudit = (entry: EntryDoc) => ({ entryId: entry._id, kind: entry.kind, amount: entry.amount, available: entry.state.available });

export function ledgerRoutes(ledger: LedgerService, deps: { clock: Clock; maxAmount: number; audit: AuditTrail }): Route[] {
  const max = deps.maxAmount;
  /**
   * Runs a keyed command, audited when ops send it: the request before, the entry after; the op id (derived from the
   * idempotency key) is the mutation's identity, so a retry audits once and the sweep finds its entry.
   */
  const audited = (
    kind: string,
    op: Operation,
    target: { memberId: string; request: unknown; reason?: string; requestId: string },
    run: () => Promise<{ entry: EntryDoc; replayed: boolean }>,
  ) =>
    deps.audit.audited(
      {
        kind, key: op.opId, actor: op.actor as Caller, action: kind, target: { type: 'member', id: target.memberId }, before: target.request,
        reason: target.reason, requestId: target.requestId, hint: { memberId: target.memberId, opId: op.opId }, outcome: (r) => ({ after: entryAudit(r.entry) }),
      },
      run,
    );
  const answer = (entry: EntryDoc, replayed: boolean) => ({
    status: 201,
    body: { entry: toEntryView(entry), balance: toBalanceView(entry.memberId, entry.seq, entry.state, deps.clock.now()) },
    ...(replayed ? { headers: { 'Idempotent-Replayed': 'true' } } : {}),
  });
  const holdStatus = (entry: EntryDoc) => (entry.kind === 'hold' ? 'active' : entry.kind === 'capture' ? 'captured' : 'released');
  const holdAnswer = (holdEntry: EntryDoc, entry: EntryDoc, replayed: boolean) => {
    const base = answer(entry, replayed);
    const open = entry.state.holds.find((h) => h.id === holdEntry._id);
    return {
      ...base,
      body: {
        ...base.body,
        hold: {
          id: holdEntry._id,
          memberId: holdEntry.memberId,
          amount: holdEntry.points,
          status: holdStatus(entry),
          captured: entry.kind === 'capture' ? entry.points : 0,
          expiresAt: open ? open.expiresAt.toISOString() : null,
        },
      },
    };
  };
  const errors409 = [404, 409] as const;

  return [
    defineRoute({
      method: 'post', path: '/v1/members/:memberId/points/earn', tag: 'points', auth: ['service', 'ops'], idempotent: true,
      summary: 'Credit points (a lot expiring per the policy, or at expiresAt; pending until availableAt if given)',
      request: { params: memberPointsParams, body: earnBody(max) },
      responses: { 201: { description: 'the entry and the balance after it', schema: entryResponse } },
      errors: errors409,
      handler: async ({ params, body, caller, idempotency, requestId }) => {
        // A caller asking for pending points asks for a wait: one already over is a mistake, not an available earn.
        if (body.availableAt && Date.parse(body.availableAt) <= deps.clock.now().getTime()) {
          throw validationFailed([{ path: 'body.availableAt', message: 'must be in the future' }]);
        }
        const op = keyedOp('earn', caller, idempotency);
        const input = {
          amount: body.amount,
          code: body.code,
          ref: body.ref,
          ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
          ...(body.availableAt ? { availableAt: new Date(body.availableAt) } : {}),
        };
        const { entry, replayed } = await audited('points.earn', op, { memberId: params.memberId, request: body, requestId }, () => ledger.earnPoints(params.memberId, input, op));
        return answer(entry, replayed);
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/members/:memberId/points/spend', tag: 'points', auth: ['service'], idempotent: true,
      summary: 'Spend points, soonest-expiring first (409 INSUFFICIENT_POINTS)',
      request: { params: memberPointsParams, body: spendBody(max) },
      responses: { 201: { description: 'the entry and the balance after it', schema: entryResponse } },
      errors: errors409,
      handler: async ({ params, body, caller, idempotency }) => {
        const { entry, replayed } = await ledger.spendPoints(params.memberId, body, keyedOp('spend', caller, idempotency));
        return answer(entry, replayed);
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/members/:memberId/points/holds', tag: 'points', auth: ['service'], idempotent: true,
      summary: 'Reserve points until captured, released or timed out',
      request: { params: memberPointsParams, body: holdBody(max) },
      responses: { 201: { description: 'the hold', schema: holdResponse } },
      errors: errors409,
      handler: async ({ params, body, caller, idempotency }) => {
        const { entry, replayed } = await ledger.holdPoints(params.memberId, body, keyedOp('hold', caller, idempotency));
        return holdAnswer(entry, entry, replayed);
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/points/holds/:holdId/capture', tag: 'points', auth: ['service'], idempotent: true,
      summary: 'Capture all or part of a hold; the rest is released (409 HOLD_NOT_ACTIVE once resolved or timed out)',
      request: { params: holdParams, body: captureBody(max) },
      responses: { 201: { description: 'the capture', schema: holdResponse } },
      errors: errors409,
      handler: async ({ params, body, caller, idempotency }) => {
        const { entry, hold, replayed } = await ledger.captureHold(params.holdId, body, caller, resolutionRequest(idempotency));
        return holdAnswer(hold, entry, replayed);
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/points/holds/:holdId/release', tag: 'points', auth: ['service'], idempotent: true,
      summary: 'Release a hold',
      request: { params: holdParams },
      responses: { 201: { description: 'the release', schema: holdResponse } },
      errors: errors409,
      handler: async ({ params, caller, idempotency }) => {
        const { entry, hold, replayed } = await ledger.releaseHold(params.holdId, caller, resolutionRequest(idempotency));
        return holdAnswer(hold, entry, replayed);
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/points/entries/:entryId/reverse', tag: 'points', auth: ['service', 'ops'], idempotent: true,
      summary: 'Reverse all or part of an earn, spend or capture (never beyond what is left of it)',
      request: { params: entryParams, body: reverseBody(max) },
      responses: { 201: { description: 'the reversal', schema: entryResponse } },
      errors: errors409,
      handler: async ({ params, body, caller, idempotency, requestId }) => {
        const memberId = parseEntryId(params.entryId)?.memberId;
        if (!memberId) throw notFound('entry');
        const op = keyedOp('reverse', caller, idempotency);
        const request = { entryId: params.entryId, ...body };
        const { entry, replayed } = await audited('points.reverse', op, { memberId, request, requestId }, () => ledger.reverseEntry(params.entryId, body, op));
        return answer(entry, replayed);
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/members/:memberId/points/adjust', tag: 'points', auth: ['ops'], idempotent: true,
      summary: 'Ops correction (audited): a credit or a debit',
      request: { params: memberPointsParams, body: adjustBody(max) },
      responses: { 201: { description: 'the adjustment', schema: entryResponse } },
      errors: errors409,
      handler: async ({ params, body, caller, idempotency, requestId }) => {
        const op = keyedOp('adjust', caller, idempotency);
        const target = { memberId: params.memberId, request: body, reason: body.reason, requestId };
        const { entry, replayed } = await audited('points.adjust', op, target, () => ledger.adjustPoints(params.memberId, { delta: body.delta, code: body.code }, op));
        return answer(entry, replayed);
      },
    }),
    ...(['/v1/members/:memberId/points', '/v1/me/points'] as const).map((path) =>
      defineRoute({
        method: 'get', path, tag: 'points', auth: path.startsWith('/v1/me/') ? ['member'] : ['member', 'service', 'ops'],
        summary: 'Balance: available, held, pending (and when it becomes available), debt, upcoming expirations, lifetime totals',
        request: path.startsWith('/v1/me/') ? {} : { params: memberPointsParams },
        responses: { 200: { description: 'the balance', schema: balanceView } },
        errors: [404],
        handler: async ({ params, caller }) => {
          const memberId = (params as { memberId?: string } | undefined)?.memberId ?? caller.sub;
          assertSelfOrStaff(caller, memberId);
          const { head, now } = await ledger.getBalance(memberId);
          return { status: 200, body: toBalanceView(memberId, head.seq, head.state, now) };
        },
      }),
    ),
    ...(['/v1/members/:memberId/points/entries', '/v1/me/points/entries'] as const).map((path) =>
      defineRoute({
        method: 'get', path, tag: 'points', auth: path.startsWith('/v1/me/') ? ['member'] : ['member', 'service', 'ops'],
        summary: 'History, newest first; cursor-paginated, filterable by kind',
        request: path.startsWith('/v1/me/') ? { query: historyQuery } : { params: memberPointsParams, query: historyQuery },
        responses: { 200: { description: 'a page of entries', schema: historyResponse } },
        errors: [404],
        handler: async ({ params, query, caller }) => {
          const memberId = (params as { memberId?: string } | undefined)?.memberId ?? caller.sub;
          assertSelfOrStaff(caller, memberId);
          const page = await ledger.listEntries(memberId, {
            limit: query.limit,
            ...(query.cursor ? { beforeSeq: decodeCursor(query.cursor) } : {}),
            ...(query.kind ? { kinds: query.kind } : {}),
          });
          return {
            status: 200,
            body: { items: page.items.map(toEntryView), nextCursor: page.nextBeforeSeq ? encodeCursor(page.nextBeforeSeq) : null },
          };
        },
      }),
    ),
  ];
}
