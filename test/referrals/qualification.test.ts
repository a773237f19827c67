import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { freshDbName, ops, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { expectLedgerClean } from '../helpers/ledger.js';
import { available, basicProgram, codeOf, invite, myReferral, order, putProgram, referralEffect, referralOf, register } from './helpers.js';

const clock = new ManualClock('2026-03-01T08:00:00Z');
/** Crash points of instance a (instances b and c have none). */
const faults = new ArmedFaults();
let a: TestApp;
let b: TestApp;
let c: TestApp;
beforeAll(async () => {
  const dbName = freshDbName('referrals');
  a = await startTestApp({ dbName, clock, faults });
  b = await startTestApp({ dbName, clock });
  c = await startTestApp({ dbName, clock });
  await putProgram(a, basicProgram({ qualifying: { minAmount: 100, withinDays: 14 } }));
});
afterAll(async () => {
  await c.close({ keepDatabase: true });
  await b.close({ keepDatabase: true });
  await a.close();
});

let n = 0;
/** A referrer and one invitee bound to it at registration. */
async function pair(prefix: string): Promise<{ referrer: string; invitee: string }> {
  const referrer = `${prefix}-ref-${++n}`;
  const invitee = `${prefix}-inv-${n}`;
  await register(a, referrer);
  await invite(a, await codeOf(a, referrer), invitee);
  return { referrer, invitee };
}

describe('qualification by the invitee’s first qualifying event only', () => {
  it('when the invitee pays a first order at the minimum, then both sides are paid and the answer says so; a replay changes nothing', async () => {
    const { referrer, invitee } = await pair('q');
    const eventId = `first-order-${n}`;
    const res = await order(a, invitee, 'SO-1', 100, { eventId });
    expect(referralEffect(res)).toEqual({
      invitee, referrer, outcome: 'qualified', reason: null, state: 'rewarded', reviewReasons: [], milestones: [],
      rewards: { referrer: { points: 100, benefitCode: null }, invitee: { points: 50, benefitCode: null }, availableAt: clock.now().toISOString() },
    });
    const replay = await order(a, invitee, 'SO-1', 100, { eventId });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(res.body);
    expect([await available(a, referrer), await available(a, invitee)]).toEqual([100, 50]);
    expect(await referralOf(a, invitee)).toMatchObject({ state: 'rewarded', orderId: 'SO-1', qualifiedAt: clock.now().toISOString() });
    expect((await myReferral(a, referrer)).invitees).toEqual([{ name: expect.stringMatching(/\*\*\*$/), state: 'rewarded', boundAt: expect.any(String) }]);
  });

  it('when a second order follows, or an order below the minimum, or one that happened before the binding, then none of them qualifies or pays', async () => {
    const { referrer, invitee } = await pair('q2');
    const before = new Date(clock.now().getTime() - 60_000);
    const early = referralEffect(await order(a, invitee, 'SO-early', 500, { occurredAt: before }));
    expect(early).toMatchObject({ outcome: 'not-qualified', state: 'bound', reason: 'the event happened before the member was bound to its referrer', rewards: null });
    const small = referralEffect(await order(a, invitee, 'SO-small', 99.99));
    expect(small).toMatchObject({ outcome: 'not-qualified', state: 'bound', reason: 'the amount is below the minimum of 100' });
    expect(referralEffect(await order(a, invitee, 'SO-big', 150)).outcome).toBe('qualified');
    const second = referralEffect(await order(a, invitee, 'SO-next', 900));
    expect(second).toMatchObject({ outcome: 'not-qualified', state: 'rewarded', reason: 'the referral was qualified by another event', rewards: null });
    expect([await available(a, referrer), await available(a, invitee)]).toEqual([100, 50]);
    expect((await referralOf(a, invitee)).orderId).toBe('SO-big');
  });

  it('when orders arrive out of order, then the first to arrive within the window qualifies and the earlier-dated one that arrives later does not', async () => {
    const { invitee } = await pair('ooo');
    clock.advance({ hours: 2 });
    const later = referralEffect(await order(a, invitee, 'SO-later', 200));
    expect(later.outcome).toBe('qualified');
    const earlier = referralEffect(await order(a, invitee, 'SO-earlier', 300, { occurredAt: new Date(clock.now().getTime() - 3_600_000) }));
    expect(earlier).toMatchObject({ outcome: 'not-qualified', reason: 'the referral was qualified by another event' });
    expect((await referralOf(a, invitee)).orderId).toBe('SO-later');
  });

  it('when the invitee does not qualify within withinDays, then the sweep expires the referral and a later order pays nothing', async () => {
    const { referrer, invitee } = await pair('exp');
    clock.advance({ days: 13 });
    await a.built.sweep();
    expect((await referralOf(a, invitee)).state).toBe('bound');
    clock.advance({ days: 1 });
    await a.built.sweep();
    expect((await referralOf(a, invitee)).state).toBe('expired');
    const late = referralEffect(await order(a, invitee, 'SO-late', 500));
    expect(late).toMatchObject({ outcome: 'not-qualified', state: 'expired', reason: 'the referral expired' });
    expect([await available(a, referrer), await available(a, invitee)]).toEqual([0, 0]);
  });

  it('when an order dated after the window arrives before the sweep, then it does not qualify', async () => {
    const { invitee } = await pair('after');
    clock.advance({ days: 14, seconds: 1 });
    expect(referralEffect(await order(a, invitee, 'SO-after', 500))).toMatchObject({ outcome: 'not-qualified', state: 'bound', reason: 'the event happened after the qualifying window closed' });
  });
});

describe('paid exactly once', () => {
  it('when twelve different orders of the invitee race on three instances, then one qualifies and each side is paid once, also after all three sweep', async () => {
    const { referrer, invitee } = await pair('conc');
    const apps = [a, b, c];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => order(apps[i % 3]!, invitee, `SO-c${i}`, 100 + i)));
    const effects = results.map(referralEffect);
    expect(effects.filter((e) => e.outcome === 'qualified')).toHaveLength(1);
    expect(effects.filter((e) => e.outcome === 'not-qualified').every((e) => e.reason === 'the referral was qualified by another event')).toBe(true);
    clock.advance({ minutes: 2 });
    await Promise.all(apps.map((app) => app.built.sweep()));
    expect([await available(a, referrer), await available(b, invitee), await available(c, referrer)]).toEqual([100, 50, 100]);
    await expectLedgerClean(apps);
  });

  it('when nine invitees of one referrer qualify at once on three instances, then the referrer is paid nine times and each invitee once', async () => {
    const referrer = `hot-ref-${++n}`;
    await register(a, referrer);
    const code = await codeOf(a, referrer);
    const invitees = Array.from({ length: 9 }, (_, i) => `hot-inv-${n}-${i}`);
    for (const invitee of invitees) await invite(a, code, invitee);
    const apps = [a, b, c];
    const results = await Promise.all(invitees.map((invitee, i) => order(apps[i % 3]!, invitee, `SO-hot-${i}`, 200)));
    expect(results.map((r) => referralEffect(r).outcome)).toEqual(invitees.map(() => 'qualified'));
    clock.advance({ minutes: 2 });
    await Promise.all(apps.map((app) => app.built.sweep()));
    expect(await available(b, referrer)).toBe(900);
    for (const invitee of invitees) expect(await available(c, invitee)).toBe(50);
    await expectLedgerClean(apps);
  });

  it('when one qualifying event is sent to both instances at once, then it is processed once and both answers agree', async () => {
    const { referrer, invitee } = await pair('dup');
    const eventId = `dup-${n}`;
    const [one, two] = await Promise.all([order(a, invitee, 'SO-dup', 120, { eventId }), order(b, invitee, 'SO-dup', 120, { eventId })]);
    expect(referralEffect(one)).toEqual(referralEffect(two));
    expect(referralEffect(one).outcome).toBe('qualified');
    expect([await available(b, referrer), await available(a, invitee)]).toEqual([100, 50]);
  });

  it('when the process paying a referral dies right after qualifying it, then the sweep pays both sides, once', async () => {
    const { referrer, invitee } = await pair('crash');
    faults.arm('referral:after-qualified');
    expect((await order(a, invitee, 'SO-dead', 500)).status).toBe(500);
    expect((await referralOf(b, invitee)).state).toBe('qualified');
    clock.advance({ minutes: 1 });
    await Promise.all([a.built.sweep(), b.built.sweep()]);
    expect(await referralOf(b, invitee)).toMatchObject({ state: 'rewarded', orderId: 'SO-dead' });
    expect([await available(a, referrer), await available(a, invitee)]).toEqual([100, 50]);
    expect(referralEffect(await order(b, invitee, 'SO-after-crash', 500)).outcome).toBe('not-qualified');
    await expectLedgerClean([a, b]);
  });

  it('when the request dies between paying the referrer and the invitee, then the event retried pays the rest, once, and the sweeps add nothing', async () => {
    const { referrer, invitee } = await pair('half');
    const eventId = `half-${n}`;
    faults.arm('referral:after-referrer-paid');
    expect((await order(a, invitee, 'SO-half', 500, { eventId })).status).toBe(500);
    expect([await available(a, referrer), await available(a, invitee)]).toEqual([100, 0]);
    // Retried where it died: that process knows its own claim on the event id is dead (another would wait out its lease).
    const retried = await order(a, invitee, 'SO-half', 500, { eventId });
    expect(referralEffect(retried)).toMatchObject({ outcome: 'qualified', state: 'rewarded', rewards: { referrer: { points: 100 }, invitee: { points: 50 } } });
    clock.advance({ minutes: 1 });
    await Promise.all([a.built.sweep(), b.built.sweep()]);
    expect([await available(a, referrer), await available(a, invitee)]).toEqual([100, 50]);
    await expectLedgerClean([a, b]);
  });

  it('when the referrer reads its page, then the rewarded invite and its points count once it is kept', async () => {
    const { referrer, invitee } = await pair('page');
    await order(a, invitee, 'SO-page', 100);
    const page = await a.request('GET', '/v1/me/referral', { token: tokenFor('member', referrer) });
    expect(page.body.rewards).toEqual({ points: 100, count: 1 });
    expect((await a.request('GET', `/v1/members/${referrer}`, { token: ops })).body.summary.referral.invitedCount).toBe(1);
  });
});
