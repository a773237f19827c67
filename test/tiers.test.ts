import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignPercentiles, tierForGrowth } from '../src/modules/tiers/index.js';
import { ops, service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';

let api: TestApp;

const ladder = {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'SILVER', name: 'Silver', threshold: 100, earnMultiplier: 1.2 },
    { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400, earnMultiplier: 1.5, benefitCodes: ['free-shipping'] },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 },
};

beforeAll(async () => {
  api = await startTestApp();
  expect((await api.request('PUT', '/v1/admin/earning-rules/order', {
    token: ops,
    body: { name: '1 point and 0.1 growth per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, growth: { kind: 'per-unit', property: 'amount', unit: 10, points: 1 }, tierMultipliers: { SILVER: 2 } },
  })).status).toBe(201);
});
afterAll(async () => {
  await api.close();
});

let n = 0;
const newMember = async () => {
  const memberId = `tier-${++n}`;
  expect((await api.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);
  return memberId;
};
const pay = (memberId: string, amount: number, orderId = `o-${memberId}-${amount}-${Math.random()}`) =>
  api.request('POST', '/v1/events', {
    token: service,
    body: { eventId: `paid-${orderId}`, memberId, type: 'order.paid', occurredAt: api.clock.now().toISOString(), properties: { orderId, amount } },
  });

describe('tier ladder', () => {
  it('when the ladder is inconsistent, then it is refused with the failing paths', async () => {
    const bad = await api.request('PUT', '/v1/admin/tiers', {
      token: ops,
      body: {
        tiers: [
          { code: 'BASE', name: 'b', threshold: 10 },
          { code: 'GOLD', name: 'g', threshold: 5, keepThreshold: 50 },
        ],
        policy: { mode: 'percentile', buckets: [{ tier: 'GOLD', percent: 10 }, { tier: 'BASE', percent: 80 }] },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['body.tiers.0.threshold', 'body.tiers.1.threshold', 'body.tiers.1.keepThreshold', 'body.policy.buckets']),
    );
    expect((await api.request('GET', '/v1/tiers', { token: service })).body.ladder.version).toBe(0);
  });

  it('when ops set the ladder, then it gets a version, everyone can read it and the change is audited', async () => {
    const put = await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder });
    expect(put.status).toBe(200);
    expect(put.body.ladder.version).toBe(1);
    const read = await api.request('GET', '/v1/tiers', { token: tokenFor('member', 'anyone') });
    expect(read.body.ladder.tiers.map((t: { code: string }) => t.code)).toEqual(['BASE', 'SILVER', 'GOLD']);
    const audit = await api.request('GET', '/v1/admin/audit?action=tier-ladder.update', { token: ops });
    expect(audit.body.items).toHaveLength(1);
  });
});

describe('growth and upgrades', () => {
  it('when growth reaches a threshold, then the member is upgraded at once, with the reason in its history and summary', async () => {
    const m = await newMember();
    const first = await pay(m, 990); // 99 growth: still BASE
    expect(first.body.effects.tierChange).toBeNull();
    const second = await pay(m, 10); // 100 growth
    expect(second.body.effects.tierChange).toEqual({ from: 'BASE', to: 'SILVER' });
    const history = await api.request('GET', `/v1/members/${m}/tier-history`, { token: tokenFor('member', m) });
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(1);
    expect(history.body.items[0]).toMatchObject({ from: 'BASE', to: 'SILVER', growth: 100, reason: 'growth 100 reached 100' });
    const me = await api.request('GET', '/v1/me', { token: tokenFor('member', m) });
    expect(me.body.summary.tier).toMatchObject({ code: 'SILVER', name: 'Silver' });
    expect(me.body.summary.growth).toEqual({ value: 100, nextTier: 'GOLD', missingToNext: 400 });
    expect((await api.request('GET', `/v1/members/${m}/tier-history`, { token: tokenFor('member', 'other') })).status).toBe(404);
  });

  it('when a member earns at a tier, then the rule multiplier for that tier (or the ladder one) applies, rounded down', async () => {
    const m = await newMember();
    await pay(m, 1000); // BASE: 1000 points; now SILVER (100 growth)
    const silver = await pay(m, 333); // the rule says SILVER ×2
    expect(silver.body.effects.points[0].points).toBe(666);
    await pay(m, 4000); // GOLD now
    const gold = await pay(m, 333); // no rule multiplier for GOLD: the ladder's 1.5
    expect(gold.body.effects.points[0].points).toBe(499);
  });

  it('when many orders cross the threshold at once, then the member is upgraded exactly once', async () => {
    const m = await newMember();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => pay(m, 200, `race-${m}-${i}`)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const history = await api.request('GET', `/v1/members/${m}/tier-history`, { token: ops });
    const tos = history.body.items.map((c: { to: string }) => c.to).reverse();
    // 10 × 20 growth = 200: SILVER once; never twice the same change, always upwards.
    expect(tos).toEqual(['SILVER']);
  });

  it('when ops preview a ladder, then they get the count per tier today and nobody changes', async () => {
    const before = await api.request('GET', '/v1/admin/audit?limit=100', { token: ops });
    const res = await api.request('POST', '/v1/admin/tiers/preview', {
      token: ops,
      body: { ladder: { ...ladder, tiers: [{ code: 'BASE', name: 'b', threshold: 0 }, { code: 'TOP', name: 't', threshold: 150 }] } },
    });
    expect(res.status).toBe(200);
    expect(res.body.members).toBe(n);
    expect(res.body.counts.BASE + res.body.counts.TOP).toBe(n);
    // The members above have 100, 566 and 200 growth (this file's tests run in order): two reach 150.
    expect(res.body.counts.TOP).toBe(2);
    const after = await api.request('GET', '/v1/admin/audit?limit=100', { token: ops });
    expect(after.body.items.length).toBe(before.body.items.length);
    expect((await api.request('GET', '/v1/tiers', { token: ops })).body.ladder.version).toBe(1);
  });
});

describe('tier assignment rules', () => {
  const pct = {
    tiers: [
      { code: 'BASE', name: 'b', threshold: 0, earnMultiplier: 1, benefitCodes: [] },
      { code: 'SILVER', name: 's', threshold: 1, earnMultiplier: 1, benefitCodes: [] },
      { code: 'GOLD', name: 'g', threshold: 2, earnMultiplier: 1, benefitCodes: [] },
    ],
    policy: { mode: 'percentile' as const, window: 'rolling-365d' as const, graceDays: 0, buckets: [{ tier: 'GOLD', percent: 10 }, { tier: 'SILVER', percent: 30 }, { tier: 'BASE', percent: 60 }] },
  };

  it('when members are ranked by growth, then the buckets fill top tier first and ties never split', () => {
    const members = Array.from({ length: 20 }, (_, i) => ({ memberId: `m${String(i).padStart(2, '0')}`, growth: 100 - i }));
    const tiers = assignPercentiles(pct, members);
    expect([...tiers.values()].filter((t) => t === 'GOLD')).toHaveLength(2);
    expect([...tiers.values()].filter((t) => t === 'SILVER')).toHaveLength(6);
    expect([...tiers.values()].filter((t) => t === 'BASE')).toHaveLength(12);
    const tied = [{ memberId: 'a', growth: 50 }, { memberId: 'b', growth: 50 }, { memberId: 'c', growth: 50 }, ...members.slice(5)];
    const t2 = assignPercentiles(pct, tied);
    expect(new Set(['a', 'b', 'c'].map((id) => t2.get(id))).size).toBe(1);
  });

  it('when the population is tiny or empty, then every member still gets exactly one tier', () => {
    expect(assignPercentiles(pct, []).size).toBe(0);
    const one = assignPercentiles(pct, [{ memberId: 'solo', growth: 0 }]);
    expect(one.get('solo')).toBe('BASE');
    const three = assignPercentiles(pct, [{ memberId: 'x', growth: 3 }, { memberId: 'y', growth: 2 }, { memberId: 'z', growth: 1 }]);
    expect(three.size).toBe(3);
  });

  it('when growth sits exactly on a threshold, then it reaches that tier', () => {
    expect(tierForGrowth(ladder, 99).code).toBe('BASE');
    expect(tierForGrowth(ladder, 100).code).toBe('SILVER');
    expect(tierForGrowth(ladder, 500).code).toBe('GOLD');
  });
});
