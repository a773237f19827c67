import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { expectError, issuePaths } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, newKey, ops, points, registerMember, service } from '../helpers/ledger.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});

const get = (path: string, token = service) => api.request('GET', path, { token });

describe('reversals', () => {
  it('when an earn is reversed in parts, then each part lands until nothing is left, and more is refused', async () => {
    await registerMember(api, 'refunds');
    const earn = await earned(api, 'refunds', 100);
    const entryId = earn.body.entry.id as string;

    const first = await points.reverse(api, entryId, { amount: 30, code: 'order_refund' });
    expect(first.status, first.text).toBe(201);
    expect(first.body.entry).toMatchObject({ kind: 'reverse', amount: -30, points: 30, reverses: entryId, code: 'order_refund' });
    expect(first.body.balance.available).toBe(70);
    expect((await points.reverse(api, entryId, { amount: 30, code: 'order_refund' })).body.balance.available).toBe(40);

    const tooMuch = await points.reverse(api, entryId, { amount: 41, code: 'order_refund' });
    expectError(tooMuch, 409, 'REVERSAL_EXCEEDS_ENTRY');
    expect(tooMuch.body.error.details).toEqual({ left: 40, requested: 41 });

    const rest = await points.reverse(api, entryId, { code: 'order_refund' });
    expect(rest.status).toBe(201);
    expect(rest.body.entry.points).toBe(40);
    expectError(await points.reverse(api, entryId, { code: 'order_refund' }), 409, 'ALREADY_REVERSED');
    expectError(await points.reverse(api, entryId, { amount: 1, code: 'order_refund' }), 409, 'ALREADY_REVERSED');

    const balance = await balanceOf(api, 'refunds');
    expect(balance).toMatchObject({ available: 0, debt: 0, seq: 4 });
    expect(balance.lifetime).toMatchObject({ earned: 100, reversed: 100 });
    await expectLedgerClean([api]);
  });

  it('when a hold, a reversal or an unknown entry is reversed, then 409 NOT_REVERSIBLE or 404', async () => {
    await registerMember(api, 'odd-reversals');
    await earned(api, 'odd-reversals', 100);
    const hold = await points.hold(api, 'odd-reversals', { amount: 10, code: 'redemption' });
    expectError(await points.reverse(api, hold.body.hold.id, { code: 'correction' }), 409, 'NOT_REVERSIBLE');
    const spend = await points.spend(api, 'odd-reversals', { amount: 20, code: 'redemption' });
    const refund = await points.reverse(api, spend.body.entry.id, { code: 'redemption_refund' });
    expect(refund.status).toBe(201);
    expect(refund.body.balance).toMatchObject({ available: 90, held: 10 });
    expectError(await points.reverse(api, refund.body.entry.id, { code: 'correction' }), 409, 'NOT_REVERSIBLE');

    expectError(await points.reverse(api, 'odd-reversals:000000000099', { code: 'correction' }), 404, 'NOT_FOUND');
    expectError(await points.reverse(api, 'nobody:000000000001', { code: 'correction' }), 404, 'NOT_FOUND');
    expectError(await points.capture(api, 'odd-reversals:000000000001', {}), 404, 'NOT_FOUND');
    expect(await balanceOf(api, 'odd-reversals')).toMatchObject({ available: 90, held: 10, seq: 4 });
  });

  it('when a partly spent earn is reversed, then the spent part is a debt that blocks spending until earns pay it back', async () => {
    await registerMember(api, 'clawback');
    const earn = await earned(api, 'clawback', 100);
    await points.spend(api, 'clawback', { amount: 70, code: 'redemption' });
    const reversed = await points.reverse(api, earn.body.entry.id, { code: 'order_refund' });
    expect(reversed.status).toBe(201);
    expect(reversed.body.balance).toMatchObject({ available: -70, debt: 70, held: 0 });

    const refused = await points.spend(api, 'clawback', { amount: 1, code: 'redemption' });
    expectError(refused, 409, 'INSUFFICIENT_POINTS');
    expect(refused.body.error.details).toMatchObject({ debt: 70, requested: 1 });
    expectError(await points.hold(api, 'clawback', { amount: 1, code: 'redemption' }), 409, 'INSUFFICIENT_POINTS');
    expectError(await points.adjust(api, 'clawback', { delta: -1, reason: 'debit while in debt' }), 409, 'INSUFFICIENT_POINTS');

    expect((await earned(api, 'clawback', 50)).body.balance).toMatchObject({ available: -20, debt: 20 });
    expectError(await points.spend(api, 'clawback', { amount: 1, code: 'redemption' }), 409, 'INSUFFICIENT_POINTS');
    expect((await earned(api, 'clawback', 30)).body.balance).toMatchObject({ available: 10, debt: 0 });
    const spend = await points.spend(api, 'clawback', { amount: 10, code: 'redemption' });
    expect(spend.status).toBe(201);
    expect(await balanceOf(api, 'clawback')).toMatchObject({ available: 0, debt: 0, held: 0, seq: 6 });
    await expectLedgerClean([api]);
  });
});

describe('who may move and read points', () => {
  it('when a member is frozen, then earning, spending and holding are 409 MEMBER_FROZEN while its balance stays readable', async () => {
    await registerMember(api, 'icy');
    await earned(api, 'icy', 100);
    const frozen = await api.request('PATCH', '/v1/members/icy', { token: ops, body: { status: 'frozen' } });
    expect(frozen.status).toBe(200);

    expectError(await points.earn(api, 'icy', { amount: 10, code: 'order' }), 409, 'MEMBER_FROZEN');
    expectError(await points.spend(api, 'icy', { amount: 10, code: 'redemption' }), 409, 'MEMBER_FROZEN');
    expectError(await points.hold(api, 'icy', { amount: 10, code: 'redemption' }), 409, 'MEMBER_FROZEN');
    expect(await balanceOf(api, 'icy')).toMatchObject({ available: 100, seq: 1 });
    expect(await balanceOf(api, 'icy', tokenFor('member', 'icy'))).toMatchObject({ available: 100 });
    expect(await historyOf(api, 'icy')).toHaveLength(1);

    await api.request('PATCH', '/v1/members/icy', { token: ops, body: { status: 'active' } });
    expect((await points.spend(api, 'icy', { amount: 10, code: 'redemption' })).status).toBe(201);
  });

  it('when the member does not exist, then every points route answers 404', async () => {
    expectError(await points.earn(api, 'ghost', { amount: 10, code: 'order' }), 404, 'NOT_FOUND');
    expectError(await points.spend(api, 'ghost', { amount: 10, code: 'redemption' }), 404, 'NOT_FOUND');
    expectError(await points.hold(api, 'ghost', { amount: 10, code: 'redemption' }), 404, 'NOT_FOUND');
    expectError(await points.adjust(api, 'ghost', { delta: 10, reason: 'welcome gift' }), 404, 'NOT_FOUND');
    expectError(await get('/v1/members/ghost/points'), 404, 'NOT_FOUND');
    expectError(await get('/v1/members/ghost/points/entries'), 404, 'NOT_FOUND');
    expectError(await get('/v1/me/points', tokenFor('member', 'ghost')), 404, 'NOT_FOUND');
  });

  it('when a member token is used, then it reads its own balance and history, another member looks absent, and it cannot move points', async () => {
    await registerMember(api, 'mia');
    await registerMember(api, 'max');
    await earned(api, 'mia', 40);
    await earned(api, 'max', 60);
    const mia = tokenFor('member', 'mia');

    expect((await get('/v1/members/mia/points', mia)).body).toMatchObject({ memberId: 'mia', available: 40 });
    expect((await get('/v1/me/points', mia)).body).toMatchObject({ memberId: 'mia', available: 40 });
    expect((await get('/v1/me/points/entries', mia)).body.items).toHaveLength(1);
    expect((await get('/v1/members/mia/points/entries', mia)).body.items[0]).toMatchObject({ memberId: 'mia', amount: 40 });

    for (const path of ['/v1/members/max/points', '/v1/members/max/points/entries', '/v1/members/nobody/points']) {
      const res = await get(path, mia);
      expectError(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body.error)).not.toContain('60'); // the requestId (a UUID) may contain any digits
    }
    expectError(await points.earn(api, 'mia', { amount: 10, code: 'order' }, { token: mia }), 403, 'FORBIDDEN');
    expectError(await points.spend(api, 'mia', { amount: 10, code: 'redemption' }, { token: mia }), 403, 'FORBIDDEN');
    expectError(await points.adjust(api, 'mia', { delta: 10, reason: 'self-service' }, { token: mia }), 403, 'FORBIDDEN');
    expectError(await points.spend(api, 'mia', { amount: 10, code: 'redemption' }, { token: ops }), 403, 'FORBIDDEN');
    expect(await balanceOf(api, 'mia')).toMatchObject({ available: 40, seq: 1 });
  });

  it('when ops adjust a balance, then credits and debits land, each is audited with its reason, and a replay audits nothing new', async () => {
    await registerMember(api, 'adjusted');
    await earned(api, 'adjusted', 10);
    const key = newKey();
    const credit = await points.adjust(api, 'adjusted', { delta: 50, reason: 'goodwill after the outage' }, { key });
    expect(credit.status, credit.text).toBe(201);
    expect(credit.body.entry).toMatchObject({ kind: 'adjust', amount: 50, code: 'adjustment' });
    expect((await points.adjust(api, 'adjusted', { delta: 50, reason: 'goodwill after the outage' }, { key })).headers.get('idempotent-replayed')).toBe('true');

    const debit = await points.adjust(api, 'adjusted', { delta: -20, reason: 'duplicate order credit', code: 'correction' });
    expect(debit.status).toBe(201);
    expect(debit.body.entry).toMatchObject({ kind: 'adjust', amount: -20, code: 'correction' });
    expectError(await points.adjust(api, 'adjusted', { delta: -41, reason: 'too much' }), 409, 'INSUFFICIENT_POINTS');
    expectError(await points.adjust(api, 'adjusted', { delta: 5, reason: 'not ops' }, { token: service }), 403, 'FORBIDDEN');
    const balance = await balanceOf(api, 'adjusted');
    expect(balance).toMatchObject({ available: 40, seq: 3 });
    expect(balance.lifetime.adjusted).toBe(30);

    const audit = await api.request('GET', '/v1/admin/audit?action=points.adjust&targetId=adjusted', { token: ops });
    expect(audit.status).toBe(200);
    expect(audit.body.items).toHaveLength(2);
    expect(audit.body.items.map((i: any) => i.reason).sort()).toEqual(['duplicate order credit', 'goodwill after the outage']);
    for (const item of audit.body.items) {
      expect(item).toMatchObject({ action: 'points.adjust', actor: { role: 'ops', sub: 'ops-1' }, target: { type: 'member', id: 'adjusted' } });
    }
    expect(audit.body.items.find((i: any) => i.reason === 'duplicate order credit').after).toMatchObject({ available: 40, entryId: debit.body.entry.id });
    expectError(await api.request('GET', '/v1/admin/audit', { token: service }), 403, 'FORBIDDEN');
    await expectLedgerClean([api]);
  });
});

describe('hostile input', () => {
  it('when amounts, codes or keys are wrong in any way, then 400 names the path and nothing is written, not even the key', async () => {
    await registerMember(api, 'target');
    await earned(api, 'target', 100);
    const max = api.config.maxPointsAmount;
    const bodies: Array<[unknown, string]> = [
      [{ amount: 0, code: 'order' }, 'body.amount'],
      [{ amount: -5, code: 'order' }, 'body.amount'],
      [{ amount: 1.5, code: 'order' }, 'body.amount'],
      [{ amount: '10', code: 'order' }, 'body.amount'],
      [{ amount: { $gt: 0 }, code: 'order' }, 'body.amount'],
      [{ amount: null, code: 'order' }, 'body.amount'],
      ['{"amount":1e400,"code":"order"}', 'body.amount'],
      [{ amount: max + 1, code: 'order' }, 'body.amount'],
      [{ amount: 10, code: 'bonus' }, 'body.code'],
      [{ amount: 10, code: { $ne: null } }, 'body.code'],
      [{ amount: 10 }, 'body.code'],
      [{ amount: 10, code: 'order', memberId: 'other' }, 'body'],
      [{ amount: 10, code: 'order', ref: { type: 'order', id: 'SO-1', $where: '1' } }, 'body.ref'],
      [{ amount: 10, code: 'order', ref: { type: 'Order!', id: 'SO-1' } }, 'body.ref.type'],
    ];
    const key = newKey();
    for (const [body, path] of bodies) {
      for (const send of [points.earn, points.spend]) {
        const res = await send(api, 'target', body, { key });
        expectError(res, 400, 'VALIDATION_FAILED');
        expect(issuePaths(res), JSON.stringify(body)).toContain(path);
      }
    }
    const holdBodies: Array<[unknown, string]> = [
      [{ amount: 10, code: 'redemption', ttlSeconds: 0 }, 'body.ttlSeconds'],
      [{ amount: 10, code: 'redemption', ttlSeconds: 7 * 86_400 + 1 }, 'body.ttlSeconds'],
      [{ amount: 10, code: 'redemption', ttlSeconds: '60' }, 'body.ttlSeconds'],
    ];
    for (const [body, path] of holdBodies) {
      const res = await points.hold(api, 'target', body, { key });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res)).toEqual([path]);
    }
    const adjustBodies: Array<[unknown, string]> = [
      [{ delta: 0, reason: 'nothing at all' }, 'body.delta'],
      [{ delta: 1.5, reason: 'half a point' }, 'body.delta'],
      [{ delta: -(max + 1), reason: 'far too much' }, 'body.delta'],
      [{ delta: 5, reason: ' ' }, 'body.reason'],
      [{ delta: 5 }, 'body.reason'],
    ];
    for (const [body, path] of adjustBodies) {
      const res = await points.adjust(api, 'target', body, { key });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res)).toEqual([path]);
    }
    const earnId = 'target:000000000001';
    for (const [res, path] of [
      [await points.reverse(api, earnId, { amount: 0, code: 'order_refund' }, { key }), 'body.amount'],
      [await points.reverse(api, earnId, { amount: 10 }, { key }), 'body.code'],
      [await points.reverse(api, 'target:1', { code: 'order_refund' }, { key }), 'params.entryId'],
      [await points.capture(api, earnId, { amount: -1 }, { key }), 'body.amount'],
      [await points.capture(api, earnId, { amount: 1, extra: true }, { key }), 'body'],
      [await api.request('POST', '/v1/members/bad%20id/points/earn', { token: service, body: { amount: 1, code: 'order' }, headers: { 'Idempotency-Key': key } }), 'params.memberId'],
    ] as const) {
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(issuePaths(res)).toContain(path);
    }
    for (const query of ['limit=0', 'limit=101', 'limit=ten', 'cursor=%24gt', 'kind=bonus', 'kind=', 'extra=1']) {
      expectError(await get(`/v1/members/target/points/entries?${query}`), 400, 'VALIDATION_FAILED');
    }

    expect(await balanceOf(api, 'target')).toMatchObject({ available: 100, held: 0, seq: 1 });
    // None of the refused requests claimed the key: a valid request under it is the first of its kind.
    const valid = await points.spend(api, 'target', { amount: 10, code: 'redemption' }, { key });
    expect(valid.status, valid.text).toBe(201);
    expect(valid.headers.get('idempotent-replayed')).toBeNull();
    await expectLedgerClean([api]);
  });
});

describe('history', () => {
  it('when new entries land while a client pages through the history, then the pages hold every original entry once, newest first', async () => {
    await registerMember(api, 'pager');
    for (let i = 1; i <= 45; i++) await earned(api, 'pager', i);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/v1/members/pager/points/entries?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(10);
      seen.push(...res.body.items.map((e: any) => e.seq));
      cursor = res.body.nextCursor;
      pages++;
      await earned(api, 'pager', 1000 + pages); // lands between two page reads
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => 45 - i));

    const fresh = await get('/v1/members/pager/points/entries?limit=5');
    expect(fresh.body.items.map((e: any) => e.amount)).toEqual([1005, 1004, 1003, 1002, 1001]);
  });

  it('when the history is filtered by kind, then only those kinds come back, newest first, across pages', async () => {
    await registerMember(api, 'kinds');
    await earned(api, 'kinds', 100);
    const hold = await points.hold(api, 'kinds', { amount: 10, code: 'redemption' });
    await points.release(api, hold.body.hold.id);
    for (let i = 1; i <= 30; i++) await earned(api, 'kinds', 1);
    await points.spend(api, 'kinds', { amount: 5, code: 'redemption' });
    await points.spend(api, 'kinds', { amount: 7, code: 'redemption' });

    const both = await historyOf(api, 'kinds', 'kind=earn,spend');
    expect(both).toHaveLength(33);
    expect(both.slice(0, 2).map((e) => e.amount)).toEqual([-7, -5]);
    expect(new Set(both.map((e) => e.kind))).toEqual(new Set(['earn', 'spend']));
    expect(both.map((e) => e.seq)).toEqual([...both.map((e) => e.seq)].sort((x, y) => y - x));

    const holds: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/members/kinds/points/entries?kind=hold,release&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      holds.push(...res.body.items.map((e: any) => e.seq));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(holds).toEqual([3, 2]);
  });
});

describe('the invariant check', () => {
  it('when one member id looks like another member entry id, then the check still sees two clean accounts', async () => {
    await registerMember(api, 'shop');
    await registerMember(api, 'shop:000000000001');
    await earned(api, 'shop', 10);
    await earned(api, 'shop:000000000001', 20);
    await earned(api, 'shop', 30);
    expect(await balanceOf(api, 'shop')).toMatchObject({ available: 40, seq: 2 });
    expect(await balanceOf(api, 'shop:000000000001')).toMatchObject({ available: 20, seq: 1 });
    await expectLedgerClean([api]);
  });
});
