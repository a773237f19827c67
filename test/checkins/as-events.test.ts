import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { available, checkedIn, configure, makeUp, memberIn, PROGRAM } from '../helpers/checkins.js';
import { earned, ops } from '../helpers/ledger.js';

/** Check-ins are `member.checked_in` events: tasks and earning rules on that type see each checked day once. */
let api: TestApp;
beforeAll(async () => {
  api = await startTestApp({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } });
  await configure(api, { ...PROGRAM, milestones: [] });
  const task = await api.request('PUT', '/v1/admin/tasks/streak-3', {
    token: ops,
    body: {
      name: 'Three days in a row',
      eventType: 'member.checked_in',
      condition: { property: 'streak', min: 3 },
      target: 1,
      window: { type: 'lifetime' },
      reward: { points: 7, badge: { code: 'streak-3', name: 'Three in a row' } },
    },
  });
  expect(task.status, task.text).toBe(201);
  const rule = await api.request('PUT', '/v1/admin/earning-rules/checkin-weekend', {
    token: ops,
    body: { name: 'Weekend check-ins: 1 extra point', eventType: 'member.checked_in', points: { kind: 'fixed', amount: 1 }, conditions: { weekdays: [6, 7] } },
  });
  expect(rule.status, rule.text).toBe(201);
});
afterAll(async () => {
  await api.close();
});

const badgesOf = async (memberId: string) => (await api.request('GET', '/v1/me', { token: tokenFor('member', memberId) })).body.summary.badges;

describe('check-ins in the events pipeline', () => {
  it('when a member checks in three days in a row, then the streak task pays once and the badge shows on the summary', async () => {
    api.clock.set('2026-03-02T01:00:00Z'); // Monday in Shanghai
    const m = await memberIn(api, 'ev-streak', 'Asia/Shanghai');
    const paid: number[] = [];
    for (const day of ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05']) {
      const res = await checkedIn(api, m, day);
      paid.push(res.body.reward.points);
      if (day === '2026-03-04') {
        expect(res.body.tasks).toEqual([{ task: 'streak-3', progress: 1, target: 1, completed: true, reward: { points: 7, growth: 0, badge: 'streak-3' } }]);
      } else {
        expect(res.body.tasks).toEqual([]);
      }
      api.clock.advance({ days: 1 });
    }
    expect(paid).toEqual([5, 5, 10, 5]);
    expect(await available(api, m)).toBe(25 + 7);
    expect(await badgesOf(m)).toEqual([expect.objectContaining({ code: 'streak-3', name: 'Three in a row' })]);
  });

  it('when a make-up joins two runs into three days, then the make-up is the event that completes the task', async () => {
    api.clock.set('2026-03-10T01:00:00Z');
    const m = await memberIn(api, 'ev-makeup', 'Asia/Shanghai');
    await earned(api, m, 100);
    await checkedIn(api, m, '2026-03-10');
    api.clock.set('2026-03-12T01:00:00Z');
    await checkedIn(api, m, '2026-03-12');
    const res = await makeUp(api, m, '2026-03-11');
    expect(res.status, res.text).toBe(201);
    expect(res.body.tasks).toEqual([expect.objectContaining({ task: 'streak-3', completed: true })]);
    expect((await badgesOf(m)).map((b: { code: string }) => b.code)).toEqual(['streak-3']);
  });

  it('when an earning rule listens to check-ins, then it pays on the days it matches and the answer lists it', async () => {
    api.clock.set('2026-03-06T01:00:00Z'); // Friday
    const m = await memberIn(api, 'ev-rule', 'Asia/Shanghai');
    expect((await checkedIn(api, m, '2026-03-06')).body.ruleRewards).toEqual([]);
    api.clock.advance({ days: 1 }); // Saturday
    const saturday = await checkedIn(api, m, '2026-03-07');
    expect(saturday.body.ruleRewards).toEqual([{ rule: 'checkin-weekend', points: 1, entryId: expect.any(String) }]);
    expect(await available(api, m)).toBe(5 + 5 + 1);
  });
});
