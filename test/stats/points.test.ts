import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { earned, expectLedgerClean, points, registerMember } from '../helpers/ledger.js';
import { closeThrough, on, report } from '../helpers/stats.js';

let api: TestApp;
beforeEach(async () => {
  api = await startTestApp(); // UTC program zone, 2026-03-01T08:00Z
});
afterEach(async () => {
  await api.close();
});

const range = { from: '2026-03-01', to: '2026-03-05', interval: 'day' };

/**
 * A: earns 100 (expiring 03-05 00:00) and 50; spends 30 on 03-02 (from the 100); 20 of the 50 is taken back on 03-03;
 * the 70 left of the 100 expire on 03-05. B: earns 200, spends 50, ops add 10 and take 5.
 */
async function seedHistory(): Promise<void> {
  await registerMember(api, 'pa');
  await registerMember(api, 'pb');
  await earned(api, 'pa', 100, { expiresAt: '2026-03-05T00:00:00Z' });
  const fifty = await earned(api, 'pa', 50);
  await earned(api, 'pb', 200);
  api.clock.set('2026-03-02T09:00:00Z');
  expect((await points.spend(api, 'pa', { amount: 30, code: 'redemption' })).status).toBe(201);
  expect((await points.spend(api, 'pb', { amount: 50, code: 'redemption' })).status).toBe(201);
  api.clock.set('2026-03-03T09:00:00Z');
  expect((await points.reverse(api, fifty.body.entry.id, { amount: 20, code: 'order_refund' })).status).toBe(201);
  expect((await points.adjust(api, 'pb', { delta: 10, code: 'goodwill', reason: 'late parcel' })).status).toBe(201);
  expect((await points.adjust(api, 'pb', { delta: -5, code: 'correction', reason: 'double credit' })).status).toBe(201);
  api.clock.set('2026-03-05T01:00:00Z');
  await api.built.flush();
  await api.built.sweep();
}

describe('points stats', () => {
  it('when a history of earns, spends, a reversal, adjustments and an expiry is read by day, then each figure is the hand-computed one, before and after the days close', async () => {
    await seedHistory();
    const expected = {
      '2026-03-01': { earned: 350, spent: 0, expired: 0, reversed: { earned: 0, spent: 0 }, adjusted: { credited: 0, debited: 0 }, net: 350, liability: 350 },
      '2026-03-02': { earned: 0, spent: 80, expired: 0, reversed: { earned: 0, spent: 0 }, adjusted: { credited: 0, debited: 0 }, net: -80, liability: 270 },
      '2026-03-03': { earned: 0, spent: 0, expired: 0, reversed: { earned: 20, spent: 0 }, adjusted: { credited: 10, debited: 5 }, net: -15, liability: 255 },
      '2026-03-04': { earned: 0, spent: 0, expired: 0, reversed: { earned: 0, spent: 0 }, adjusted: { credited: 0, debited: 0 }, net: 0, liability: 255 },
      '2026-03-05': { earned: 0, spent: 0, expired: 70, reversed: { earned: 0, spent: 0 }, adjusted: { credited: 0, debited: 0 }, net: -70, liability: 185 },
    };
    const check = (body: any) => {
      for (const [day, e] of Object.entries(expected)) {
        const { liability, ...flows } = e;
        expect(on(body, day), day).toMatchObject({ ...flows, liability: { points: liability } });
      }
      expect(body.totals).toMatchObject({ earned: 350, spent: 80, expired: 70, net: 185, redemptionRate: 0.228571, breakageRate: 0.2 });
    };
    const live = await report(api, 'points', range);
    expect(live.closedThrough).toBeNull();
    check(live);

    await closeThrough(api, '2026-03-05');
    const closed = await report(api, 'points', range);
    expect(closed.closedThrough).toBe('2026-03-05');
    check(closed);
    // What members hold equals the liability: 30 for pa (150 − 30 − 20 − 70), 155 for pb.
    const report2 = await expectLedgerClean([api]);
    expect(report2.violations).toEqual([]);
  });

  it('when points expire at different times, then the next 30 and 90 days count what is not spent yet of each, closed days or not', async () => {
    await registerMember(api, 'px');
    await earned(api, 'px', 40, { expiresAt: '2026-03-20T00:00:00Z' });
    await earned(api, 'px', 60, { expiresAt: '2026-05-01T00:00:00Z' });
    await earned(api, 'px', 500, { expiresAt: '2026-12-01T00:00:00Z' });
    expect((await points.spend(api, 'px', { amount: 15, code: 'redemption' })).status).toBe(201); // from the soonest: 25 left of 40
    const hold = await points.hold(api, 'px', { amount: 5, code: 'redemption' }); // held points are not "expiring"
    expect(hold.status, hold.text).toBe(201);
    const live = await report(api, 'points', { from: '2026-03-01', to: '2026-03-01' });
    expect(live.expiring).toMatchObject({ next30Days: 20, next90Days: 80 });
    await points.capture(api, hold.body.hold.id, { amount: 5 });
    await closeThrough(api, '2026-03-01');
    const closed = await report(api, 'points', { from: '2026-03-01', to: '2026-03-02' });
    expect(closed.expiring).toMatchObject({ next30Days: 20, next90Days: 80 });
    expect(on(closed, '2026-03-01')).toMatchObject({ earned: 600, spent: 20, liability: { points: 580 } });
  });
});
