import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { checkedIn, configure, memberIn } from '../helpers/checkins.js';
import { earned, points, registerMember } from '../helpers/ledger.js';
import { closeThrough, on, report } from '../helpers/stats.js';

/** The program runs on Shanghai's calendar (UTC+8): its day 2026-03-02 is 2026-03-01T16:00Z to 2026-03-02T16:00Z. */
let api: TestApp;
beforeEach(async () => {
  api = await startTestApp({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
});
afterEach(async () => {
  await api.close();
});

describe('stats on the program’s calendar', () => {
  it('when records fall on both sides of Shanghai’s midnight within one UTC day, then each counts on its local day, live and once the days are closed', async () => {
    await configure(api);
    api.clock.set('2026-03-01T15:30:00Z'); // 23:30 on 03-01 in Shanghai
    await registerMember(api, 'tz-a');
    await memberIn(api, 'tz-b', 'Asia/Shanghai');
    await earned(api, 'tz-a', 10);
    await checkedIn(api, 'tz-b', '2026-03-01'); // pays 5 points (the cycle's first day)
    api.clock.set('2026-03-01T16:30:00Z'); // 00:30 on 03-02 in Shanghai, still 03-01 in UTC
    await earned(api, 'tz-a', 20);
    expect((await points.spend(api, 'tz-a', { amount: 7, code: 'redemption' })).status).toBe(201);
    await checkedIn(api, 'tz-b', '2026-03-02'); // pays 5
    await registerMember(api, 'tz-c');
    api.clock.set('2026-03-02T15:59:00Z'); // 23:59 on 03-02 in Shanghai
    await earned(api, 'tz-c', 1);

    const check = async () => {
      const pts = await report(api, 'points', { from: '2026-03-01', to: '2026-03-02' });
      expect(pts.timezone).toBe('Asia/Shanghai');
      expect(on(pts, '2026-03-01')).toMatchObject({ earned: 15, spent: 0, liability: { asOf: '2026-03-01T16:00:00.000Z', points: 15 } });
      expect(on(pts, '2026-03-02')).toMatchObject({ earned: 26, spent: 7, liability: { points: 34 } });
      const ck = await report(api, 'checkins', { from: '2026-03-01', to: '2026-03-02' });
      expect(ck.intervals.map((i: any) => i.checkins)).toEqual([1, 1]);
      const mb = await report(api, 'members', { from: '2026-03-01', to: '2026-03-02' });
      expect(mb.intervals.map((i: any) => i.new)).toEqual([2, 1]);
      expect(on(mb, '2026-03-01').atEnd.members).toBe(2);
    };
    await check();
    await closeThrough(api, '2026-03-02', 8); // Shanghai's 03-03 01:00 + 1 h: 2026-03-02T18:00Z
    expect(api.clock.now().toISOString()).toBe('2026-03-02T18:00:00.000Z');
    await check();
  });
});
