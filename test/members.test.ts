import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type TestApp } from './helpers/app.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api.close();
});

const register = (body: Record<string, unknown>, token = service) => api.request('POST', '/v1/members', { token, body });

describe('members', () => {
  it('when the backend registers a member, then it is created with defaults and readable by ops and by itself', async () => {
    const created = await register({ memberId: 'ann', displayName: 'Ann', birthday: '02-29', device: { id: 'd1', ip: '10.0.0.1' } });
    expect(created.status).toBe(201);
    expect(created.body.member).toMatchObject({ memberId: 'ann', displayName: 'Ann', birthday: '02-29', timezone: 'UTC', status: 'active' });
    expect(created.body.member.createdAt).toBe('2026-03-01T08:00:00.000Z');

    const byOps = await api.request('GET', '/v1/members/ann', { token: ops });
    expect(byOps.status).toBe(200);
    expect(byOps.body.member.memberId).toBe('ann');
    expect(byOps.body.summary).toBeTypeOf('object');

    const me = await api.request('GET', '/v1/me', { token: tokenFor('member', 'ann') });
    expect(me.status).toBe(200);
    expect(me.body.member.memberId).toBe('ann');
  });

  it('when a memberId is registered twice (even concurrently), then exactly one wins and the rest get 409 MEMBER_EXISTS', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => register({ memberId: 'race', displayName: 'R' })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const conflicts = results.filter((r) => r.status === 409);
    expect(conflicts).toHaveLength(7);
    expect(conflicts[0]?.body.error.code).toBe('MEMBER_EXISTS');
  });

  it('when a member token asks for another member, then it gets 404 and no data', async () => {
    await register({ memberId: 'bob' });
    const res = await api.request('GET', '/v1/members/bob', { token: tokenFor('member', 'ann') });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(res.text).not.toContain('bob');
    const patch = await api.request('PATCH', '/v1/members/bob', { token: tokenFor('member', 'ann'), body: { displayName: 'x' } });
    expect(patch.status).toBe(404);
  });

  it('when a member token has no member record, then /v1/me is 404', async () => {
    const res = await api.request('GET', '/v1/me', { token: tokenFor('member', 'ghost') });
    expect(res.status).toBe(404);
  });

  it('when a member edits its profile, then name and timezone change but status is forbidden', async () => {
    await register({ memberId: 'cat' });
    const token = tokenFor('member', 'cat');
    const ok = await api.request('PATCH', '/v1/members/cat', { token, body: { displayName: 'Cat', timezone: 'Pacific/Kiritimati' } });
    expect(ok.status).toBe(200);
    expect(ok.body.member).toMatchObject({ displayName: 'Cat', timezone: 'Pacific/Kiritimati' });
    const status = await api.request('PATCH', '/v1/members/cat', { token, body: { status: 'frozen' } });
    expect(status.status).toBe(403);
    expect(status.body.error.code).toBe('FORBIDDEN');
    const badTz = await api.request('PATCH', '/v1/members/cat', { token, body: { timezone: 'Mars/Olympus' } });
    expect(badTz.status).toBe(400);
    expect(badTz.body.error.details.issues[0].path).toBe('body.timezone');
  });

  it('when a member sets its birthday, then it can do so once only, even with racing requests', async () => {
    await register({ memberId: 'dan' });
    const token = tokenFor('member', 'dan');
    const racing = await Promise.all(
      ['01-01', '02-02', '03-03', '04-04'].map((birthday) => api.request('PATCH', '/v1/members/dan', { token, body: { birthday } })),
    );
    expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
    expect(racing.filter((r) => r.status === 409).every((r) => r.body.error.code === 'BIRTHDAY_ALREADY_SET')).toBe(true);
    const winner = racing.find((r) => r.status === 200)?.body.member.birthday;
    const after = await api.request('GET', '/v1/me', { token });
    expect(after.body.member.birthday).toBe(winner);
    const again = await api.request('PATCH', '/v1/members/dan', { token, body: { birthday: '05-05' } });
    expect(again.status).toBe(409);
  });

  it('when ops freeze a member, then the status reads frozen and ops can unfreeze it', async () => {
    await register({ memberId: 'eve' });
    const frozen = await api.request('PATCH', '/v1/members/eve', { token: ops, body: { status: 'frozen' } });
    expect(frozen.status).toBe(200);
    expect(frozen.body.member.status).toBe('frozen');
    const read = await api.request('GET', '/v1/me', { token: tokenFor('member', 'eve') });
    expect(read.status).toBe(200);
    expect(read.body.member.status).toBe('frozen');
    const back = await api.request('PATCH', '/v1/members/eve', { token: ops, body: { status: 'active' } });
    expect(back.body.member.status).toBe('active');
  });

  it('when registration input is wrong, then 400 names each failing path and nothing is written', async () => {
    const res = await register({ memberId: 'bad id!', birthday: '02-30', timezone: 'Nowhere/City', extra: 1 });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['body.memberId', 'body.birthday', 'body.timezone', 'body']));
    const lookup = await api.request('GET', '/v1/members/bad%20id!', { token: ops });
    expect(lookup.status).toBe(400);
  });

  it('when a member token tries to register members, then it is 403 FORBIDDEN', async () => {
    const res = await register({ memberId: 'self-made' }, tokenFor('member', 'self-made'));
    expect(res.status).toBe(403);
    const read = await api.request('GET', '/v1/members/self-made', { token: ops });
    expect(read.status).toBe(404);
  });
});
