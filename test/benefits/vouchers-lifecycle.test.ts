import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, ops, service, startTestApp, tokenFor, type ApiResponse, type TestApp } from '../helpers/app.js';
import { adminRedemptions, cancelVoucher, catalogueItem, cleanStock, defineBenefit, issued, memberWith, pointsOf, redeem, redemptionById, useVoucher } from '../helpers/benefits.js';
import { expectError } from '../helpers/expect.js';
import { expectLedgerClean, historyOf } from '../helpers/ledger.js';

/** A voucher's life after it is issued: used once, or cancelled once (points, stock and limit back), never both. */
const dbName = freshDbName('vouchers');
let api: TestApp;
let other: TestApp;

beforeAll(async () => {
  api = await startTestApp({ dbName });
  other = await startTestApp({ dbName, clock: api.clock });
  await defineBenefit(api, 'latte', { costPoints: 100, stock: 100, perMemberLimit: { count: 1, period: 'day' }, voucherValidDays: 30 });
});
afterAll(async () => {
  await other.close({ keepDatabase: true });
  await api.close();
});

let n = 0;
const member = (points = 1000) => memberWith(api, `v-${++n}`, points);
const asMember = (m: string) => tokenFor('member', m);
const refundsOf = async (m: string) => (await historyOf(api, m)).filter((e) => e.code === 'redemption_cancelled');

describe('using a voucher', () => {
  it('when the backend marks a voucher used, then it is used once: a repeat answers the same, and the points stay spent', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    const used = await useVoucher(api, r.id);
    expect(used.status, used.text).toBe(200);
    expect(used.body.redemption).toMatchObject({ id: r.id, status: 'used', voucherCode: r.voucherCode, pointsSpent: 100, cancelledAt: null });
    expect(used.body.redemption.usedAt).toBe(api.clock.now().toISOString());

    api.clock.advance({ minutes: 1 });
    const again = await useVoucher(other, r.id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(used.body);
    expect(await redemptionById(api, r.id)).toEqual(used.body.redemption);
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
  });

  it('when a member or ops call use, or the voucher is unknown, then they are refused', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    expect((await useVoucher(api, r.id, asMember(m))).status).toBe(403);
    expect((await useVoucher(api, r.id, ops)).status).toBe(403);
    expectError(await useVoucher(api, `${m}:r:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`), 404, 'NOT_FOUND');
    expectError(await useVoucher(api, 'not-a-redemption'), 404, 'NOT_FOUND');
    expect((await redemptionById(api, r.id)).status).toBe('issued');
  });
});

describe('cancelling a voucher', () => {
  it('when the member cancels, then the points, the unit and the limit come back; the same key replays and another key refunds nothing more', async () => {
    const m = await member();
    const stockBefore = (await cleanStock(api, 'latte')).left;
    const r = await issued(api, m, 'latte');
    expect((await catalogueItem(api, 'latte', m)).limitLeft).toBe(0);

    const cancelled = await cancelVoucher(api, r.id, asMember(m), 'cancel-1');
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.redemption).toMatchObject({ id: r.id, status: 'cancelled', pointsSpent: 0, usedAt: null });
    expect(cancelled.body.redemption.cancelledAt).toBe(api.clock.now().toISOString());
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect((await cleanStock(api, 'latte')).left).toBe(stockBefore);
    expect((await catalogueItem(api, 'latte', m)).limitLeft).toBe(1);

    const replay = await cancelVoucher(api, r.id, asMember(m), 'cancel-1');
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(cancelled.body);
    const byOps = await cancelVoucher(other, r.id, ops, 'cancel-2');
    expect(byOps.status, byOps.text).toBe(200);
    expect(byOps.body.redemption).toEqual(cancelled.body.redemption);

    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect(await refundsOf(m)).toHaveLength(1);
    expect((await cleanStock(api, 'latte')).left).toBe(stockBefore);
    expect((await catalogueItem(api, 'latte', m)).limitLeft).toBe(1);
    // The slot came back: the member may redeem again today.
    expect((await redeem(api, m, { benefitCode: 'latte' })).status).toBe(201);
    await expectLedgerClean([api, other]);
  });

  it('when a voucher was used, then cancelling it is 409 VOUCHER_USED for the member and ops, and nothing comes back', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    expect((await useVoucher(api, r.id)).status).toBe(200);
    const left = (await cleanStock(api, 'latte')).left;
    expectError(await cancelVoucher(api, r.id, asMember(m)), 409, 'VOUCHER_USED');
    expectError(await cancelVoucher(api, r.id, ops), 409, 'VOUCHER_USED');
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
    expect((await cleanStock(api, 'latte')).left).toBe(left);
    expect((await redemptionById(api, r.id)).status).toBe('used');
  });

  it('when a voucher was cancelled, then using it is 409 VOUCHER_CANCELLED', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    expect((await cancelVoucher(api, r.id, ops)).status).toBe(200);
    expectError(await useVoucher(api, r.id), 409, 'VOUCHER_CANCELLED');
    expect((await redemptionById(api, r.id)).status).toBe('cancelled');
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
  });

  it('when a redemption failed, then there is no voucher to cancel or use: 409, and nothing moves', async () => {
    const m = await member(50);
    const res = await redeem(api, m, { benefitCode: 'latte' });
    expectError(res, 409, 'INSUFFICIENT_POINTS');
    const [failed] = (await api.request('GET', '/v1/me/redemptions', { token: asMember(m) })).body.items;
    expect(failed.status).toBe('failed');
    expectError(await cancelVoucher(api, failed.id, asMember(m)), 409, 'REDEMPTION_NOT_ISSUED');
    expectError(await useVoucher(api, failed.id), 409, 'REDEMPTION_NOT_ISSUED');
    expect(await pointsOf(api, m)).toEqual({ available: 50, held: 0 });
  });

  it('when another member reads or cancels a redemption, then it is 404 and nothing changes; the backend may read it but not cancel it', async () => {
    const owner = await member();
    const stranger = await member();
    const r = await issued(api, owner, 'latte');
    const path = `/v1/redemptions/${encodeURIComponent(r.id)}`;
    expectError(await api.request('GET', path, { token: asMember(stranger) }), 404, 'NOT_FOUND');
    expectError(await cancelVoucher(api, r.id, asMember(stranger)), 404, 'NOT_FOUND');
    expect((await cancelVoucher(api, r.id, service)).status).toBe(403);
    expect((await api.request('GET', path, { token: service })).body.redemption).toEqual(r);
    expect((await api.request('GET', path, { token: asMember(owner) })).body.redemption).toEqual(r);
    expect(await pointsOf(api, owner)).toEqual({ available: 900, held: 0 });
  });
});

describe('use and cancel at once', () => {
  it('when use and cancel race on two instances, 20 times, then each voucher ends one way only and the balances agree with it', async () => {
    const stockBefore = (await cleanStock(api, 'latte')).left;
    const outcomes: string[] = [];
    for (let round = 0; round < 20; round++) {
      const m = await member();
      const r = await issued(api, m, 'latte');
      const [u, c] = round % 2 ? [useVoucher(api, r.id), cancelVoucher(other, r.id, asMember(m))] : [useVoucher(other, r.id), cancelVoucher(api, r.id, asMember(m))];
      const [used, cancelled] = (await Promise.all([u, c])) as [ApiResponse, ApiResponse];
      expect([used.status, cancelled.status].sort(), `${used.text} / ${cancelled.text}`).toEqual([200, 409]);
      const status = (await redemptionById(api, r.id)).status;
      outcomes.push(status);
      if (status === 'used') {
        expectError(cancelled, 409, 'VOUCHER_USED');
        expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
      } else {
        expect(status).toBe('cancelled');
        expectError(used, 409, 'VOUCHER_CANCELLED');
        expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
      }
    }
    const used = outcomes.filter((o) => o === 'used').length;
    expect((await cleanStock(api, 'latte')).left).toBe(stockBefore - used);
    await expectLedgerClean([api, other]);
  });
});

describe('a cancellation and the sweeper at once', () => {
  it('when the sweeper runs while cancellations are under way, then each refund, unit and slot comes back once and no sweep work fails', async () => {
    for (let round = 0; round < 8; round++) {
      const m = await member();
      const r = await issued(api, m, 'latte');
      const left = (await cleanStock(api, 'latte')).left;
      const [cancelled, swept] = await Promise.all([cancelVoucher(round % 2 ? api : other, r.id, asMember(m)), (round % 2 ? other : api).built.sweep()]);
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(swept.failed).toBe(0);
      expect(await api.built.sweep()).toMatchObject({ failed: 0 });
      expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
      expect(await refundsOf(m)).toHaveLength(1);
      expect((await cleanStock(api, 'latte')).left).toBe(left + 1);
      expect((await catalogueItem(api, 'latte', m)).limitLeft).toBe(1);
    }
  });
});

describe('a cancellation or use that dies half way', () => {
  /** An instance over the same database whose next pass through `point` dies. */
  async function crashingAt(point: string): Promise<TestApp> {
    const faults = new ArmedFaults();
    const crashing = await startTestApp({ dbName, faults, clock: api.clock });
    faults.arm(point);
    return crashing;
  }

  it('when a cancellation dies after it is recorded and the member retries, then the refund, the unit and the slot come back once', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    const left = (await cleanStock(api, 'latte')).left;
    const crashing = await crashingAt('redemption:after-cancelled');
    try {
      expectError(await cancelVoucher(crashing, r.id, asMember(m), 'dies'), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    expect((await redemptionById(api, r.id)).status).toBe('cancelled');
    const retried = await cancelVoucher(api, r.id, asMember(m), 'dies');
    expect(retried.status, retried.text).toBe(200);
    api.clock.advance({ seconds: 5 });
    await api.built.sweep();
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect(await refundsOf(m)).toHaveLength(1);
    expect((await cleanStock(api, 'latte')).left).toBe(left + 1);
    expect((await catalogueItem(api, 'latte', m)).limitLeft).toBe(1);
  });

  it('when a cancellation dies after it is recorded and nobody retries, then the sweeper refunds and restocks it once', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    const left = (await cleanStock(api, 'latte')).left;
    const crashing = await crashingAt('redemption:after-cancelled');
    try {
      expectError(await cancelVoucher(crashing, r.id, ops), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    api.clock.advance({ seconds: 5 });
    await other.built.sweep();
    await api.built.sweep();
    expect(await pointsOf(api, m)).toEqual({ available: 1000, held: 0 });
    expect(await refundsOf(m)).toHaveLength(1);
    expect((await cleanStock(api, 'latte')).left).toBe(left + 1);
    expect((await catalogueItem(api, 'latte', m)).limitLeft).toBe(1);
    await expectLedgerClean([api, other]);
  });

  it('when a use dies after it is recorded, then the voucher is used, a repeat answers it and a cancellation is refused', async () => {
    const m = await member();
    const r = await issued(api, m, 'latte');
    const crashing = await crashingAt('redemption:after-used');
    try {
      expectError(await useVoucher(crashing, r.id), 500, 'INTERNAL');
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    const again = await useVoucher(api, r.id);
    expect(again.status, again.text).toBe(200);
    expect(again.body.redemption.status).toBe('used');
    expectError(await cancelVoucher(api, r.id, asMember(m)), 409, 'VOUCHER_USED');
    expect(await pointsOf(api, m)).toEqual({ available: 900, held: 0 });
  });
});

describe('lists', () => {
  it('when a member pages through their redemptions, then each comes once, newest first, with their own only', async () => {
    await defineBenefit(api, 'list-item', { costPoints: 1, stock: null, perMemberLimit: undefined });
    const m = await member();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await issued(api, m, 'list-item')).id);
      if (i % 2) api.clock.advance({ seconds: 1 }); // some share an instant: the cursor must still split them
    }
    await issued(api, await member(), 'list-item'); // someone else's
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await api.request('GET', `/v1/me/redemptions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: asMember(m) });
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(seen.every((r) => r.memberId === m)).toBe(true);
    const times = seen.map((r) => r.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect((await api.request('GET', '/v1/me/redemptions?limit=0', { token: asMember(m) })).status).toBe(400);
    expect((await api.request('GET', '/v1/me/redemptions?cursor=bm9uc2Vuc2U', { token: asMember(m) })).status).toBe(400);
    expect((await api.request('GET', '/v1/me/redemptions?memberId=someone', { token: asMember(m) })).status).toBe(400);
  });

  it('when ops filter redemptions by benefit, status and member, then each filter and their combination answer exactly the matching ones', async () => {
    await defineBenefit(api, 'filter-a', { costPoints: 10, stock: null, perMemberLimit: undefined });
    await defineBenefit(api, 'filter-b', { costPoints: 10, stock: null, perMemberLimit: undefined });
    const m1 = await member();
    const m2 = await member(10);
    const a1 = await issued(api, m1, 'filter-a');
    const a2 = await issued(api, m1, 'filter-a');
    const b1 = await issued(api, m1, 'filter-b');
    const b2 = await issued(api, m2, 'filter-b');
    expect((await useVoucher(api, a1.id)).status).toBe(200);
    expect((await cancelVoucher(api, b1.id, ops)).status).toBe(200);
    expectError(await redeem(api, m2, { benefitCode: 'filter-a' }), 409, 'INSUFFICIENT_POINTS');

    const ids = async (q: string) => (await adminRedemptions(api, q, 2)).map((r) => r.id).sort();
    expect(await ids('benefit=filter-a')).toHaveLength(3);
    expect(await ids('benefit=filter-b')).toEqual([b1.id, b2.id].sort());
    expect(await ids(`memberId=${m1}`)).toEqual([a1.id, a2.id, b1.id].sort());
    expect(await ids('benefit=filter-a&status=used')).toEqual([a1.id]);
    expect(await ids('benefit=filter-a&status=issued')).toEqual([a2.id]);
    expect(await ids('benefit=filter-b&status=cancelled')).toEqual([b1.id]);
    expect((await adminRedemptions(api, `benefit=filter-a&status=failed&memberId=${m2}`)).map((r) => r.failure)).toEqual(['INSUFFICIENT_POINTS']);
    expect(await ids(`benefit=filter-b&memberId=${m2}&status=issued`)).toEqual([b2.id]);
    expect((await api.request('GET', '/v1/admin/redemptions?status=lost', { token: ops })).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/redemptions?benefit[$ne]=x', { token: ops })).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/redemptions', { token: asMember(m1) })).status).toBe(403);
  });
});
