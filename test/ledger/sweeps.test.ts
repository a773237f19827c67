import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, startTestApp, type TestApp } from '../helpers/app.js';
import { balanceOf, earned, expectLedgerClean, historyOf, points, registerMember } from '../helpers/ledger.js';

/**
 * What the sweep finds comes from records written once when the work was created, not from the accounts cache, which
 * racing processes can leave a write behind (its last write wins, and on FerretDB an update is not atomic).
 */
const clock = new ManualClock('2026-03-01T08:00:00Z');
const instances: TestApp[] = [];
let a: TestApp;

beforeAll(async () => {
  const dbName = freshDbName('ledger_sweeps');
  for (let i = 0; i < 3; i++) instances.push(await startTestApp({ dbName, clock }));
  a = instances[0] as TestApp;
});
afterAll(async () => {
  for (const [i, api] of instances.entries()) await api.close({ keepDatabase: i < instances.length - 1 });
});

/** Puts back an account cache document as it was at `doc` — what a slower racing process's write leaves behind. */
async function leaveCacheBehind(memberId: string, doc: unknown): Promise<void> {
  for (const api of instances) await api.built.flush();
  await a.db.collection('points_accounts').replaceOne({ _id: memberId as never }, doc as never);
}
const cacheOf = async (memberId: string) => {
  for (const api of instances) await api.built.flush();
  return a.db.collection('points_accounts').findOne({ _id: memberId as never });
};

describe('sweeps find due work from its own records', () => {
  it('when a racing process left the account cache from before a hold, then the sweep still times the hold out', async () => {
    await registerMember(a, 'cache-behind-hold');
    await earned(a, 'cache-behind-hold', 100);
    const before = await cacheOf('cache-behind-hold');
    const hold = await points.hold(a, 'cache-behind-hold', { amount: 40, code: 'redemption', ttlSeconds: 60 });
    expect(hold.status, hold.text).toBe(201);
    await leaveCacheBehind('cache-behind-hold', before);

    clock.advance({ seconds: 61 });
    await instances[1]?.built.services.ledger.sweep();
    const timeouts = (await historyOf(a, 'cache-behind-hold')).filter((e) => e.code === 'hold_timeout');
    expect(timeouts).toHaveLength(1);
    expect(await balanceOf(a, 'cache-behind-hold')).toMatchObject({ available: 100, held: 0, seq: 3 });
    await expectLedgerClean(instances);
  });

  it('when a racing process left the account cache from before an earn, then the sweep still expires its lot when due', async () => {
    await registerMember(a, 'cache-behind-lot');
    const before = await cacheOf('cache-behind-lot');
    await earned(a, 'cache-behind-lot', 70, { expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString() });
    await leaveCacheBehind('cache-behind-lot', before ?? { _id: 'cache-behind-lot', seq: 0 });

    clock.advance({ hours: 2 });
    await instances[2]?.built.services.ledger.sweep();
    const expiries = (await historyOf(a, 'cache-behind-lot')).filter((e) => e.kind === 'expire');
    expect(expiries.map((e) => e.points)).toEqual([70]);
    expect((await balanceOf(a, 'cache-behind-lot')).lifetime.expired).toBe(70);
  });

  it('when every process ticks its sweep timer at the same moment, then exactly one of them sweeps', async () => {
    await registerMember(a, 'one-sweeper');
    await earned(a, 'one-sweeper', 10, { expiresAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    clock.advance({ minutes: 5 });
    const ticks = await Promise.all(instances.map((api) => api.built.sweepTick(60_000)));
    expect(ticks.filter((t) => t.ran)).toHaveLength(1);
    expect(ticks.reduce((sum, t) => sum + t.done, 0)).toBeGreaterThanOrEqual(1);
    expect((await balanceOf(a, 'one-sweeper')).lifetime.expired).toBe(10);
  });
});

describe('what a balance shows before the sweep', () => {
  it('when a hold is past its time but not yet swept, then the balance already shows its points as available', async () => {
    await registerMember(a, 'timed-out-view');
    await earned(a, 'timed-out-view', 100);
    const hold = await points.hold(a, 'timed-out-view', { amount: 40, code: 'redemption', ttlSeconds: 60 });
    expect(hold.status, hold.text).toBe(201);
    expect(await balanceOf(a, 'timed-out-view')).toMatchObject({ available: 60, held: 40 });
    clock.advance({ seconds: 61 });
    for (const api of instances) expect(await balanceOf(api, 'timed-out-view')).toMatchObject({ available: 100, held: 0, seq: 2 });
  });
});

describe('the accounts cache', () => {
  it('when a background write of the accounts cache fails, then it is written again, not dropped', async () => {
    const faults = new ArmedFaults();
    const api = await startTestApp({ dbName: a.dbName, clock, faults });
    try {
      await registerMember(api, 'cache-retry');
      faults.arm('points:account-cache-write');
      await earned(api, 'cache-retry', 25);
      await api.built.flush();
      expect(await a.db.collection('points_accounts').findOne({ _id: 'cache-retry' as never })).toMatchObject({ seq: 1, state: { available: 25 } });
    } finally {
      await api.close({ keepDatabase: true });
    }
  });
});
