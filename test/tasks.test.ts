import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/platform/clock.js';
import { ArmedFaults } from '../src/platform/faults.js';
import { ops, service, startTestApp, tokenFor, type ApiResponse, type TestApp } from './helpers/app.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
});
afterAll(async () => {
  await api.close();
});

type TaskItem = { task: string; progress: number; target: number; completed: boolean; reward: { points: number; growth: number; badge: string | null } | null };

let seq = 0;
const newMember = async () => {
  const memberId = `task-${++seq}`;
  expect((await api.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);
  return memberId;
};
const putTask = (code: string, body: Record<string, unknown>) => api.request('PUT', `/v1/admin/tasks/${code}`, { token: ops, body });
const deleteTask = (code: string) => api.request('DELETE', `/v1/admin/tasks/${code}`, { token: ops });
let eventSeq = 0;
const send = (memberId: string, type: string, properties: Record<string, unknown> = {}, eventId = `ev-${++eventSeq}`) =>
  api.request('POST', '/v1/events', { token: service, body: { eventId, memberId, type, occurredAt: api.clock.now().toISOString(), properties } });
const effectOf = (res: ApiResponse, code: string): TaskItem | undefined => {
  expect(res.status).toBe(201);
  return (res.body.effects.tasks as TaskItem[]).find((t) => t.task === code);
};
const myTask = async (memberId: string, code: string) => {
  const res = await api.request('GET', '/v1/me/tasks', { token: tokenFor('member', memberId) });
  expect(res.status).toBe(200);
  return (res.body.items as Array<{ code: string }>).find((t) => t.code === code) as Record<string, unknown> | undefined;
};
const available = async (memberId: string) => (await api.request('GET', `/v1/members/${memberId}/points`, { token: ops })).body.available as number;
const summaryOf = async (memberId: string) => (await api.request('GET', '/v1/me', { token: tokenFor('member', memberId) })).body.summary;
const points = (n: number) => ({ points: n });

describe('task definitions', () => {
  const task = { name: 'Answer a quiz', eventType: 'crud.tested', target: 2, window: { type: 'lifetime' }, reward: points(10) };

  it('when ops create, read, replace and delete a task, then each answers as documented and every write is audited', async () => {
    const created = await putTask('crud-task', task);
    expect(created.status).toBe(201);
    expect(created.body.task).toMatchObject({ code: 'crud-task', active: true, repeatable: false, target: 2, reward: { points: 10 } });
    expect((await putTask('crud-task', { ...task, name: 'Answer two quizzes' })).status).toBe(200);
    const one = await api.request('GET', '/v1/admin/tasks/crud-task', { token: ops });
    expect(one.body.task.name).toBe('Answer two quizzes');
    const list = await api.request('GET', '/v1/admin/tasks', { token: ops });
    expect(list.body.items.map((t: { code: string }) => t.code)).toContain('crud-task');
    expect((await deleteTask('crud-task')).status).toBe(204);
    expect((await api.request('GET', '/v1/admin/tasks/crud-task', { token: ops })).status).toBe(404);
    expect((await deleteTask('crud-task')).status).toBe(404);
    for (const action of ['task.create', 'task.update', 'task.delete']) {
      const audit = await api.request('GET', `/v1/admin/audit?action=${action}&limit=100`, { token: ops });
      expect(audit.body.items.map((i: { target: { id: string } }) => i.target.id)).toContain('crud-task');
    }
  });

  it('when a task is malformed or asked by the wrong role, then it is refused with the failing paths', async () => {
    const paths = async (body: Record<string, unknown>) => {
      const res = await putTask('bad-task', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      return res.body.error.details.issues.map((i: { path: string }) => i.path);
    };
    expect(await paths({ ...task, repeatable: true })).toContain('body.repeatable');
    expect(await paths({ ...task, reward: {} })).toContain('body.reward');
    expect(await paths({ ...task, reward: { points: 0, growth: 0 } })).toContain('body.reward');
    expect(await paths({ ...task, reward: points(1_000_001) })).toContain('body.reward.points');
    expect(await paths({ ...task, colour: 'red' })).toEqual(['body']);
    expect(await paths({ ...task, condition: { property: 'amount' } })).toContain('body.condition.property');
    expect(await paths({ ...task, window: { type: 'calendar', period: 'fortnight' } })).toContain('body.window.period');
    expect(await paths({ ...task, target: 0 })).toContain('body.target');
    expect((await putTask('Bad Code', task)).status).toBe(400);
    const asMember = await api.request('PUT', '/v1/admin/tasks/bad-task', { token: tokenFor('member', 'someone'), body: task });
    expect(asMember.status).toBe(403);
    expect((await api.request('GET', '/v1/admin/tasks/bad-task', { token: ops })).status).toBe(404);
  });
});

describe('progress and payouts', () => {
  it('when a member follows the new-member pack, then registration and a first order within 7 days pay, and a share after day 7 does not', async () => {
    const sevenDays = { type: 'from-registration', days: 7 };
    expect((await putTask('np-register', { name: 'Join', eventType: 'member.registered', target: 1, window: sevenDays, reward: points(100) })).status).toBe(201);
    expect((await putTask('np-order', { name: 'First order', eventType: 'order.paid', target: 1, window: sevenDays, reward: points(50) })).status).toBe(201);
    expect((await putTask('np-share', { name: 'First share', eventType: 'content.shared', target: 1, window: sevenDays, reward: { badge: { code: 'newcomer', name: 'Newcomer' } } })).status).toBe(201);
    api.clock.set('2026-03-01T08:00:00Z');
    const m = await newMember();
    expect(await available(m)).toBe(100);
    api.clock.advance({ days: 2 });
    const order = await send(m, 'order.paid', { orderId: 'NP-1', amount: 30 });
    expect(effectOf(order, 'np-order')).toEqual({ task: 'np-order', progress: 1, target: 1, completed: true, reward: { points: 50, growth: 0, badge: null } });
    expect(await available(m)).toBe(150);
    expect(await myTask(m, 'np-share')).toMatchObject({ progress: 0, completed: false, deadline: '2026-03-08T08:00:00.000Z', expired: false });
    expect(await myTask(m, 'np-register')).toMatchObject({ progress: 1, completed: true, expired: false });

    api.clock.set('2026-03-08T08:00:00Z'); // the window is [registration, registration + 7 days)
    expect(effectOf(await send(m, 'content.shared'), 'np-share')).toBeUndefined();
    expect(await myTask(m, 'np-share')).toMatchObject({ progress: 0, completed: false, expired: true });
    expect((await summaryOf(m)).badges).toEqual([]);
    for (const code of ['np-register', 'np-order', 'np-share']) expect((await deleteTask(code)).status).toBe(204);
  });

  it('when a task has a property condition, then only events meeting it count', async () => {
    expect((await putTask('big-order', { name: 'An order of 100 or more', eventType: 'order.paid', condition: { property: 'amount', min: 100 }, target: 1, window: { type: 'lifetime' }, reward: points(30) })).status).toBe(201);
    const m = await newMember();
    expect(effectOf(await send(m, 'order.paid', { orderId: 'BO-1', amount: 99.5 }), 'big-order')).toBeUndefined();
    expect(effectOf(await send(m, 'order.paid', { orderId: 'BO-2', amount: 100 }), 'big-order')).toMatchObject({ completed: true, reward: { points: 30 } });
    expect(await available(m)).toBe(30);
    expect((await deleteTask('big-order')).status).toBe(204);
  });

  it('when a task needs 3 events, then progress goes 1/3, 2/3, 3/3 and pays once, and later events count no more', async () => {
    expect((await putTask('reviews-3', { name: 'Post 3 reviews', eventType: 'review.posted', target: 3, window: { type: 'lifetime' }, reward: points(20) })).status).toBe(201);
    const m = await newMember();
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(effectOf(await send(m, 'review.posted'), 'reviews-3'));
    expect(seen).toEqual([
      { task: 'reviews-3', progress: 1, target: 3, completed: false, reward: null },
      { task: 'reviews-3', progress: 2, target: 3, completed: false, reward: null },
      { task: 'reviews-3', progress: 3, target: 3, completed: true, reward: { points: 20, growth: 0, badge: null } },
      undefined,
    ]);
    expect(await available(m)).toBe(20);
    expect(await myTask(m, 'reviews-3')).toMatchObject({ progress: 3, target: 3, completed: true, deadline: null, expired: false });
  });

  it('when a task needs many events, then each event counts the next one and the member sees how many so far', async () => {
    expect((await putTask('photos-20', { name: 'Upload 20 photos', eventType: 'photo.uploaded', target: 20, window: { type: 'lifetime' }, reward: points(40) })).status).toBe(201);
    const m = await newMember();
    for (let n = 1; n <= 13; n++) {
      expect(effectOf(await send(m, 'photo.uploaded'), 'photos-20')).toMatchObject({ progress: n, completed: false });
      expect(await myTask(m, 'photos-20')).toMatchObject({ progress: n, target: 20 });
    }
  });

  it('when the same event id is sent again, then the first answer is replayed and the event counts once', async () => {
    expect((await putTask('quiz-2', { name: 'Answer 2 quizzes', eventType: 'quiz.answered', target: 2, window: { type: 'lifetime' }, reward: points(15) })).status).toBe(201);
    const m = await newMember();
    const first = await send(m, 'quiz.answered', {}, `quiz-${m}-1`);
    const again = await send(m, 'quiz.answered', {}, `quiz-${m}-1`);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(effectOf(again, 'quiz-2')).toEqual(effectOf(first, 'quiz-2'));
    expect(await myTask(m, 'quiz-2')).toMatchObject({ progress: 1, completed: false });
    expect(effectOf(await send(m, 'quiz.answered', {}, `quiz-${m}-2`), 'quiz-2')).toMatchObject({ progress: 2, completed: true });
    expect(await available(m)).toBe(15);
  });

  it('when an event is retried after a crash, then it finds the slot and the payout it already took and pays once', async () => {
    const m = await newMember();
    const caller = { role: 'service', sub: 'orders' } as const;
    const event = (id: string) => ({ eventId: id, memberId: m, type: 'quiz.answered', occurredAt: api.clock.now().toISOString(), properties: {} });
    const run = (id: string, retry: boolean) => api.built.services.events.processEvent(caller, event(id), { scope: `crash:${id}`, retry });
    const firstTry = await run(`c-${m}-1`, false);
    const firstRetry = await run(`c-${m}-1`, true);
    expect(firstRetry.effects.tasks).toEqual(firstTry.effects.tasks);
    expect(firstRetry.effects.tasks).toEqual([{ task: 'quiz-2', progress: 1, target: 2, completed: false, reward: null }]);
    const secondTry = await run(`c-${m}-2`, false);
    const secondRetry = await run(`c-${m}-2`, true);
    expect(secondRetry.effects.tasks).toEqual(secondTry.effects.tasks);
    expect(secondRetry.effects.tasks).toEqual([{ task: 'quiz-2', progress: 2, target: 2, completed: true, reward: { points: 15, growth: 0, badge: null } }]);
    expect(await available(m)).toBe(15);
  });
  it('when the event that completed a task dies before paying and is never retried, then the sweep pays it once with no other event needed', async () => {
    expect((await putTask('poll', { name: 'Answer a poll', eventType: 'poll.answered', target: 1, window: { type: 'lifetime' }, reward: { points: 9, badge: { code: 'pollster', name: 'Pollster' } } })).status).toBe(201);
    const m = await newMember();
    const faults = new ArmedFaults();
    const crashed = await startTestApp({ dbName: api.dbName, faults, clock: new ManualClock(api.clock.now()), env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
    try {
      faults.arm('task:after-claim');
      const body = { eventId: `poll-${m}`, memberId: m, type: 'poll.answered', occurredAt: api.clock.now().toISOString(), properties: {} };
      expect((await crashed.request('POST', '/v1/events', { token: service, body })).status).toBe(500);
    } finally {
      await crashed.close({ keepDatabase: true });
    }
    expect(await available(m)).toBe(0);
    api.clock.advance({ minutes: 2 });
    await api.built.sweep();
    expect(await available(m)).toBe(9);
    expect((await summaryOf(m)).badges.map((b: { code: string }) => b.code)).toEqual(['pollster']);
    expect(effectOf(await send(m, 'poll.answered'), 'poll')).toBeUndefined();
    await api.built.sweep();
    expect(await available(m)).toBe(9);
    expect(await myTask(m, 'poll')).toMatchObject({ completed: true, progress: 1 });
  });
});

describe('calendar windows', () => {
  it('when a daily task repeats, then it pays once per local day, and again after local midnight (not UTC midnight)', async () => {
    expect((await putTask('daily-open', { name: 'Open the app', eventType: 'app.opened', target: 1, window: { type: 'calendar', period: 'day' }, repeatable: true, reward: points(5) })).status).toBe(201);
    api.clock.set('2026-03-10T15:50:00Z'); // 23:50 on 10 March in Shanghai
    const m = await newMember();
    expect(effectOf(await send(m, 'app.opened'), 'daily-open')).toMatchObject({ completed: true, reward: { points: 5 } });
    api.clock.set('2026-03-10T15:55:00Z');
    expect(effectOf(await send(m, 'app.opened'), 'daily-open')).toBeUndefined();
    api.clock.set('2026-03-10T16:05:00Z'); // 00:05 on 11 March in Shanghai, still 10 March in UTC
    expect(await myTask(m, 'daily-open')).toMatchObject({ progress: 0, completed: false, deadline: '2026-03-11T16:00:00.000Z', repeatable: true });
    expect(effectOf(await send(m, 'app.opened'), 'daily-open')).toMatchObject({ completed: true, reward: { points: 5 } });
    expect(await available(m)).toBe(10);
    expect(await myTask(m, 'daily-open')).toMatchObject({ progress: 1, completed: true });
  });

  it('when a weekly task repeats, then its counter and payout restart on Monday 00:00 in the program time zone', async () => {
    expect((await putTask('weekly-visit', { name: 'Visit a store twice a week', eventType: 'store.visited', target: 2, window: { type: 'calendar', period: 'week' }, repeatable: true, reward: points(10) })).status).toBe(201);
    api.clock.set('2026-03-15T15:00:00Z'); // Sunday 23:00 in Shanghai: the week of Monday 9 March
    const m = await newMember();
    expect(effectOf(await send(m, 'store.visited'), 'weekly-visit')).toMatchObject({ progress: 1, completed: false });
    expect(await myTask(m, 'weekly-visit')).toMatchObject({ progress: 1, deadline: '2026-03-15T16:00:00.000Z' });
    expect(effectOf(await send(m, 'store.visited'), 'weekly-visit')).toMatchObject({ progress: 2, completed: true, reward: { points: 10 } });
    expect(effectOf(await send(m, 'store.visited'), 'weekly-visit')).toBeUndefined();
    api.clock.set('2026-03-15T16:30:00Z'); // Monday 00:30 in Shanghai (still Sunday in UTC): a new week
    expect(effectOf(await send(m, 'store.visited'), 'weekly-visit')).toMatchObject({ progress: 1, completed: false });
    expect(effectOf(await send(m, 'store.visited'), 'weekly-visit')).toMatchObject({ progress: 2, completed: true, reward: { points: 10 } });
    expect(await available(m)).toBe(20);
    expect(await myTask(m, 'weekly-visit')).toMatchObject({ progress: 2, completed: true, deadline: '2026-03-22T16:00:00.000Z' });
  });

  it('when a calendar task does not repeat, then it pays in the first week it is completed and never again', async () => {
    expect((await putTask('weekly-once', { name: 'Rate an order in a week', eventType: 'order.rated', target: 1, window: { type: 'calendar', period: 'week' }, reward: points(8) })).status).toBe(201);
    api.clock.set('2026-03-17T08:00:00Z');
    const m = await newMember();
    expect(effectOf(await send(m, 'order.rated'), 'weekly-once')).toMatchObject({ completed: true, reward: { points: 8 } });
    api.clock.advance({ days: 7 });
    expect(effectOf(await send(m, 'order.rated'), 'weekly-once')).toBeUndefined();
    expect(await myTask(m, 'weekly-once')).toMatchObject({ completed: true, progress: 1 });
    expect(await available(m)).toBe(8);
  });
});

describe('badges and growth', () => {
  it('when 10 events complete tasks at once, then each task pays once and each badge is awarded once', async () => {
    expect((await putTask('like-1', { name: 'First like', eventType: 'content.liked', target: 1, window: { type: 'lifetime' }, reward: { points: 3, badge: { code: 'first-like', name: 'First like' } } })).status).toBe(201);
    expect((await putTask('like-3', { name: 'Three likes', eventType: 'content.liked', target: 3, window: { type: 'lifetime' }, reward: { points: 7, badge: { code: 'liker', name: 'Liker' } } })).status).toBe(201);
    const m = await newMember();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => send(m, 'content.liked', {}, `like-${m}-${i}`)));
    for (const code of ['like-1', 'like-3']) {
      const items = results.map((r) => effectOf(r, code)).filter((t) => t !== undefined);
      expect(items.filter((t) => t.reward !== null)).toHaveLength(1);
    }
    const partial = results.map((r) => effectOf(r, 'like-3')).filter((t) => t && !t.completed).map((t) => t?.progress);
    expect(partial.sort()).toEqual([1, 2]);
    expect(await available(m)).toBe(10);
    const badges = (await summaryOf(m)).badges as Array<{ code: string; name: string; awardedAt: string }>;
    expect(badges.map((b) => b.code).sort()).toEqual(['first-like', 'liker']);
    expect(badges[0]?.awardedAt).toBe(api.clock.now().toISOString());
  });

  it('when a task pays growth, then growth rises on the summary and the tier check runs', async () => {
    const ladder = { tiers: [{ code: 'BASE', name: 'Member', threshold: 0 }, { code: 'SILVER', name: 'Silver', threshold: 100 }], policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 } };
    expect((await api.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
    expect((await putTask('survey', { name: 'Complete a survey', eventType: 'survey.completed', target: 1, window: { type: 'lifetime' }, reward: { growth: 150 } })).status).toBe(201);
    const m = await newMember();
    const res = await send(m, 'survey.completed');
    expect(effectOf(res, 'survey')).toMatchObject({ completed: true, reward: { points: 0, growth: 150, badge: null } });
    expect(res.body.effects.tierChange).toEqual({ from: 'BASE', to: 'SILVER' });
    expect((await summaryOf(m)).growth).toMatchObject({ value: 150 });
  });

  it('when a task is deleted, then it stops counting and badges it awarded stay on the summary', async () => {
    const body = { name: 'Post in the forum', eventType: 'forum.posted', target: 1, window: { type: 'lifetime' }, reward: { badge: { code: 'poster', name: 'Poster' } } };
    expect((await putTask('forum', body)).status).toBe(201);
    const early = await newMember();
    expect(effectOf(await send(early, 'forum.posted'), 'forum')).toMatchObject({ completed: true, reward: { badge: 'poster' } });
    expect((await putTask('forum', { ...body, reward: { badge: { code: 'poster-v2', name: 'Poster' } } })).status).toBe(200);
    expect((await deleteTask('forum')).status).toBe(204);
    const late = await newMember();
    expect(effectOf(await send(late, 'forum.posted'), 'forum')).toBeUndefined();
    expect(await myTask(late, 'forum')).toBeUndefined();
    expect((await summaryOf(early)).badges).toEqual([{ code: 'poster', name: 'Poster', awardedAt: expect.any(String) }]);
    expect((await summaryOf(late)).badges).toEqual([]);
  });

  it('when check-ins reach a 7-day streak, then the streak task pays its badge on the 7th day only', async () => {
    expect((await putTask('streak-7', { name: 'Check in 7 days in a row', eventType: 'member.checked_in', condition: { property: 'streak', min: 7 }, target: 1, window: { type: 'lifetime' }, reward: { points: 70, badge: { code: 'week-streak', name: '7-day streak' } } })).status).toBe(201);
    api.clock.set('2026-04-01T02:00:00Z');
    const m = await newMember();
    for (let streak = 1; streak <= 7; streak++) {
      const day = api.clock.now().toISOString().slice(0, 10);
      const res = await send(m, 'member.checked_in', { day, streak, makeup: false }, `checkin:${m}:${day}`);
      expect(effectOf(res, 'streak-7')).toEqual(streak < 7 ? undefined : { task: 'streak-7', progress: 1, target: 1, completed: true, reward: { points: 70, growth: 0, badge: 'week-streak' } });
      api.clock.advance({ days: 1 });
    }
    expect((await summaryOf(m)).badges.map((b: { code: string }) => b.code)).toEqual(['week-streak']);
    expect(await available(m)).toBe(70);
  });
});
