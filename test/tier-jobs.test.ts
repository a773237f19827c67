import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/platform/clock.js';
import { freshDbName, ops, service, startTestApp, type TestApp } from './helpers/app.js';


const thresholdLadder = {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'SILVER', name: 'Silver', threshold: 100 },
    { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400 },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 },
};

async function setUp(api: TestApp) {
  expect((await api.request('PUT', '/v1/admin/earning-rules/growth', {
    token: ops,
    body: { name: 'growth per order', eventType: 'order.paid', growth: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } },
  })).status).toBe(201);
}
const register = async (api: TestApp, memberId: string) =>
  expect((await api.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);
const grow = async (api: TestApp, memberId: string, growth: number) => {
  const orderId = `o-${memberId}-${api.clock.now().getTime()}-${growth}`;
  const res = await api.request('POST', '/v1/events', {
    token: service,
    body: { eventId: orderId, memberId, type: 'order.paid', occurredAt: api.clock.now().toISOString(), properties: { orderId, amount: growth } },
  });
  expect(res.status).toBe(201);
};
const history = async (api: TestApp, memberId: string) =>
  (await api.request('GET', `/v1/members/${memberId}/tier-history`, { token: ops })).body.items as Array<{ from: string; to: string; reason: string }>;

describe('threshold tiers at period end', () => {
  let api: TestApp;
  beforeAll(async () => {
    api = await startTestApp();
    await setUp(api);
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: thresholdLadder })).status).toBe(200);
  });
  afterAll(async () => {
    await api.close();
  });

  it('when growth falls below the keep threshold at period end, then the member keeps the tier through the grace days and then drops one tier', async () => {
    await register(api, 'fall');
    await register(api, 'stay');
    await grow(api, 'fall', 500);
    await grow(api, 'stay', 500);
    expect((await history(api, 'fall'))[0]?.to).toBe('GOLD');

    api.clock.advance({ days: 300 });
    await grow(api, 'stay', 450); // inside the window at period end: keeps GOLD
    api.clock.advance({ days: 66 }); // 366 days after reaching GOLD: fall's growth has left the window
    const first = await api.built.services.tiers.runEvaluation('day-366');
    expect(first.ran).toBe(true);
    expect((await history(api, 'fall'))[0]?.to).toBe('GOLD'); // in grace
    expect((await history(api, 'stay'))[0]).toMatchObject({ from: 'GOLD', to: 'GOLD', reason: 'kept: growth 450 ≥ 400 at period end' });

    api.clock.advance({ days: 31 });
    await api.built.services.tiers.runEvaluation('day-397');
    expect((await history(api, 'fall'))[0]).toMatchObject({ from: 'GOLD', to: 'SILVER', reason: 'growth 0 below the keep threshold 400 at period end' });

    api.clock.advance({ days: 1 });
    await api.built.services.tiers.runEvaluation('day-398');
    expect(await history(api, 'fall')).toHaveLength(2); // SILVER is valid for a new period: nothing more
    const again = await api.built.services.tiers.runEvaluation('day-398');
    expect(again).toEqual({ ran: false, reason: 'already done' });
  });
});

describe('two job runners at once', () => {
  it('when two processes start the same evaluation, then one runs it, the other skips, and each member changes once', async () => {
    const dbName = freshDbName();
    const clock = new ManualClock('2026-03-01T08:00:00Z');
    const a = await startTestApp({ dbName, clock });
    const b = await startTestApp({ dbName, clock });
    await setUp(a);
    for (const m of ['r1', 'r2', 'r3']) await register(a, m);
    // Growth first, the ladder after: nobody is upgraded by an event, so only the job can move them.
    await grow(a, 'r1', 150);
    await grow(a, 'r2', 600);
    // The same evaluation key on both instances, at the same time.
    const ladderV = await a.request('PUT', '/v1/admin/tiers', { token: ops, body: thresholdLadder });
    expect(ladderV.status).toBe(200);
    const [ra, rb] = await Promise.all([a.built.services.tiers.runEvaluation('same-day'), b.built.services.tiers.runEvaluation('same-day')]);
    expect([ra.ran, rb.ran].sort()).toEqual([false, true]);
    // The background run for the ladder version may have moved them too; in all, each member changed at most once.
    expect(await history(a, 'r1')).toEqual([expect.objectContaining({ from: 'BASE', to: 'SILVER' })]);
    expect(await history(a, 'r2')).toEqual([expect.objectContaining({ from: 'BASE', to: 'GOLD' })]);
    expect(await history(a, 'r3')).toEqual([]);
    await b.close({ keepDatabase: true });
    await a.close();
  });
});

describe('percentile tiers', () => {
  it('when the job ranks members, then the top share gets the top tier and the change says why', async () => {
    const api = await startTestApp();
    await setUp(api);
    const growths = [900, 800, 700, 600, 500, 400, 300, 200, 100, 50];
    for (const [i, g] of growths.entries()) {
      await register(api, `p${i}`);
      await grow(api, `p${i}`, g);
    }
    const put = await api.request('PUT', '/v1/admin/tiers', {
      token: ops,
      body: {
        tiers: [{ code: 'BASE', name: 'b', threshold: 0 }, { code: 'VIP', name: 'v', threshold: 1 }, { code: 'TOP', name: 't', threshold: 2 }],
        policy: { mode: 'percentile', window: 'calendar-year', buckets: [{ tier: 'TOP', percent: 10 }, { tier: 'VIP', percent: 20 }, { tier: 'BASE', percent: 70 }] },
      },
    });
    expect(put.status).toBe(200);
    await api.built.services.tiers.runEvaluation('rank-1');
    const tiersOf = await Promise.all(growths.map(async (_, i) => (await history(api, `p${i}`))[0]?.to ?? 'BASE'));
    expect(tiersOf).toEqual(['TOP', 'VIP', 'VIP', 'BASE', 'BASE', 'BASE', 'BASE', 'BASE', 'BASE', 'BASE']);
    expect((await history(api, 'p0'))[0]?.reason).toBe('percentile rank on growth 900');
    await api.close();
  });
});

describe('ladder changes', () => {
  it('when a tier is removed from the ladder, then its members are placed where their growth puts them', async () => {
    const api = await startTestApp();
    await setUp(api);
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: thresholdLadder })).status).toBe(200);
    await register(api, 'gone');
    await grow(api, 'gone', 550);
    expect((await history(api, 'gone'))[0]?.to).toBe('GOLD');
    const v2 = { ...thresholdLadder, tiers: [{ code: 'BASE', name: 'Member', threshold: 0 }, { code: 'PLATINUM', name: 'Platinum', threshold: 300 }] };
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: v2 })).status).toBe(200);
    const run = await api.built.services.tiers.runEvaluation('ladder-v2');
    // The PUT started the same run in the background; whichever ran it, it runs once and places the member.
    expect(run.ran || run.reason === 'already done' || run.reason?.startsWith('held by')).toBe(true);
    let last: { from: string; to: string } | undefined;
    for (let i = 0; i < 100 && last?.to !== 'PLATINUM'; i++) {
      last = (await history(api, 'gone'))[0];
      if (last?.to !== 'PLATINUM') await new Promise((r) => setTimeout(r, 50)); // the background run is finishing
    }
    expect(last).toMatchObject({ from: 'GOLD', to: 'PLATINUM' });
    await api.close();
  });
});
