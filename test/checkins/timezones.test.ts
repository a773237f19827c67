import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { available, calendar, checkedIn, checkIn, configure, makeUp, memberIn } from '../helpers/checkins.js';
import { expectError } from '../helpers/expect.js';
import { earned } from '../helpers/ledger.js';

/** Time zones through the injectable clock: the member's local day decides, whatever the server's clock says. */
let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
  await configure(api);
});
afterAll(async () => {
  await api.close();
});

let n = 0;
const fresh = (tz: string) => memberIn(api, `tz-${++n}`, tz);
/** The member changes its own time zone, as the app does when the phone's changes. */
const moveTo = async (memberId: string, timezone: string) => {
  const res = await api.request('PATCH', `/v1/members/${memberId}`, { token: tokenFor('member', memberId), body: { timezone } });
  expect(res.status, res.text).toBe(200);
};

describe('local days at the edges of the world', () => {
  it('when a member at UTC+14 checks in at 23:59 and again at 00:01 local, then those are two days in a row', async () => {
    api.clock.set('2026-03-01T09:00:00Z');
    const m = await fresh('Pacific/Kiritimati');
    api.clock.set('2026-03-01T09:59:00Z'); // 23:59 on 1 March in Kiritimati
    await checkedIn(api, m, '2026-03-01');
    api.clock.set('2026-03-01T10:01:00Z'); // 00:01 on 2 March
    const second = await checkedIn(api, m, '2026-03-02');
    expect(second.body.streak).toBe(2);
  });

  it('when a member at UTC−11 checks in at 23:59 on the last day of February and at 00:01 on 1 March, then the streak crosses the month', async () => {
    api.clock.set('2026-02-27T00:00:00Z');
    const m = await fresh('Pacific/Pago_Pago');
    api.clock.set('2026-03-01T10:59:00Z'); // 23:59 on 28 February in Pago Pago, already 1 March in UTC
    await checkedIn(api, m, '2026-02-28');
    api.clock.set('2026-03-01T11:01:00Z'); // 00:01 on 1 March
    const second = await checkedIn(api, m, '2026-03-01');
    expect(second.body.streak).toBe(2);
    expect((await calendar(api, m, '2026-02')).days).toEqual([{ day: '2026-02-28', makeup: false }]);
    expect((await calendar(api, m)).days).toEqual([{ day: '2026-03-01', makeup: false }]);
  });

  it('when members at UTC+14 and UTC−11 tap at the same instant, then each gets its own local day', async () => {
    api.clock.set('2026-03-20T00:00:00Z');
    const east = await fresh('Pacific/Kiritimati');
    const west = await fresh('Pacific/Pago_Pago');
    api.clock.set('2026-03-21T10:30:00Z');
    await checkedIn(api, east, '2026-03-22'); // 00:30 on the 22nd
    await checkedIn(api, west, '2026-03-20'); // 23:30 on the 20th
  });
});

describe('a time zone change mid-streak', () => {
  it('when a member moves west after checking in, then the earlier date it now sees cannot be checked in, and the streak goes on the next day', async () => {
    api.clock.set('2026-03-09T01:00:00Z');
    const m = await fresh('Asia/Shanghai');
    await checkedIn(api, m, '2026-03-09');
    api.clock.set('2026-03-10T01:00:00Z'); // 09:00 on the 10th in Shanghai
    await checkedIn(api, m, '2026-03-10');
    await moveTo(m, 'America/Los_Angeles'); // now 18:00 on the 9th there
    const earlier = await checkIn(api, m);
    expectError(earlier, 409, 'ALREADY_CHECKED_IN');
    api.clock.set('2026-03-11T02:00:00Z'); // 25 h later; 19:00 on the 10th in Los Angeles: still a day already checked
    expectError(await checkIn(api, m), 409, 'ALREADY_CHECKED_IN');
    api.clock.set('2026-03-11T08:00:00Z'); // 01:00 on the 11th in Los Angeles
    const next = await checkedIn(api, m, '2026-03-11');
    expect(next.body.streak).toBe(3);
    expect(await available(api, m)).toBe(5 + 5 + 110);
  });

  it('when a member moves east right after checking in, then the next local date waits 24 h from the last check-in', async () => {
    api.clock.set('2026-03-10T00:00:00Z');
    const m = await fresh('Pacific/Pago_Pago');
    await earned(api, m, 100);
    api.clock.set('2026-03-10T12:00:00Z'); // 01:00 on the 10th in Pago Pago
    await checkedIn(api, m, '2026-03-10');
    await moveTo(m, 'Pacific/Kiritimati'); // now 02:00 on the 11th there
    const soon = await checkIn(api, m);
    expectError(soon, 409, 'ALREADY_CHECKED_IN');
    expect(soon.body.error.details).toEqual({ day: '2026-03-10', nextCheckinAt: '2026-03-11T12:00:00.000Z' });
    api.clock.set('2026-03-11T11:59:59Z');
    expectError(await checkIn(api, m), 409, 'ALREADY_CHECKED_IN');
    api.clock.set('2026-03-11T12:00:00Z'); // 02:00 on the 12th in Kiritimati: the 11th passed while waiting
    const later = await checkedIn(api, m, '2026-03-12');
    expect(later.body.streak).toBe(1);
    // The day the move swallowed can be made up, which joins the runs again.
    const filled = await makeUp(api, m, '2026-03-11');
    expect(filled.status, filled.text).toBe(201);
    expect(filled.body).toMatchObject({ day: '2026-03-11', makeup: true, streak: 3, reward: { cycleDay: 2, milestones: [{ streak: 3 }] } });
  });
});

describe('daylight saving time', () => {
  it('when New York springs forward, then the 23-hour day is one day: 23:30 EST, 00:30 and 23:30 EDT, 00:10 the next day', async () => {
    api.clock.set('2026-03-07T12:00:00Z');
    const m = await fresh('America/New_York');
    api.clock.set('2026-03-08T04:30:00Z'); // 23:30 EST on the 7th
    await checkedIn(api, m, '2026-03-07');
    api.clock.set('2026-03-08T05:30:00Z'); // 00:30 EST on the 8th
    await checkedIn(api, m, '2026-03-08');
    api.clock.set('2026-03-09T03:30:00Z'); // 23:30 EDT on the 8th (clocks went forward at 02:00)
    expectError(await checkIn(api, m), 409, 'ALREADY_CHECKED_IN');
    api.clock.set('2026-03-09T04:10:00Z'); // 00:10 EDT on the 9th
    const third = await checkedIn(api, m, '2026-03-09');
    expect(third.body.streak).toBe(3);
  });

  it('when London falls back, then the 25-hour day is one day: a tap at 23:30 GMT is the same day as one at 00:30 BST', async () => {
    api.clock.set('2026-10-24T12:00:00Z');
    const m = await fresh('Europe/London');
    api.clock.set('2026-10-24T23:30:00Z'); // 00:30 BST on the 25th
    await checkedIn(api, m, '2026-10-25');
    api.clock.set('2026-10-25T23:30:00Z'); // 24 h later, 23:30 GMT: still the 25th
    expectError(await checkIn(api, m), 409, 'ALREADY_CHECKED_IN');
    api.clock.set('2026-10-26T00:00:00Z');
    const next = await checkedIn(api, m, '2026-10-26');
    expect(next.body.streak).toBe(2);
    const cal = await calendar(api, m);
    expect(cal.tomorrow).toMatchObject({ day: '2026-10-27', cycleDay: 3 });
  });
});
