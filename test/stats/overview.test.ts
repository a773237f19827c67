import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { earned, registerMember } from '../helpers/ledger.js';
import { closeThrough, report } from '../helpers/stats.js';

let api: TestApp;
beforeEach(async () => {
  api = await startTestApp({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
});
afterEach(async () => {
  await api.close();
});

/** A report without the instant it was made at, which differs between two calls. */
const figures = ({ generatedAt: _g, ...rest }: any) => rest;

describe('the stats overview', () => {
  it('when ops read the overview, then it holds exactly what the points, members, check-ins and referrals reports say, closed and open days alike', async () => {
    for (const m of ['o1', 'o2']) await registerMember(api, m);
    await earned(api, 'o1', 300);
    await earned(api, 'o2', 120);
    const spend = await api.request('POST', '/v1/members/o1/points/spend', { token: service, body: { amount: 50, code: 'redemption' }, headers: { 'idempotency-key': 'ov-spend-1' } });
    expect(spend.status, spend.text).toBe(201);
    await closeThrough(api, '2026-03-01', 8);
    api.clock.set('2026-03-02T03:00:00Z'); // 11:00 in Shanghai, an open day
    await registerMember(api, 'o3');
    await earned(api, 'o3', 40);
    const checkin = await api.request('POST', '/v1/me/checkins', { token: tokenFor('member', 'o3'), headers: { 'idempotency-key': 'ov-checkin-1' } });
    expect(checkin.status, checkin.text).toBe(201);

    const query = { from: '2026-02-28', to: '2026-03-02', interval: 'day' };
    const overview = await report(api, 'overview', query);
    expect(figures(overview.points)).toEqual(figures(await report(api, 'points', query)));
    expect(figures(overview.members)).toEqual(figures(await report(api, 'members', query)));
    expect(figures(overview.checkins)).toEqual(figures(await report(api, 'checkins', query)));
    expect(figures(overview.referrals)).toEqual(figures(await report(api, 'referrals', query)));
    expect(overview.points.totals).toMatchObject({ earned: 465, spent: 50 }); // 300 + 120 + 40 earned, and the check-in's 5
    expect(overview.checkins.totals.checkins).toBe(1);
    expect(overview.members.intervals.map((i: any) => i.new)).toEqual([0, 2, 1]);
  });

  it('when the overview is asked badly or by another role, then it is refused like every report', async () => {
    expect((await api.request('GET', '/v1/admin/stats/overview?from=2026-03-02&to=2026-03-01', { token: ops })).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/stats/overview?from=2026-03-01&to=2026-03-01', { token: service })).status).toBe(403);
  });
});
