import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ops, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, seriousViolations, startConsoleTest } from '../helpers/browser.js';
import { checkedIn } from '../helpers/checkins.js';
import { earned, points, registerMember } from '../helpers/ledger.js';
import { report } from '../helpers/stats.js';

let app: TestApp;
let browser: Browser;

const ladder = {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400 },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 0 },
};

/**
 * Three days of activity in Asia/Shanghai (the clock starts 2026-03-01T08:00Z, 16:00 there): members register and earn
 * on 03-01, earn, spend and check in on 03-02 and 03-03. Day 03-01 is closed by the rollup, the others are open.
 */
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  expect((await app.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
  for (const id of ['d1', 'd2', 'd3']) await registerMember(app, id);
  await earned(app, 'd1', 300);
  await earned(app, 'd2', 200);
  await checkedIn(app, 'd1', '2026-03-01');
  app.clock.set('2026-03-02T03:00:00Z'); // 11:00 on 03-02 in Shanghai
  await earned(app, 'd3', 400);
  await earned(app, 'd1', 50);
  expect((await points.spend(app, 'd1', { amount: 120, code: 'redemption' })).status).toBe(201);
  await checkedIn(app, 'd1', '2026-03-02');
  await checkedIn(app, 'd2', '2026-03-02');
  app.clock.set('2026-03-03T04:00:00Z');
  await registerMember(app, 'd4');
  expect((await points.spend(app, 'd2', { amount: 80, code: 'redemption' })).status).toBe(201);
  for (const id of ['d1', 'd2', 'd4']) await checkedIn(app, id, '2026-03-03');
  await app.built.flush();
  await app.built.rollup();
});
afterAll(() => closeConsoleTest(app, browser));

const en = new Intl.NumberFormat('en');
const pct = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 2 });

async function ready(page: Page): Promise<void> {
  await page.locator('.dashboard[data-ready="true"]').waitFor({ timeout: 15_000 });
}
const card = (page: Page, label: string) => page.locator(`li.card[data-card="${label}"]`);
/** The per-day values of a line chart's screen-reader table, by day. */
async function table(page: Page, title: string): Promise<Record<string, string[]>> {
  const rows = await page.locator(`figure[data-chart="${title}"] table.sr-only tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => [tr.querySelector('th')!.textContent!, ...[...tr.querySelectorAll('td')].map((td) => td.textContent!)]),
  );
  return Object.fromEntries(rows.map(([day, ...values]) => [day!, values]));
}

describe('the dashboard', () => {
  it('when opened, then the cards show the figures the stats API gives for the last 30 days, and every chart is drawn with the seeded days', async () => {
    const started = Date.now();
    const { page, context, errors } = await openConsole(browser, app, { route: '#/dashboard' });
    await ready(page);
    process.stdout.write(`[dashboard] interactive after ${Date.now() - started} ms (3 days of data)\n`);
    expect(await page.getByRole('heading', { level: 1, name: 'Dashboard' }).count()).toBe(1);
    expect(await page.getByLabel('From').inputValue()).toBe('2026-02-02');
    expect(await page.getByLabel('To').inputValue()).toBe('2026-03-03');

    const range = { from: '2026-02-02', to: '2026-03-03', interval: 'day' };
    const [pts, members, checkins] = await Promise.all([report(app, 'points', range), report(app, 'members', range), report(app, 'checkins', range)]);
    // 950 earned by orders, plus what the check-ins paid under the default check-in program.
    expect(pts.totals).toMatchObject({ spent: 200, expired: 0 });
    expect(pts.totals.earned).toBeGreaterThan(950);
    expect(await card(page, 'Points earned').locator('.value').textContent()).toBe(en.format(pts.totals.earned));
    expect(await card(page, 'Points spent').locator('.value').textContent()).toBe(en.format(pts.totals.spent));
    expect(await card(page, 'Points expired').locator('.value').textContent()).toBe('0');
    expect(await card(page, 'Outstanding liability').locator('.value').textContent()).toBe(en.format(pts.intervals.at(-1).liability.points));
    expect(await card(page, 'Redemption rate').locator('.value').textContent()).toBe(pct.format(pts.totals.redemptionRate));
    expect(await card(page, 'Breakage rate').locator('.value').textContent()).toBe(pct.format(pts.totals.breakageRate));
    expect(await card(page, 'New members').locator('.value').textContent()).toBe(String(members.intervals.reduce((s: number, i: any) => s + i.new, 0)));
    expect(await card(page, 'Check-ins').locator('.value').textContent()).toBe(String(checkins.totals.checkins));
    // Nothing happened in the 30 days before: no change to show.
    expect(await card(page, 'Points earned').locator('.change').textContent()).toBe('vs previous period: — (nothing before)');

    const figures = page.locator('figure.chart[data-chart]');
    expect(await figures.count()).toBe(3);
    for (const figure of await figures.all()) expect(await figure.locator('canvas').count()).toBeGreaterThan(0);
    const perDay = await table(page, 'Points per day');
    expect(Object.keys(perDay)).toHaveLength(30);
    for (const i of pts.intervals) expect(perDay[i.start], i.start).toEqual([String(i.earned), String(i.spent), String(i.expired)]);
    expect(perDay['2026-03-02']![1]).toBe('120');
    expect(perDay['2026-03-03']![1]).toBe('80');
    const liability = await table(page, 'Outstanding liability per day');
    for (const day of ['2026-03-01', '2026-03-02', '2026-03-03']) {
      expect(liability[day]).toEqual([String(pts.intervals.find((i: any) => i.start === day).liability.points)]);
    }
    const daily = await table(page, 'Check-ins per day');
    expect([daily['2026-03-01']![0], daily['2026-03-02']![0], daily['2026-03-03']![0]]).toEqual(['1', '2', '3']);
    const tiers = page.locator('figure.bars[data-chart="Members by tier at 2026-03-03"]');
    expect(await tiers.locator('li').allTextContents()).toEqual(
      Object.entries(members.intervals.at(-1).atEnd.tiers as Record<string, number>).map(([code, n]) => `${code}${n}`),
    );
    expect(await page.locator('figure.bars[data-chart="Member lifecycle at 2026-03-03"] li').first().textContent()).toBe(`Active${members.intervals.at(-1).atEnd.lifecycle.active}`);
    expect(await page.locator('figure.bars[data-chart="Referral funnel"] li').count()).toBe(6);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the range changes, then the dashboard reads the stats again and compares with the previous period of equal length', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/dashboard' });
    await ready(page);
    const asked: string[] = [];
    page.on('request', (r) => r.url().includes('/v1/admin/stats/') && asked.push(`${new URL(r.url()).pathname.slice('/v1/admin/stats/'.length)}${new URL(r.url()).search}`));
    await page.getByLabel('From').fill('2026-03-02');
    await page.getByText('2026-03-02 – 2026-03-03 (2 days)').waitFor();
    await ready(page);
    // The range and the one before it, in one call; the cards take each period's days from it.
    expect(asked).toEqual(['overview?from=2026-02-28&to=2026-03-03&interval=day']);

    const now = await report(app, 'points', { from: '2026-03-02', to: '2026-03-03' });
    const before = await report(app, 'points', { from: '2026-02-28', to: '2026-03-01' });
    expect(await card(page, 'Points earned').locator('.value').textContent()).toBe(en.format(now.totals.earned));
    const delta = (now.totals.earned - before.totals.earned) / before.totals.earned; // 450 and 5 check-ins against 500 and 1
    expect(await card(page, 'Points earned').locator('.change').textContent()).toBe(`vs previous period: \u2212${pct.format(Math.abs(delta))}`);
    expect(await card(page, 'Check-ins').locator('.change').textContent()).toBe(`vs previous period: +${pct.format(4)}`); // 5 against 1
    // Rates are the API's own for the range (spent ÷ earned of its days), not an average of days.
    const rate = (r: number | null) => (r === null ? '—' : new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 2 }).format(r));
    expect(await card(page, 'Redemption rate').locator('.value').textContent()).toBe(rate(now.totals.redemptionRate));
    expect(await card(page, 'Breakage rate').locator('.value').textContent()).toBe(rate(now.totals.breakageRate));

    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await page.getByText('2026-02-25 – 2026-03-03 (7 days)').waitFor();
    await ready(page);
    expect(await page.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed')).toBe('true');
    const week = await report(app, 'points', { from: '2026-02-25', to: '2026-03-03' });
    expect(await card(page, 'Points earned').locator('.value').textContent()).toBe(en.format(week.totals.earned));

    // Two periods longer than a report's 366 days together: each is asked on its own.
    asked.length = 0;
    await page.getByLabel('From').fill('2025-06-01');
    await page.getByText('2025-06-01 – 2026-03-03 (276 days)').waitFor();
    await ready(page);
    expect(asked.sort()).toEqual(['overview?from=2024-08-29&to=2025-05-31&interval=day', 'overview?from=2025-06-01&to=2026-03-03&interval=day']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the range holds no activity, then the dashboard says so, and the cards still show the liability carried', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/dashboard' });
    await ready(page);
    await page.getByLabel('From').fill('2026-02-01');
    await page.getByLabel('To').fill('2026-02-10');
    await page.getByText('No activity between 2026-02-01 and 2026-02-10').waitFor();
    await ready(page);
    expect(await card(page, 'Outstanding liability').locator('.value').textContent()).toBe('0');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the operator reads in Chinese, then the dashboard’s headings, cards and charts are in Chinese', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/dashboard', locale: 'zh-CN' });
    await ready(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('数据看板');
    for (const label of ['发放积分', '消耗积分', '过期积分', '积分负债余额', '积分核销率', '积分沉淀率', '新增会员', '签到次数']) {
      expect(await card(page, label).count(), label).toBe(1);
    }
    expect(await page.locator('figure[data-chart="每日积分发放 / 消耗 / 过期"] canvas').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: '近 7 天' }).count()).toBe(1);
    expect(await page.getByLabel('开始日期').inputValue()).toBe('2026-02-02');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when axe-core checks the drawn dashboard, then it finds no serious or critical violation', async () => {
    const { page, context } = await openConsole(browser, app, { route: '#/dashboard', bypassCSP: true });
    await ready(page);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
