import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/modules/ledger/index.js';
import { ArmedFaults } from '../src/platform/faults.js';
import { ops, service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
});
afterAll(async () => {
  await api.close();
});

let seq = 0;
const newMember = async (extra: Record<string, unknown> = {}) => {
  const memberId = `ev-${++seq}`;
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId, ...extra } });
  expect(res.status).toBe(201);
  return memberId;
};
const putRule = (code: string, body: Record<string, unknown>) => api.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body });
const send = (event: Record<string, unknown>) => api.request('POST', '/v1/events', { token: service, body: event });
const balance = async (memberId: string) => (await api.request('GET', `/v1/members/${memberId}/points`, { token: ops })).body;
const orderPaid = (memberId: string, orderId: string, amount: number, extra: Record<string, unknown> = {}) => ({
  eventId: `paid-${orderId}`,
  memberId,
  type: 'order.paid',
  occurredAt: api.clock.now().toISOString(),
  properties: { orderId, amount, ...extra },
});

describe('earning rules and events', () => {
  beforeAll(async () => {
    expect((await putRule('order-base', { name: '1 point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, growth: { kind: 'per-unit', property: 'amount', unit: 10, points: 1 } })).status).toBe(201);
    expect((await putRule('order-big', { name: '50 bonus over 500', eventType: 'order.paid', points: { kind: 'fixed', amount: 50 }, conditions: { minAmount: 500 } })).status).toBe(201);
  });

  it('when an order is paid, then every firing rule pays points rounded down and growth, and the answer lists them', async () => {
    const m = await newMember();
    const res = await send(orderPaid(m, 'SO-1', 99.9));
    expect(res.status).toBe(201);
    expect(res.body.effects.points).toEqual([{ rule: 'order-base', points: 99, entryId: expect.any(String) }]);
    expect(res.body.effects.growth).toEqual([{ rule: 'order-base', growth: 9, entryId: expect.any(String) }]);
    expect(res.body.effects.notFired).toEqual([{ rule: 'order-big', reason: 'amount is below the minimum 500' }]);
    expect((await balance(m)).available).toBe(99);
    const me = await api.request('GET', '/v1/me', { token: tokenFor('member', m) });
    expect(me.body.summary).toMatchObject({ points: { available: 99 }, growth: { value: 9 } });
  });

  it('when the same event is sent again, then the first answer is replayed and nothing is paid twice', async () => {
    const m = await newMember();
    const first = await send(orderPaid(m, 'SO-2', 600));
    const again = await send(orderPaid(m, 'SO-2', 600));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await balance(m)).available).toBe(650);
    const changed = await send({ ...orderPaid(m, 'SO-2', 700) });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('when an order is reported twice under different event ids, then only the first pays (409 ORDER_ALREADY_PROCESSED)', async () => {
    const m = await newMember();
    expect((await send(orderPaid(m, 'SO-3', 100))).status).toBe(201);
    const dup = await send({ ...orderPaid(m, 'SO-3', 100), eventId: 'another-id-for-SO-3' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('ORDER_ALREADY_PROCESSED');
    expect((await balance(m)).available).toBe(100);
  });

  it('when an order is refunded in parts, then what it earned is reversed in proportion and never beyond what it earned', async () => {
    const m = await newMember();
    const paid = await send(orderPaid(m, 'SO-4', 1000)); // 1000 + 50 points, 100 growth
    expect((await balance(m)).available).toBe(1050);
    const refund = (n: number, amount: number) =>
      send({ eventId: `refund-SO-4-${n}`, memberId: m, type: 'order.refunded', occurredAt: api.clock.now().toISOString(), properties: { orderId: 'SO-4', amount } });
    const r1 = await refund(1, 250);
    expect(r1.status).toBe(201);
    // 25 % of the 1050 points the order earned (rounded down) taken back, and 25 % of the growth.
    expect(r1.body.effects.reversed.map((r: { ledger: string; amount: number }) => [r.ledger, r.amount]).sort()).toEqual([['growth', 25], ['points', 262]]);
    expect((await balance(m)).available).toBe(1050 - 262);
    const replay = await refund(1, 250);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await balance(m)).available).toBe(1050 - 262);
    // Two more refunds at once, together more than what is left of the order: everything, and no more, comes back.
    const [r2, r3] = await Promise.all([refund(2, 500), refund(3, 400)]);
    expect([r2.status, r3.status]).toEqual([201, 201]);
    expect((await balance(m)).available).toBe(0);
    // Both rules are paid by one entry of the event; the answer keeps the split.
    expect(paid.body.effects.points.map((p: { rule: string; points: number }) => [p.rule, p.points])).toEqual([['order-base', 1000], ['order-big', 50]]);
    expect(new Set(paid.body.effects.points.map((p: { entryId: string }) => p.entryId)).size).toBe(1);
    await api.built.flush();
    const report = await checkLedger(api.db);
    expect(report.violations).toEqual([]);
    expect((await checkLedger(api.db, 'growth')).violations).toEqual([]);
  });

  it('when the paying event died before recording what the order earned and was never retried, then a refund still finds it', async () => {
    const m = await newMember();
    const faults = new ArmedFaults();
    const crashed = await startTestApp({ dbName: api.dbName, clock: api.clock, faults, env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
    try {
      faults.arm('event:before-order-links');
      const died = await crashed.request('POST', '/v1/events', { token: service, body: orderPaid(m, 'SO-CRASH', 600) });
      expect(died.status).toBe(500);
    } finally {
      await crashed.close({ keepDatabase: true });
    }
    expect((await balance(m)).available).toBe(650);
    const refund = await send({ eventId: 'refund-SO-CRASH', memberId: m, type: 'order.refunded', occurredAt: api.clock.now().toISOString(), properties: { orderId: 'SO-CRASH', amount: 600 } });
    expect(refund.status, refund.text).toBe(201);
    expect(refund.body.effects.reversed.map((r: { ledger: string; amount: number }) => [r.ledger, r.amount]).sort()).toEqual([['growth', 60], ['points', 650]]);
    expect((await balance(m)).available).toBe(0);
  });

  it('when a rule has a daily cap, then concurrent events pay at most the cap that day, and again the next local day', async () => {
    expect((await putRule('share', { name: 'share 5 points, twice a day', eventType: 'content.shared', points: { kind: 'fixed', amount: 5 }, caps: { perDay: 2 } })).status).toBe(201);
    const m = await newMember();
    const shared = (id: string) => send({ eventId: id, memberId: m, type: 'content.shared', occurredAt: api.clock.now().toISOString(), properties: {} });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => shared(`share-${m}-${i}`)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(results.filter((r) => r.body.effects.points.length === 1)).toHaveLength(2);
    expect(results.filter((r) => r.body.effects.notFired[0]?.reason === 'the daily cap of this rule is reached')).toHaveLength(6);
    expect((await balance(m)).available).toBe(10);
    api.clock.advance({ days: 1 });
    expect((await shared(`share-${m}-next-day`)).body.effects.points).toHaveLength(1);
    expect((await balance(m)).available).toBe(15);
  });

  it('when a member-day rule pays on the 8th in the program time zone, then an event at 16:30 UTC on the 7th (the 8th in Shanghai) fires', async () => {
    expect((await putRule('member-day', { name: 'member day double', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, conditions: { monthDays: [8] } })).status).toBe(201);
    const m = await newMember();
    api.clock.set('2026-03-07T16:30:00Z');
    const on8th = await send(orderPaid(m, 'SO-md-1', 100));
    expect(on8th.body.effects.points.map((p: { rule: string }) => p.rule)).toContain('member-day');
    api.clock.set('2026-03-07T15:30:00Z');
    const on7th = await send(orderPaid(m, 'SO-md-2', 100));
    expect(on7th.body.effects.notFired).toContainEqual({ rule: 'member-day', reason: 'not on one of the rule days of the month' });
    await putRule('member-day', { name: 'member day double', eventType: 'order.paid', points: { kind: 'fixed', amount: 1 }, active: false });
  });

  it('when a birthday rule fires, then it uses the member own time zone for the month', async () => {
    expect((await putRule('birthday', { name: 'birthday bonus', eventType: 'order.paid', points: { kind: 'fixed', amount: 100 }, conditions: { birthdayMonth: true } })).status).toBe(201);
    const kiritimati = await newMember({ birthday: '04-02', timezone: 'Pacific/Kiritimati' }); // UTC+14
    const honolulu = await newMember({ birthday: '04-02', timezone: 'Pacific/Honolulu' }); // UTC−10
    api.clock.set('2026-03-31T12:00:00Z'); // 1 April 02:00 in Kiritimati, still 31 March in Honolulu
    const k = await send(orderPaid(kiritimati, 'SO-bd-1', 10));
    const h = await send(orderPaid(honolulu, 'SO-bd-2', 10));
    expect(k.body.effects.points.map((p: { rule: string }) => p.rule)).toContain('birthday');
    expect(h.body.effects.notFired).toContainEqual({ rule: 'birthday', reason: 'not the member birthday month' });
    await putRule('birthday', { name: 'birthday bonus', eventType: 'order.paid', points: { kind: 'fixed', amount: 100 }, active: false });
  });

  it('when ops dry-run an event, then they see what each rule would pay and nothing is written', async () => {
    const m = await newMember();
    const res = await api.request('POST', '/v1/admin/earning-rules/dry-run', { token: ops, body: { event: orderPaid(m, 'SO-dry', 800) } });
    expect(res.status).toBe(200);
    expect(res.body.totalPoints).toBe(850);
    expect(res.body.evaluations).toContainEqual(expect.objectContaining({ rule: 'order-big', fired: true, points: 50 }));
    expect((await balance(m)).available).toBe(0);
    expect((await send(orderPaid(m, 'SO-dry', 800))).body.effects.points).toHaveLength(2); // the order was not claimed by the dry run
  });

  it('when a rule is contradictory or malformed, then it is refused with the failing paths and the audit log records good ones', async () => {
    const bad = await putRule('bad-window', {
      name: 'x', eventType: 'order.paid', points: { kind: 'fixed', amount: 1 },
      conditions: { from: '2026-05-01T00:00:00Z', to: '2026-04-01T00:00:00Z' }, caps: { perDay: 10, perMonth: 5 },
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['body.conditions.to', 'body.caps.perDay']));
    expect((await putRule('nothing', { name: 'x', eventType: 'order.paid' })).status).toBe(400);
    expect((await putRule('Bad Code', { name: 'x', eventType: 'order.paid', points: { kind: 'fixed', amount: 1 } })).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/earning-rules/bad-window', { token: ops })).status).toBe(404);
    const audit = await api.request('GET', '/v1/admin/audit?action=earning-rule.create&limit=100', { token: ops });
    expect(audit.body.items.map((i: { target: { id: string } }) => i.target.id)).toContain('order-base');
  });

  it('when events are hostile or wrong, then they get 4xx and nothing is paid', async () => {
    const m = await newMember();
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ ...orderPaid(m, 'SO-h1', 10), properties: { orderId: { $gt: '' }, amount: 10 } }, 400],
      [{ ...orderPaid(m, 'SO-h2', 10), properties: { orderId: 'SO-h2', amount: '10' } }, 400],
      [{ ...orderPaid(m, 'SO-h3', 10), properties: { orderId: 'SO-h3', amount: 10, nested: { a: 1 } } }, 400],
      [{ ...orderPaid(m, 'SO-h4', 10), occurredAt: '2099-01-01T00:00:00Z' }, 400],
      [{ ...orderPaid(m, 'SO-h5', 10), type: 'Order Paid' }, 400],
      [{ ...orderPaid('nobody-here', 'SO-h6', 10) }, 404],
      [{ ...orderPaid(m, 'SO-h7', 10), extra: true }, 400],
    ];
    for (const [event, status] of cases) expect((await send(event)).status).toBe(status);
    expect((await api.request('POST', '/v1/events', { token: tokenFor('member', m), body: orderPaid(m, 'SO-h8', 10) })).status).toBe(403);
    expect((await balance(m)).available).toBe(0);
  });

  it('when the member is frozen, then its events are refused with 409 MEMBER_FROZEN', async () => {
    const m = await newMember();
    await api.request('PATCH', `/v1/members/${m}`, { token: ops, body: { status: 'frozen' } });
    const res = await send(orderPaid(m, 'SO-f', 100));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('MEMBER_FROZEN');
  });
});

describe('registration', () => {
  it('when a member registers, then member.registered is processed like any event and its rules pay once', async () => {
    expect((await putRule('welcome', { name: 'welcome 200', eventType: 'member.registered', points: { kind: 'fixed', amount: 200 }, growth: { kind: 'fixed', amount: 10 } })).status).toBe(201);
    const m = await newMember();
    expect((await balance(m)).available).toBe(200);
    const again = await api.request('POST', '/v1/members', { token: service, body: { memberId: m } });
    expect(again.status).toBe(409);
    expect((await balance(m)).available).toBe(200);
    await putRule('welcome', { name: 'welcome 200', eventType: 'member.registered', points: { kind: 'fixed', amount: 200 }, active: false });
  });
});
