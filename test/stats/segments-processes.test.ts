import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { freshDbName, ops, startTestApp, type TestApp } from '../helpers/app.js';
import { earned, registerMember } from '../helpers/ledger.js';
import { closeThrough } from '../helpers/stats.js';

/**
 * Each process keeps the member rows of the newest snapshot it read (src/modules/stats/view.ts). Segments decide who
 * a grant pays, so on three processes over one database every one of them must follow the newest snapshot another
 * process wrote, and the facts since it, never the rows it kept from an older one.
 */
const clock = new ManualClock('2026-03-01T08:00:00Z');
let apps: TestApp[];
beforeAll(async () => {
  const dbName = freshDbName('segments_3');
  apps = [await startTestApp({ dbName, clock }), await startTestApp({ dbName, clock }), await startTestApp({ dbName, clock })];
});
afterAll(async () => {
  for (const app of apps.slice(1)) await app.close({ keepDatabase: true });
  await apps[0]!.close();
});

const segment = async (app: TestApp, name: string): Promise<string[]> => {
  const res = await app.request('GET', `/v1/admin/segments/${name}/members?limit=100`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body.items.map((m: any) => m.memberId);
};
const everywhere = (name: string) => Promise.all(apps.map((app) => segment(app, name)));

describe('segments on three processes', () => {
  it('when one process rolls up and the others kept older rows, then every process lists the same members, newest snapshot and later facts included', async () => {
    const [a, b, c] = apps as [TestApp, TestApp, TestApp];
    for (const m of ['s-1', 's-2']) await registerMember(a, m);
    await closeThrough(a, '2026-03-01'); // snapshot 1, written by a
    expect(await everywhere('cohort:2026-03')).toEqual([['s-1', 's-2'], ['s-1', 's-2'], ['s-1', 's-2']]); // b and c keep snapshot 1's rows

    clock.set('2026-03-20T09:00:00Z');
    await registerMember(b, 's-3');
    await earned(c, 's-1', 10); // s-1 active again; s-2 idle since 1 March
    expect(await everywhere('silent')).toEqual([['s-2'], ['s-2'], ['s-2']]);

    clock.set('2026-04-10T09:00:00Z');
    await registerMember(c, 's-4');
    await closeThrough(b, '2026-04-10'); // snapshot 2, written by b; a and c kept snapshot 1
    expect(await everywhere('cohort:2026-03')).toEqual([['s-1', 's-2', 's-3'], ['s-1', 's-2', 's-3'], ['s-1', 's-2', 's-3']]);
    expect(await everywhere('cohort:2026-04')).toEqual([['s-4'], ['s-4'], ['s-4']]);
    expect(await everywhere('churned')).toEqual([['s-2'], ['s-2'], ['s-2']]);
    expect(await everywhere('active')).toEqual([['s-1', 's-3', 's-4'], ['s-1', 's-3', 's-4'], ['s-1', 's-3', 's-4']]);
  });
});
