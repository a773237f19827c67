import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, startTestApp, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { basicProgram, bind, codeOf, invite, myReferral, putProgram, referralOf, register } from './helpers.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp({ env: { REFERRAL_BIND_WINDOW_DAYS: '7' } });
  await putProgram(api, basicProgram());
});
afterAll(async () => {
  await api.close();
});

describe('binding by code', () => {
  it('when a fresh member binds a referrer’s code, then it is bound (201), again answers the binding (200), and the referrer lists it', async () => {
    await register(api, 'b-ref');
    await register(api, 'b-inv');
    const code = await codeOf(api, 'b-ref');
    const first = await bind(api, 'b-inv', code.toLowerCase());
    expect(first.status, first.text).toBe(201);
    expect(first.body.referral).toMatchObject({ invitee: 'b-inv', referrer: 'b-ref', code, via: 'bind', state: 'bound', reviewReasons: [], rewards: null, programVersion: 1 });
    const again = await bind(api, 'b-inv', code);
    expect(again.status).toBe(200);
    expect(again.body.referral.boundAt).toBe(first.body.referral.boundAt);
    expect((await myReferral(api, 'b-ref')).invitedCount).toBe(1);
  });

  it('when a member binds its own code, then 409 SELF_REFERRAL', async () => {
    await register(api, 'self');
    expectError(await bind(api, 'self', await codeOf(api, 'self')), 409, 'SELF_REFERRAL');
  });

  it('when a bound member binds another referrer’s code, then 409 ALREADY_BOUND and the first binding stays', async () => {
    await register(api, 'ab-ref1');
    await register(api, 'ab-ref2');
    await invite(api, await codeOf(api, 'ab-ref1'), 'ab-inv');
    expectError(await bind(api, 'ab-inv', await codeOf(api, 'ab-ref2')), 409, 'ALREADY_BOUND');
    expect((await referralOf(api, 'ab-inv')).referrer).toBe('ab-ref1');
  });

  it('when the code’s owner was referred, directly or up its chain, by the member binding, then 409 REFERRAL_CYCLE', async () => {
    await register(api, 'cy-x');
    await invite(api, await codeOf(api, 'cy-x'), 'cy-y');
    await invite(api, await codeOf(api, 'cy-y'), 'cy-z');
    await register(api, 'cy-w');
    expectError(await bind(api, 'cy-x', await codeOf(api, 'cy-y')), 409, 'REFERRAL_CYCLE');
    expectError(await bind(api, 'cy-x', await codeOf(api, 'cy-z')), 409, 'REFERRAL_CYCLE');
  });

  it('when the code is unknown, then 404 REFERRAL_CODE_NOT_FOUND', async () => {
    await register(api, 'nf-inv');
    expectError(await bind(api, 'nf-inv', 'ABCDEFGH'), 404, 'REFERRAL_CODE_NOT_FOUND');
  });

  it('when the code’s owner is frozen, then 409 REFERRER_FROZEN; a frozen member cannot bind either', async () => {
    await register(api, 'fz-ref');
    await register(api, 'fz-inv');
    const code = await codeOf(api, 'fz-ref');
    expect((await api.request('PATCH', '/v1/members/fz-ref', { token: ops, body: { status: 'frozen' } })).status).toBe(200);
    expectError(await bind(api, 'fz-inv', code), 409, 'REFERRER_FROZEN');
    await api.request('PATCH', '/v1/members/fz-ref', { token: ops, body: { status: 'active' } });
    await api.request('PATCH', '/v1/members/fz-inv', { token: ops, body: { status: 'frozen' } });
    expectError(await bind(api, 'fz-inv', code), 409, 'MEMBER_FROZEN');
  });

  it('when more than the window has passed since the member registered, then 409 BIND_WINDOW_CLOSED; a program can widen it', async () => {
    await register(api, 'w-ref');
    await register(api, 'w-inv');
    const code = await codeOf(api, 'w-ref');
    api.clock.advance({ days: 7, seconds: 1 });
    expectError(await bind(api, 'w-inv', code), 409, 'BIND_WINDOW_CLOSED');
    await putProgram(api, basicProgram({ bindWindowDays: 30 }));
    expect((await bind(api, 'w-inv', code)).status).toBe(201);
    await putProgram(api, basicProgram());
  });

  it('when the code’s owner joined after the member, then 409 REFERRER_JOINED_LATER', async () => {
    await register(api, 'jl-early');
    await register(api, 'jl-late');
    expectError(await bind(api, 'jl-early', await codeOf(api, 'jl-late')), 409, 'REFERRER_JOINED_LATER');
  });
});

describe('races', () => {
  it('when two referrers race for one invitee with ten binds, then exactly one binding lands and only its referrer lists the invitee', async () => {
    await register(api, 'race-r1');
    await register(api, 'race-r2');
    await register(api, 'race-inv');
    const codes = [await codeOf(api, 'race-r1'), await codeOf(api, 'race-r2')];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => bind(api, 'race-inv', codes[i % 2])));
    const winner = (await referralOf(api, 'race-inv')).referrer;
    const winnerCode = codes[winner === 'race-r1' ? 0 : 1];
    results.forEach((res, i) => {
      if (codes[i % 2] === winnerCode) expect([200, 201]).toContain(res.status);
      else expectError(res, 409, 'ALREADY_BOUND');
    });
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const loser = winner === 'race-r1' ? 'race-r2' : 'race-r1';
    expect((await myReferral(api, winner)).invitedCount).toBe(1);
    expect((await myReferral(api, loser)).invitedCount).toBe(0);
    await api.built.sweep();
    expect((await myReferral(api, winner)).invitedCount).toBe(1);
  });

  it('when two members bind each other’s codes at once, then at most one binding lands: no cycle', async () => {
    await register(api, 'mut-a');
    await register(api, 'mut-b');
    const [a, b] = [await codeOf(api, 'mut-a'), await codeOf(api, 'mut-b')];
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? bind(api, 'mut-a', b) : bind(api, 'mut-b', a))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect((await referralOf(api, 'mut-b')).referrer).toBe('mut-a');
    expect((await api.request('GET', '/v1/admin/referrals/mut-a', { token: ops })).status).toBe(404);
  });
});

describe('guards seen at binding', () => {
  it('when a registration or bind reports a device, then only keyed hashes of it are stored, nowhere in the member or its events', async () => {
    await register(api, 'hash-ref', { device: { id: 'device-plain-id-42', ip: '203.0.113.77' } });
    await invite(api, await codeOf(api, 'hash-ref'), 'hash-inv', { device: { id: 'device-plain-id-43', ip: '203.0.113.78' } });
    for (const name of (await api.db.db!.listCollections().toArray()).map((c) => c.name)) {
      const text = JSON.stringify(await api.db.collection(name).find({}).toArray());
      expect(text, name).not.toMatch(/device-plain-id|203\.0\.113/);
    }
  });
});
