import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/platform/clock.js';
import { ArmedFaults } from '../src/platform/faults.js';
import { freshDbName, ops, service, startTestApp, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';
import { balanceOf, expectLedgerClean, historyOf, registerMember } from './helpers/ledger.js';

/** A rule's cap slots, capped events crashing on one instance and retried on another past the 30 s lease. */
const dbName = freshDbName('events_caps');
const START = new Date('2026-03-03T08:00:00Z');
const CAP = 50;
const DAILY_CAP_REACHED = 'the daily cap of this rule is reached';

const putRule = (api: TestApp, code: string, body: unknown) => api.request('PUT', `/v1/admin/earning-rules/${code}`, { token: ops, body });
const shareRule = (code: string, perDay: number) => ({ name: `${code}: 1 point a share`, eventType: 'content.shared', points: { kind: 'fixed', amount: 1 }, caps: { perDay } });
const shared = (api: TestApp, memberId: string, n: number) =>
  api.request('POST', '/v1/events', { token: service, body: { eventId: `share-${memberId}-${n}`, memberId, type: 'content.shared', occurredAt: START.toISOString(), properties: {} } });

/**
 * Counts the reads and writes an instance sends to the cap slots of counters starting with `prefix` (mongoose's
 * per-connection debug hook sees every collection call with its filter or document).
 */
function countSlotOps(api: TestApp, prefix: string): { take(): number } {
  let count = 0;
  api.db.set('debug', (collection: string, _method: string, arg: { _id?: unknown } | undefined) => {
    if (collection === 'earning_rule_slots' && typeof arg?._id === 'string' && arg._id.startsWith(prefix)) count++;
  });
  return {
    take() {
      const n = count;
      count = 0;
      return n;
    },
  };
}

let observer: TestApp;
beforeAll(async () => {
  observer = await startTestApp({ dbName, clock: new ManualClock(START) });
});
afterAll(async () => {
  await observer.close();
});

describe('cap slots', () => {
  it('when 51 events of a rule capped at 50 a day arrive, then 50 pay, the 51st is refused with the cap, and crashed events retried pay once', async () => {
    const m = 'capped-50';
    const faults = new ArmedFaults();
    const crashed = await startTestApp({ dbName, faults, clock: new ManualClock(START) });
    try {
      expect((await putRule(crashed, 'share-50', shareRule('share-50', CAP))).status).toBe(201);
      await registerMember(crashed, m);
      const slotOps = countSlotOps(crashed, `share-50|${m}|`);
      const costs: number[] = [];
      for (let n = 1; n <= CAP - 2; n++) {
        const res = await shared(crashed, m, n);
        expect(res.status, res.text).toBe(201);
        expect(res.body.effects.points).toEqual([{ rule: 'share-50', points: 1, entryId: expect.any(String) }]);
        costs.push(slotOps.take());
      }
      // Finding the highest taken slot is a search over contiguous slots read by _id, then one insert.
      expect(Math.max(...costs)).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(CAP)) + 2);

      faults.arm('event:before-decision'); // slot 49 taken, nothing decided or paid
      expectError(await shared(crashed, m, CAP - 1), 500, 'INTERNAL');
      faults.arm('event:before-order-links'); // slot 50 taken, decided and paid
      expectError(await shared(crashed, m, CAP), 500, 'INTERNAL');
      const refused = await shared(crashed, m, CAP + 1);
      expect(refused.status, refused.text).toBe(201);
      expect(refused.body.effects.points).toEqual([]);
      expect(refused.body.effects.notFired).toEqual([{ rule: 'share-50', reason: DAILY_CAP_REACHED }]);
      expect(await balanceOf(crashed, m)).toMatchObject({ available: CAP - 1 });
    } finally {
      await crashed.close({ keepDatabase: true });
    }

    const restarted = await startTestApp({ dbName, clock: new ManualClock(new Date(START.getTime() + 31_000)) });
    try {
      const undecided = await shared(restarted, m, CAP - 1);
      expect(undecided.status, undecided.text).toBe(201);
      expect(undecided.body.effects.points).toEqual([{ rule: 'share-50', points: 1, entryId: expect.any(String) }]);
      const paid = await shared(restarted, m, CAP);
      expect(paid.status, paid.text).toBe(201);
      const history = await historyOf(restarted, m);
      const landed = history.find((e) => e.ref?.id === `share-${m}-${CAP}`);
      expect(paid.body.effects.points).toEqual([{ rule: 'share-50', points: 1, entryId: landed.id }]);

      const afterRetries = await shared(restarted, m, CAP + 2);
      expect(afterRetries.body.effects.notFired).toEqual([{ rule: 'share-50', reason: DAILY_CAP_REACHED }]);
      expect(history.filter((e) => e.kind === 'earn')).toHaveLength(CAP);
      expect(await balanceOf(restarted, m)).toMatchObject({ available: CAP });
      await expectLedgerClean([restarted]);
    } finally {
      await restarted.close({ keepDatabase: true });
    }
  });

  it('when many capped events of one member race, then exactly the cap pays', async () => {
    const m = 'capped-race';
    expect((await putRule(observer, 'share-5', shareRule('share-5', 5))).status).toBe(201);
    await registerMember(observer, m);
    const results = await Promise.all(Array.from({ length: 16 }, (_, n) => shared(observer, m, n)));
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(201));
    expect(results.filter((r) => r.body.effects.points.some((p: { rule: string }) => p.rule === 'share-5'))).toHaveLength(5);
    expect(results.filter((r) => r.body.effects.notFired.some((f: { reason: string }) => f.reason === DAILY_CAP_REACHED))).toHaveLength(11);
    expect((await balanceOf(observer, m)).available).toBe(5 + 16); // share-50 pays each of them too
  });
});
