import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryId, type EntryDoc } from '../src/modules/ledger/ledger.model.js';
import * as rules from '../src/modules/ledger/ledger.state.js';
import { ops, service, startTestApp, type TestApp } from './helpers/app.js';
import { balanceOf, earned, expectLedgerClean, historyOf, points, registerMember } from './helpers/ledger.js';

/**
 * Every amount the ledger commits is a safe integer within MAX_POINTS_AMOUNT, whoever asks (PRODUCT.md §4 "Bounds in
 * depth"): the points routes refuse such amounts in their schemas, and events, check-ins, tasks and grants reach the
 * ledger without passing through them.
 */
let api: TestApp;
const MAX = 1_000_000;

beforeAll(async () => {
  api = await startTestApp({ env: { MAX_POINTS_AMOUNT: String(MAX) } });
  const rule = { name: '1 point per 0.01', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 0.01, points: 1 } };
  expect((await api.request('PUT', '/v1/admin/earning-rules/cents', { token: ops, body: rule })).status).toBe(201);
});
afterAll(async () => {
  await api.close();
});

let seq = 0;
const newMember = async () => {
  const memberId = `bound-${++seq}`;
  await registerMember(api, memberId);
  return memberId;
};
const orderPaid = (memberId: string, amount: number | string) =>
  // A raw body, so that numbers JSON.stringify cannot write (1e400) reach the service as a client could send them.
  `{"eventId":"paid-${memberId}-${amount}","memberId":"${memberId}","type":"order.paid","occurredAt":"${api.clock.now().toISOString()}",` +
  `"properties":{"orderId":"SO-${memberId}","amount":${amount}}}`;
const send = (body: string) => api.request('POST', '/v1/events', { token: service, body });

describe('amounts beyond the maximum never reach a balance', () => {
  it('when an event would pay more than MAX_POINTS_AMOUNT through a rule, then 400 names the property and nothing is paid or claimed', async () => {
    const m = await newMember();
    const res = await send(orderPaid(m, 1e15));
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues).toEqual([{ path: 'body.properties.amount', message: expect.stringMatching(/cents would pay 100000000000000000 points, above the maximum of 1000000/) }]);
    expect((await balanceOf(api, m)).available).toBe(0);
    // The order was not claimed: the same order, with a sane amount, still earns.
    const ok = await send(orderPaid(m, 99.99));
    expect(ok.status, ok.text).toBe(201);
    expect((await balanceOf(api, m)).available).toBe(9999);
  });

  it('when an event property is a number beyond a safe integer or not finite, then 400 names it', async () => {
    const m = await newMember();
    for (const amount of ['1e300', '1e400', '-1e300']) {
      const res = await send(orderPaid(m, amount));
      expect(res.status, `${amount}: ${res.text}`).toBe(400);
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain('body.properties.amount');
    }
    expect((await balanceOf(api, m)).available).toBe(0);
  });

  it('when several rules together would pay more than the maximum for one event, then the event is refused', async () => {
    const m = await newMember();
    const half = { name: 'half the maximum', eventType: 'content.shared', points: { kind: 'fixed', amount: MAX / 2 + 1 } };
    for (const code of ['share-a', 'share-b']) expect((await api.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body: half })).status).toBe(201);
    const event = { eventId: `share-${m}`, memberId: m, type: 'content.shared', occurredAt: api.clock.now().toISOString(), properties: {} };
    const res = await api.request('POST', '/v1/events', { token: service, body: event });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.details.issues[0].message).toMatch(/together would pay 1000002 points, above the maximum of 1000000/);
    const dryRun = await api.request('POST', '/v1/admin/earning-rules/dry-run', { token: ops, body: { event } });
    expect(dryRun.status, dryRun.text).toBe(400);
    expect((await balanceOf(api, m)).available).toBe(0);
  });

  it('when any caller asks the ledger itself to move a fraction, an unsafe number or more than the maximum, then it refuses with 400 and writes nothing', async () => {
    const m = await newMember();
    await earned(api, m, 100);
    const { ledger, growth } = api.built.services;
    const op = (id: string) => ({ opId: `bounds:${m}:${id}`, actor: { role: 'service', sub: 'bounds-test' } });
    const bad = [0.5, MAX + 1, 1e302, Number.NaN, Number.POSITIVE_INFINITY, -3, 0];
    for (const [i, amount] of bad.entries()) {
      await expect(ledger.earnPoints(m, { amount, code: 'order' }, op(`earn-${i}`)), `earn ${amount}`).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      await expect(growth.earnPoints(m, { amount, code: 'order' }, op(`growth-${i}`)), `growth ${amount}`).rejects.toMatchObject({ status: 400 });
      await expect(ledger.spendPoints(m, { amount, code: 'order' }, op(`spend-${i}`)), `spend ${amount}`).rejects.toMatchObject({ status: 400 });
      await expect(ledger.holdPoints(m, { amount, code: 'order' }, op(`hold-${i}`)), `hold ${amount}`).rejects.toMatchObject({ status: 400 });
    }
    // An adjustment is signed: a debit is negative, but never a fraction, zero or beyond the maximum either way.
    for (const [i, delta] of [0.5, -0.5, MAX + 1, -(MAX + 1), -1e302, Number.NaN, 0].entries()) {
      await expect(ledger.adjustPoints(m, { delta, code: 'manual' }, op(`adjust-${i}`)), `adjust ${delta}`).rejects.toMatchObject({ status: 400 });
    }
    const [entry] = await historyOf(api, m);
    await expect(ledger.reverseEntry(entry.id, { amount: 0.5, code: 'order_refund' }, op('reverse')), 'reverse 0.5').rejects.toMatchObject({ status: 400 });
    await expect(ledger.reverseEntryUpTo(entry.id, { upTo: 1e302, code: 'order_refund' }, op('reverse-up-to')), 'reverse up to 1e302').rejects.toMatchObject({ status: 400 });
    const hold = await ledger.holdPoints(m, { amount: 10, code: 'order' }, op('hold-ok'));
    await expect(ledger.captureHold(hold.entry._id, { amount: 2.5 }, op('c').actor, { fingerprint: 'c', retry: false }), 'capture 2.5').rejects.toMatchObject({ status: 400 });
    expect(await historyOf(api, m)).toHaveLength(2);
    expect(await balanceOf(api, m)).toMatchObject({ available: 90, held: 10 });
    await expectLedgerClean([api]);
  });

  it('when an account already holds nearly 2^53 points, then an earn that would pass it is 409 BALANCE_LIMIT and the balance stays exact', async () => {
    const m = await newMember();
    // Written as an older version without bounds could have left it: one lot just below the largest safe integer.
    const d = rules.earn(rules.emptyState(), Number.MAX_SAFE_INTEGER - 50, null);
    const doc: EntryDoc = {
      _id: entryId(m, 1), memberId: m, seq: 1, opId: `planted:${m}`, fingerprint: null, kind: d.kind, amount: d.amount, points: d.points, code: 'planted',
      ref: null, lots: d.lots ?? [], holdId: null, reverses: null, expired: 0, expiresAt: null, actor: { role: 'system', sub: 'test' }, createdAt: api.clock.now(), state: d.state,
    };
    await api.db.collection<EntryDoc>('points_entries').insertOne(doc);
    const res = await points.earn(api, m, { amount: 100, code: 'order' });
    expect(res.status, res.text).toBe(409);
    expect(res.body.error.code).toBe('BALANCE_LIMIT');
    expect((await balanceOf(api, m)).available).toBe(Number.MAX_SAFE_INTEGER - 50);
    expect(await historyOf(api, m)).toHaveLength(1);
  });
});
