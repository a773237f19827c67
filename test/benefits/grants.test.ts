import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, ops, service, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { earned, registerMember } from '../helpers/ledger.js';

let api: TestApp;
let n = 0;
const key = () => `grant-${++n}-${Math.random()}`;

const putBenefit = (app: TestApp, code: string, body: Record<string, unknown> = {}) =>
  app.request('PUT', `/v1/admin/benefits/${code}`, { token: ops, body: { name: code, kind: 'coupon', costPoints: 100, stock: null, active: true, ...body } });
const grant = (app: TestApp, body: Record<string, unknown>, k = key()) =>
  app.request('POST', '/v1/admin/benefit-grants', { token: ops, body, headers: { 'Idempotency-Key': k } });
const redemptionsOf = async (app: TestApp, memberId: string) => (await app.request('GET', '/v1/me/redemptions', { token: tokenFor('member', memberId) })).body.items;
const settled = async (app: TestApp, id: string) => {
  await app.built.services.grants.settle();
  return (await app.request('GET', `/v1/admin/benefit-grants/${id}`, { token: ops })).body.grant;
};

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api.close();
});

describe('grants to listed members', () => {
  it('when ops grant a benefit to listed members, then each gets it once for free, unknown and frozen members are skipped, and a repeat grants nothing more', async () => {
    expect((await putBenefit(api, 'sorry-coupon', { costPoints: 500, voucherValidDays: 7 })).status).toBe(201);
    for (const m of ['g-1', 'g-2', 'g-frozen']) await registerMember(api, m);
    await api.request('PATCH', '/v1/members/g-frozen', { token: ops, body: { status: 'frozen' } });
    const body = { benefitCode: 'sorry-coupon', memberIds: ['g-1', 'g-2', 'g-2', 'g-frozen', 'g-nobody'], note: 'outage 12-01' };
    const k = key();
    const first = await grant(api, body, k);
    expect(first.status, first.text).toBe(202);
    expect(first.body.grant).toMatchObject({ benefitCode: 'sorry-coupon', total: 4, note: 'outage 12-01' });
    const done = await settled(api, first.body.grant.id);
    expect(done).toMatchObject({ status: 'done', total: 4, processed: 4, issued: 2, failed: 0 });
    for (const m of ['g-1', 'g-2']) {
      const items = await redemptionsOf(api, m);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ benefitCode: 'sorry-coupon', status: 'issued', pointsSpent: 0 });
    }
    expect(await redemptionsOf(api, 'g-frozen')).toHaveLength(0);

    const again = await grant(api, body, k);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await grant(api, { ...body, note: 'other' }, k);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await redemptionsOf(api, 'g-1')).toHaveLength(1);
  });

  it('when a grant body is hostile or names an unknown benefit, then it is refused and nothing is granted', async () => {
    for (const body of [
      { benefitCode: 'sorry-coupon' },
      { benefitCode: 'sorry-coupon', memberIds: ['g-1'], segment: 'churned' },
      { benefitCode: 'sorry-coupon', memberIds: [] },
      { benefitCode: 'sorry-coupon', memberIds: [{ $gt: '' }] },
      { benefitCode: 'sorry-coupon', segment: 'everyone' },
      { benefitCode: 'sorry-coupon', memberIds: ['g-1'], extra: 1 },
    ]) {
      const r = await grant(api, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
    const unknown = await grant(api, { benefitCode: 'no-such', memberIds: ['g-1'] });
    expect(unknown.status).toBe(404);
    expect((await api.request('POST', '/v1/admin/benefit-grants', { token: service, body: { benefitCode: 'sorry-coupon', memberIds: ['g-1'] }, headers: { 'Idempotency-Key': key() } })).status).toBe(403);
  });

  it('when a stocked benefit is granted to more members than it has units, then exactly the stock is issued and the rest fail', async () => {
    expect((await putBenefit(api, 'few-gifts', { kind: 'gift', stock: 3 })).status).toBe(201);
    const members = Array.from({ length: 5 }, (_, i) => `g-few-${i}`);
    for (const m of members) await registerMember(api, m);
    const r = await grant(api, { benefitCode: 'few-gifts', memberIds: members });
    expect(await settled(api, r.body.grant.id)).toMatchObject({ status: 'done', total: 5, issued: 3, failed: 2 });
    expect(await api.built.services.stock.levels('few-gifts')).toMatchObject({ left: 0, taken: 3 });
  });
});

describe('a grant resumed after its runner died', () => {
  it('when the process running a grant dies part-way, then another instance resumes it after the lease and every member gets it exactly once', { timeout: 60_000 }, async () => {
    const dbName = freshDbName('grant');
    const faults = new ArmedFaults();
    const a = await startTestApp({ dbName, faults });
    const b = await startTestApp({ dbName, clock: a.clock });
    try {
      expect((await putBenefit(a, 'recall', { stock: 100 })).status).toBe(201);
      const members = Array.from({ length: 30 }, (_, i) => `r-${String(i).padStart(2, '0')}`);
      for (const m of members) await registerMember(a, m);
      // A redemption's stock step dies as a crash would: the job stops there, its claim held for its lease.
      faults.arm('redemption:after-stock');
      const r = await grant(a, { benefitCode: 'recall', memberIds: members });
      expect(r.status).toBe(202);
      const stopped = await settled(a, r.body.grant.id);
      expect(stopped.status).toBe('running');
      expect(stopped.processed).toBeLessThan(30);

      // The job's lease (10 minutes) runs out; the sweeper on B finishes the grant, and the interrupted redemption.
      a.clock.advance({ minutes: 11 });
      await b.built.sweep();
      await b.built.services.grants.settle();
      await b.built.sweep();
      const done = (await b.request('GET', `/v1/admin/benefit-grants/${r.body.grant.id}`, { token: ops })).body.grant;
      expect(done).toMatchObject({ status: 'done', total: 30, processed: 30, issued: 30, failed: 0 });
      for (const m of members) expect(await redemptionsOf(b, m), m).toHaveLength(1);
      expect(await b.built.services.stock.levels('recall')).toMatchObject({ left: 70, taken: 30 });
      expect(await b.built.services.stock.check('recall')).toEqual([]);
    } finally {
      await b.close({ keepDatabase: true });
      await a.close();
    }
  });
});

describe('segments and tier welcome benefits', () => {
  it('when ops grant to the churned segment, then only members idle for 30 days or more get it', async () => {
    const app = await startTestApp();
    try {
      expect((await putBenefit(app, 'come-back', { costPoints: 0 })).status).toBe(201);
      await registerMember(app, 'seg-old');
      await registerMember(app, 'seg-silent');
      app.clock.advance({ days: 20 });
      await earned(app, 'seg-silent', 10); // active on day 20
      app.clock.advance({ days: 15 }); // day 35: seg-old idle 35 days (churned), seg-silent 15 (silent)
      await registerMember(app, 'seg-new');
      const churned = await grant(app, { benefitCode: 'come-back', segment: 'churned' });
      expect(await settled(app, churned.body.grant.id)).toMatchObject({ status: 'done', total: 1, issued: 1 });
      const silent = await grant(app, { benefitCode: 'come-back', segment: 'silent' });
      expect(await settled(app, silent.body.grant.id)).toMatchObject({ status: 'done', total: 1, issued: 1 });
      expect(await redemptionsOf(app, 'seg-old')).toHaveLength(1);
      expect(await redemptionsOf(app, 'seg-silent')).toHaveLength(1);
      expect(await redemptionsOf(app, 'seg-new')).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('when a member reaches a tier with a welcome benefit, then it is granted once, and evaluating the member again grants nothing more', async () => {
    const app = await startTestApp();
    try {
      expect((await putBenefit(app, 'gold-welcome', { kind: 'gift', costPoints: 999 })).status).toBe(201);
      const ladder = {
        tiers: [
          { code: 'BASE', name: 'Member', threshold: 0 },
          { code: 'GOLD', name: 'Gold', threshold: 100, welcomeBenefit: 'gold-welcome' },
        ],
        policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 0 },
      };
      expect((await app.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
      await registerMember(app, 'w-1');
      const { growth } = app.built.services;
      await growth.earnPoints('w-1', { amount: 150, code: 'order' }, { opId: 'welcome-test-growth', actor: { role: 'service', sub: 'test' } });
      await app.built.services.tiers.onGrowth('w-1');
      await app.built.services.tiers.onGrowth('w-1');
      const items = await redemptionsOf(app, 'w-1');
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ benefitCode: 'gold-welcome', status: 'issued', pointsSpent: 0 });
      expect((await app.request('GET', '/v1/members/w-1/points', { token: service })).body).toMatchObject({ available: 0 });
    } finally {
      await app.close();
    }
  });
});
