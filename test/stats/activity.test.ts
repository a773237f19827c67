import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { cancelVoucher, defineBenefit, issued, memberWith, stockLeft, useVoucher } from '../helpers/benefits.js';
import { checkedIn, configure, makeUp, memberIn } from '../helpers/checkins.js';
import { closeThrough, on, report } from '../helpers/stats.js';
import { basicProgram, codeOf, invite, order, putProgram, register } from '../referrals/helpers.js';

let api: TestApp;
beforeEach(async () => {
  api = await startTestApp(); // UTC program zone
});
afterEach(async () => {
  await api.close();
});

describe('check-in stats', () => {
  it('when a member checks in, misses a day and makes it up, then check-ins and make-ups count on the day they were made and each checked day by its run', async () => {
    await configure(api);
    api.clock.set('2026-03-01T09:00:00Z');
    const m = await memberIn(api, 'ck-1', 'UTC');
    for (const day of ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-05']) {
      api.clock.set(`${day}T09:00:00Z`);
      await checkedIn(api, m, day); // runs 1, 2, 3, then 1
    }
    const made = await makeUp(api, m, '2026-03-04'); // joins 1–5: a run of 5
    expect(made.status, made.text).toBe(201);
    const check = (body: any) => {
      expect(body.intervals.map((i: any) => [i.start, i.checkins, i.makeups])).toEqual([
        ['2026-03-01', 1, 0], ['2026-03-02', 1, 0], ['2026-03-03', 1, 0], ['2026-03-04', 0, 0], ['2026-03-05', 1, 1],
      ]);
      expect(body.totals).toEqual({ checkins: 4, makeups: 1 });
      expect(body.streaks).toEqual([
        { streak: '1', days: 2 }, { streak: '2-3', days: 2 }, { streak: '4-6', days: 1 }, { streak: '7-13', days: 0 }, { streak: '14-29', days: 0 }, { streak: '30+', days: 0 },
      ]);
    };
    check(await report(api, 'checkins', { from: '2026-03-01', to: '2026-03-05' }));
    await closeThrough(api, '2026-03-05');
    check(await report(api, 'checkins', { from: '2026-03-01', to: '2026-03-05' }));
    const weekly = await report(api, 'checkins', { from: '2026-03-01', to: '2026-03-05', interval: 'week' });
    expect(weekly.intervals).toEqual([
      { start: '2026-03-01', end: '2026-03-01', checkins: 1, makeups: 0 }, // a Sunday: the rest of its week is before the range
      { start: '2026-03-02', end: '2026-03-05', checkins: 3, makeups: 1 },
    ]);
  });
});

describe('referral stats', () => {
  it('when friends bind a code and one of them orders, then the funnel counts each step on its day and the referrer tops the list', async () => {
    await putProgram(api, basicProgram());
    await register(api, 'ref-a');
    await register(api, 'ref-b');
    const [a, b] = [await codeOf(api, 'ref-a'), await codeOf(api, 'ref-b')];
    await invite(api, a, 'fr-1');
    await invite(api, a, 'fr-2');
    await invite(api, b, 'fr-3');
    api.clock.set('2026-03-02T10:00:00Z');
    expect((await order(api, 'fr-1', 'SO-1', 120)).status).toBe(201); // qualified and paid at once (no review, no hold)
    const check = (body: any) => {
      expect(on(body, '2026-03-01')).toMatchObject({ bound: 3, qualified: 0, rewarded: 0, review: 0, rejected: 0, reversed: 0, expired: 0 });
      expect(on(body, '2026-03-02')).toMatchObject({ bound: 0, qualified: 1, rewarded: 1, review: 0 });
      expect(body.totals).toMatchObject({ bound: 3, qualified: 1, rewarded: 1 });
      expect(body.topReferrers).toEqual([{ memberId: 'ref-a', invites: 2 }, { memberId: 'ref-b', invites: 1 }]);
    };
    check(await report(api, 'referrals', { from: '2026-03-01', to: '2026-03-02' }));
    await closeThrough(api, '2026-03-02');
    check(await report(api, 'referrals', { from: '2026-03-01', to: '2026-03-02' }));
    expect((await report(api, 'referrals', { from: '2026-03-01', to: '2026-03-02', top: 1 })).topReferrers).toEqual([{ memberId: 'ref-a', invites: 2 }]);
  });
});

describe('benefit stats', () => {
  it('when vouchers are issued, used and cancelled, then each benefit counts them, its use rate and the stock left, and the points report sees the spend and its refund', async () => {
    await defineBenefit(api, 'coffee', { stock: 10 });
    await defineBenefit(api, 'tote', { name: 'Tote bag', stock: null, costPoints: 50 });
    await memberWith(api, 'bn-1', 1000);
    const first = await issued(api, 'bn-1', 'coffee');
    const second = await issued(api, 'bn-1', 'coffee');
    api.clock.set('2026-03-02T10:00:00Z');
    expect((await useVoucher(api, first.id)).status).toBe(200);
    expect((await cancelVoucher(api, second.id, tokenFor('member', 'bn-1'))).status).toBe(200);
    const left = await stockLeft(api, 'coffee', 'bn-1');
    expect(left).toBe(9);
    const check = (body: any) => {
      expect(on(body, '2026-03-01')).toMatchObject({ issued: 2, used: 0, cancelled: 0, expired: 0 });
      expect(on(body, '2026-03-02')).toMatchObject({ issued: 0, used: 1, cancelled: 1, expired: 0 });
      expect(body.benefits).toEqual([
        { code: 'coffee', name: 'Coffee coupon', issued: 2, used: 1, cancelled: 1, expired: 0, useRate: 0.5, stockLeft: 9 },
        { code: 'tote', name: 'Tote bag', issued: 0, used: 0, cancelled: 0, expired: 0, useRate: null, stockLeft: null },
      ]);
    };
    check(await report(api, 'benefits', { from: '2026-03-01', to: '2026-03-02' }));
    await closeThrough(api, '2026-03-02');
    check(await report(api, 'benefits', { from: '2026-03-01', to: '2026-03-02' }));
    const pts = await report(api, 'points', { from: '2026-03-01', to: '2026-03-02' });
    expect(on(pts, '2026-03-01')).toMatchObject({ earned: 1000, spent: 200, liability: { points: 800 } });
    expect(on(pts, '2026-03-02')).toMatchObject({ spent: 0, reversed: { earned: 0, spent: 100 }, liability: { points: 900 } });
  });
});
