import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { earned } from '../helpers/ledger.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api.close();
});

const coupon = { name: 'Coffee coupon', kind: 'coupon', costPoints: 100, stock: 50, active: true };
const putBenefit = (code: string, body: unknown, token = ops) => api.request('PUT', `/v1/admin/benefits/${code}`, { token, body });
const created = async (code: string, body: Record<string, unknown>) => {
  const res = await putBenefit(code, body);
  expect(res.status, res.text).toBe(201);
  return res.body.benefit;
};

let seq = 0;
const newMember = async (extra: Record<string, unknown> = {}) => {
  const memberId = `cat-${++seq}`;
  const res = await api.request('POST', '/v1/members', { token: service, body: { memberId, ...extra } });
  expect(res.status, res.text).toBe(201);
  return memberId;
};

/** Every page of a list, following nextCursor; checks each page's size on the way. */
async function allPages(path: string, token: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await api.request('GET', `${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

/** The catalogue item `code` as `memberId` sees it. */
async function seenBy(memberId: string, code: string): Promise<any> {
  const item = (await allPages('/v1/benefits', tokenFor('member', memberId), 100)).find((b) => b.code === code);
  expect(item, `${code} in the member's catalogue`).toBeDefined();
  return item;
}

describe('benefit definitions', () => {
  it('when ops create, read and replace a benefit, then each save is a new version, createdAt is kept and both are audited', async () => {
    const first = await created('coffee', { ...coupon, description: 'One cup', perMemberLimit: { count: 2, period: 'week' } });
    expect(first).toMatchObject({
      code: 'coffee', name: 'Coffee coupon', description: 'One cup', kind: 'coupon', costPoints: 100, stock: 50, tiers: null,
      perMemberLimit: { count: 2, period: 'week' }, validFrom: null, validTo: null, voucherValidDays: null, active: true, version: 1,
    });
    expect(first.createdAt).toBe(api.clock.now().toISOString());

    api.clock.advance({ minutes: 5 });
    const replaced = await putBenefit('coffee', { ...coupon, name: 'Large coffee', stock: null, voucherValidDays: 30 });
    expect(replaced.status).toBe(200);
    expect(replaced.body.benefit).toMatchObject({ name: 'Large coffee', description: null, stock: null, perMemberLimit: null, voucherValidDays: 30, version: 2 });
    expect(replaced.body.benefit.createdAt).toBe(first.createdAt);
    expect(replaced.body.benefit.updatedAt).toBe(api.clock.now().toISOString());

    const one = await api.request('GET', '/v1/admin/benefits/coffee', { token: ops });
    expect(one.status).toBe(200);
    expect(one.body.benefit).toEqual(replaced.body.benefit);

    const audit = await api.request('GET', '/v1/admin/audit?targetId=coffee', { token: ops });
    const [update, create] = audit.body.items;
    expect(create).toMatchObject({ action: 'benefit.create', actor: { role: 'ops', sub: 'ops-1' }, target: { type: 'benefit', id: 'coffee' }, before: null, after: { version: 1 } });
    expect(update).toMatchObject({ action: 'benefit.update', before: { name: 'Coffee coupon', version: 1 }, after: { name: 'Large coffee', version: 2 } });
  });

  it('when ops save one benefit five times at once, then each save gets its own version, one creates it, and the newest is current', async () => {
    const saves = await Promise.all([1, 2, 3, 4, 5].map((n) => putBenefit('contested', { ...coupon, stock: n })));
    expect(saves.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const versions = saves.map((r) => r.body.benefit.version).sort();
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    const newest = saves.find((r) => r.body.benefit.version === 5)?.body.benefit;
    const current = await api.request('GET', '/v1/admin/benefits/contested', { token: ops });
    expect(current.body.benefit).toEqual(newest);
    const audit = await api.request('GET', '/v1/admin/audit?targetId=contested', { token: ops });
    expect(audit.body.items.map((i: { after: { version: number } }) => i.after.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('when a benefit has a window, then it is kept to the millisecond as an ISO instant', async () => {
    const b = await created('spring-gift', { ...coupon, kind: 'gift', validFrom: '2026-03-20T00:00:00Z', validTo: '2026-06-21T00:00:00.000Z' });
    expect(b).toMatchObject({ validFrom: '2026-03-20T00:00:00.000Z', validTo: '2026-06-21T00:00:00.000Z' });
  });

  it('when units are redeemed and restocked, then ops read the stock left beside the total, in the list and one by one; unlimited is null', async () => {
    await created('left-tea', { ...coupon, stock: 4 });
    await created('left-free', { ...coupon, stock: null });
    const memberId = await newMember();
    await earned(api, memberId, 300);
    const redeemed = await api.request('POST', '/v1/me/redemptions', {
      token: tokenFor('member', memberId), body: { benefitCode: 'left-tea', quantity: 3 }, headers: { 'Idempotency-Key': 'left-tea-1' },
    });
    expect(redeemed.status, redeemed.text).toBe(201);
    const one = async (code: string) => (await api.request('GET', `/v1/admin/benefits/${code}`, { token: ops })).body.benefit;
    expect(await one('left-tea')).toMatchObject({ stock: 4, stockLeft: 1 });
    const restocked = await putBenefit('left-tea', { ...coupon, stock: 10 });
    expect(restocked.body.benefit).toMatchObject({ stock: 10, stockLeft: 7 });
    const listed = (await allPages('/v1/admin/benefits', ops, 100)).filter((b) => b.code.startsWith('left-'));
    expect(listed.map((b) => [b.code, b.stock, b.stockLeft])).toEqual([['left-free', null, null], ['left-tea', 10, 7]]);
    expect(await one('left-free')).toMatchObject({ stockLeft: null });
  });

  it('when a benefit does not exist, then reading it is 404', async () => {
    const res = await api.request('GET', '/v1/admin/benefits/no-such-thing', { token: ops });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('when a body is hostile or malformed, then it is refused with the failing paths and nothing is saved', async () => {
    const paths = async (body: unknown) => {
      const res = await putBenefit('hostile', body);
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      return res.body.error.details.issues.map((i: { path: string }) => i.path);
    };
    expect(await paths({ ...coupon, name: { $gt: '' } })).toEqual(['body.name']);
    expect(await paths({ ...coupon, costPoints: { $gt: 0 } })).toEqual(['body.costPoints']);
    expect(await paths({ ...coupon, costPoints: '100' })).toEqual(['body.costPoints']);
    expect(await paths({ ...coupon, costPoints: 1.5 })).toEqual(['body.costPoints']);
    expect(await paths({ ...coupon, costPoints: -1 })).toEqual(['body.costPoints']);
    expect(await paths({ ...coupon, costPoints: api.config.maxPointsAmount + 1 })).toEqual(['body.costPoints']);
    expect(await paths({ ...coupon, stock: -1 })).toEqual(['body.stock']);
    expect(await paths({ ...coupon, stock: '5' })).toEqual(['body.stock']);
    expect(await paths({ ...coupon, stock: undefined })).toEqual(['body.stock']);
    expect(await paths({ ...coupon, colour: 'red' })).toEqual(['body']);
    expect(await paths({ ...coupon, kind: 'cash' })).toEqual(['body.kind']);
    expect(await paths({ ...coupon, name: '' })).toEqual(['body.name']);
    expect(await paths({ ...coupon, name: 'x'.repeat(81) })).toEqual(['body.name']);
    expect(await paths({ ...coupon, active: 'true' })).toEqual(['body.active']);
    expect(await paths({ ...coupon, tiers: ['gold'] })).toEqual(['body.tiers.0']);
    expect(await paths({ ...coupon, tiers: [] })).toEqual(['body.tiers']);
    expect(await paths({ ...coupon, voucherValidDays: 0 })).toEqual(['body.voucherValidDays']);
    expect(await paths({ ...coupon, perMemberLimit: { count: 0, period: 'fortnight' } })).toEqual(['body.perMemberLimit.count', 'body.perMemberLimit.period']);
    expect(await paths({ ...coupon, perMemberLimit: { count: 1, period: 'day', extra: 1 } })).toEqual(['body.perMemberLimit']);
    expect(await paths({ ...coupon, validFrom: '2026-03-01' })).toEqual(['body.validFrom']);
    expect(await paths({ ...coupon, validFrom: '2026-04-01T00:00:00Z', validTo: '2026-03-01T00:00:00Z' })).toEqual(['body.validTo']);
    expect(await paths({ ...coupon, validFrom: '2026-04-01T00:00:00Z', validTo: '2026-04-01T00:00:00Z' })).toEqual(['body.validTo']);
    expect(await paths([coupon])).toEqual(['body']);
    expect(await paths(undefined)).toEqual(['body']);

    for (const code of ['Bad-Code', 'x', '$gt', '-lead', 'a'.repeat(49)]) {
      const res = await putBenefit(encodeURIComponent(code), coupon);
      expect(res.status, code).toBe(400);
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['params.code']);
    }
    expect((await api.request('GET', '/v1/admin/benefits/hostile', { token: ops })).status).toBe(404);
  });

  it('when a list is asked with a bad limit or a cursor it did not hand out, then it is refused with the query path', async () => {
    for (const [query, path] of [['limit=0', 'query.limit'], ['limit=101', 'query.limit'], ['limit=abc', 'query.limit'], ['cursor=%24gt', 'query.cursor'], ['colour=red', 'query']]) {
      for (const [route, token] of [['/v1/admin/benefits', ops], ['/v1/benefits', tokenFor('member', 'anyone')]] as const) {
        const res = await api.request('GET', `${route}?${query}`, { token });
        expect(res.status, `${route}?${query}`).toBe(400);
        expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual([path]);
      }
    }
  });

  it('when a member or the backend calls the admin routes, then they are refused; without a token, unauthenticated', async () => {
    for (const token of [tokenFor('member', 'cat-x'), service]) {
      expect((await putBenefit('sneaky', coupon, token)).status).toBe(403);
      expect((await api.request('GET', '/v1/admin/benefits', { token })).status).toBe(403);
      expect((await api.request('GET', '/v1/admin/benefits/coffee', { token })).status).toBe(403);
    }
    expect((await api.request('GET', '/v1/admin/benefits')).status).toBe(401);
    expect((await api.request('GET', '/v1/benefits')).status).toBe(401);
    expect((await api.request('GET', '/v1/benefits', { token: ops })).status).toBe(403);
    expect((await api.request('GET', '/v1/admin/benefits/sneaky', { token: ops })).status).toBe(404);
  });
});

describe('the member’s catalogue', () => {
  it('when a benefit is free, unlimited and for everyone, then a new member is eligible with no reasons', async () => {
    await created('free-wifi', { name: 'Free wifi', kind: 'privilege', costPoints: 0, stock: null, active: true });
    const memberId = await newMember();
    expect(await seenBy(memberId, 'free-wifi')).toEqual({
      code: 'free-wifi', name: 'Free wifi', description: null, kind: 'privilege', costPoints: 0, tiers: null, perMemberLimit: null,
      validFrom: null, validTo: null, voucherValidDays: null, eligible: true, reasons: [], stockLeft: null, limitLeft: null, limitResetsAt: null,
    });
  });

  it('when the member has too few points, then INSUFFICIENT_POINTS, until points earned on the ledger cover the cost', async () => {
    await created('cinema', { ...coupon, name: 'Cinema ticket', costPoints: 150 });
    const memberId = await newMember();
    expect(await seenBy(memberId, 'cinema')).toMatchObject({ eligible: false, reasons: ['INSUFFICIENT_POINTS'], stockLeft: 50 });
    await earned(api, memberId, 149);
    expect((await seenBy(memberId, 'cinema')).reasons).toEqual(['INSUFFICIENT_POINTS']);
    await earned(api, memberId, 1);
    expect(await seenBy(memberId, 'cinema')).toMatchObject({ eligible: true, reasons: [] });
  });

  it('when a benefit is outside its window, then NOT_IN_WINDOW before it opens and from the instant it closes', async () => {
    const opens = new Date(api.clock.now().getTime() + 86_400_000);
    const closes = new Date(opens.getTime() + 86_400_000);
    await created('flash-window', { ...coupon, costPoints: 0, validFrom: opens.toISOString(), validTo: closes.toISOString() });
    const memberId = await newMember();
    expect((await seenBy(memberId, 'flash-window')).reasons).toEqual(['NOT_IN_WINDOW']);
    api.clock.set(opens);
    expect(await seenBy(memberId, 'flash-window')).toMatchObject({ eligible: true, reasons: [] });
    api.clock.set(new Date(closes.getTime() - 1));
    expect((await seenBy(memberId, 'flash-window')).eligible).toBe(true);
    api.clock.set(closes);
    expect((await seenBy(memberId, 'flash-window')).reasons).toEqual(['NOT_IN_WINDOW']);
  });

  it('when a benefit is for a tier, then a member without a tier or below it gets TIER_NOT_ELIGIBLE and a member in it does not', async () => {
    await created('gold-lounge', { name: 'Lounge access', kind: 'privilege', costPoints: 0, tiers: ['GOLD'], stock: null, active: true });
    const untiered = await newMember();
    expect((await seenBy(untiered, 'gold-lounge')).reasons).toEqual(['TIER_NOT_ELIGIBLE']);

    const ladder = { tiers: [{ code: 'BASE', name: 'Member', threshold: 0 }, { code: 'GOLD', name: 'Gold', threshold: 100 }] };
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
    const promote = { name: 'Promotion', eventType: 'member.promoted', growth: { kind: 'fixed', amount: 100 } };
    expect((await api.request('PUT', '/v1/admin/earning-rules/promote', { token: ops, body: promote })).status).toBe(201);
    const base = await newMember();
    const gold = await newMember();
    const event = { eventId: `promote-${gold}`, memberId: gold, type: 'member.promoted', occurredAt: api.clock.now().toISOString(), properties: {} };
    expect((await api.request('POST', '/v1/events', { token: service, body: event })).status).toBe(201);

    expect((await seenBy(base, 'gold-lounge')).reasons).toEqual(['TIER_NOT_ELIGIBLE']);
    expect(await seenBy(gold, 'gold-lounge')).toMatchObject({ eligible: true, reasons: [], tiers: ['GOLD'] });
  });

  it('when several things stand in the way, then every reason is listed, in a fixed order', async () => {
    const later = new Date(api.clock.now().getTime() + 86_400_000).toISOString();
    await created('everything-wrong', { ...coupon, costPoints: 500, tiers: ['GOLD'], stock: 0, validFrom: later });
    const memberId = await newMember();
    expect(await seenBy(memberId, 'everything-wrong')).toMatchObject({
      eligible: false,
      reasons: ['TIER_NOT_ELIGIBLE', 'NOT_IN_WINDOW', 'OUT_OF_STOCK', 'INSUFFICIENT_POINTS'],
      stockLeft: 0,
    });
  });

  it('when a benefit has a per-member limit, then the member sees what is left and when their local period ends', async () => {
    await created('daily-snack', { ...coupon, costPoints: 0, perMemberLimit: { count: 2, period: 'day' } });
    await created('yearly-gift', { ...coupon, costPoints: 0, perMemberLimit: { count: 1, period: 'lifetime' } });
    api.clock.set('2026-03-10T09:00:00Z');
    const honolulu = await newMember({ timezone: 'Pacific/Honolulu' });
    const kiritimati = await newMember({ timezone: 'Pacific/Kiritimati' });
    // 09:00 UTC: 23:00 on the 9th in Honolulu (−10), 23:00 on the 10th in Kiritimati (+14).
    expect(await seenBy(honolulu, 'daily-snack')).toMatchObject({ eligible: true, limitLeft: 2, limitResetsAt: '2026-03-10T10:00:00.000Z' });
    expect(await seenBy(kiritimati, 'daily-snack')).toMatchObject({ limitLeft: 2, limitResetsAt: '2026-03-10T10:00:00.000Z' });
    expect(await seenBy(honolulu, 'yearly-gift')).toMatchObject({ limitLeft: 1, limitResetsAt: null });
  });

  it('when the member is frozen, then every benefit says MEMBER_FROZEN', async () => {
    const memberId = await newMember();
    expect((await api.request('PATCH', `/v1/members/${memberId}`, { token: ops, body: { status: 'frozen' } })).status).toBe(200);
    expect(await seenBy(memberId, 'free-wifi')).toMatchObject({ eligible: false, reasons: ['MEMBER_FROZEN'] });
  });

  it('when the caller is not a registered member, then the catalogue is 404', async () => {
    const res = await api.request('GET', '/v1/benefits', { token: tokenFor('member', 'never-registered') });
    expect(res.status).toBe(404);
  });
});

describe('pagination', () => {
  it('when the catalogue is read page by page, then every benefit comes once, in code order, and inactive ones only to ops', async () => {
    for (const n of [1, 2, 3, 4, 5]) await created(`page-${n}`, { ...coupon, costPoints: 0, active: n !== 3 });
    const adminCodes = (await allPages('/v1/admin/benefits', ops, 2)).map((b) => b.code);
    expect(adminCodes).toEqual([...adminCodes].sort());
    expect(new Set(adminCodes).size).toBe(adminCodes.length);
    expect(adminCodes).toEqual(expect.arrayContaining(['coffee', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5']));

    const memberId = await newMember();
    const memberCodes = (await allPages('/v1/benefits', tokenFor('member', memberId), 2)).map((b) => b.code);
    expect(memberCodes).toEqual(adminCodes.filter((c) => c !== 'page-3'));

    const all = await api.request('GET', `/v1/admin/benefits?limit=100`, { token: ops });
    expect(all.body.nextCursor).toBeNull();
    const exact = await api.request('GET', `/v1/admin/benefits?limit=${adminCodes.length}`, { token: ops });
    expect(exact.body.items).toHaveLength(adminCodes.length);
    expect(exact.body.nextCursor).toBeNull();
    const first = await api.request('GET', '/v1/admin/benefits', { token: ops });
    expect(first.body.items).toHaveLength(Math.min(20, adminCodes.length));
  });
});
