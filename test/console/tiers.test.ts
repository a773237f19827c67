import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ops, service, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, seriousViolations, startConsoleTest } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;

const ladder = {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'SILVER', name: 'Silver', threshold: 100, earnMultiplier: 1.2 },
    { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400, earnMultiplier: 1.5 },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 },
};
/** Growth of the seeded members: one per 10 yuan paid. BASE: 0; SILVER: 150, 250; GOLD: 600. */
const GROWTH: Record<string, number> = { 'tm-0': 0, 'tm-150': 150, 'tm-250': 250, 'tm-600': 600 };

beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  expect((await app.request('PUT', '/v1/admin/tiers', { token: ops, body: ladder })).status).toBe(200);
  const rule = await app.request('PUT', '/v1/admin/earning-rules/growth', {
    token: ops,
    body: { name: 'growth per 10 yuan', eventType: 'order.paid', growth: { kind: 'per-unit', property: 'amount', unit: 10, points: 1 } },
  });
  expect(rule.status).toBe(201);
  for (const [memberId, growth] of Object.entries(GROWTH)) {
    expect((await app.request('POST', '/v1/members', { token: service, body: { memberId } })).status).toBe(201);
    if (!growth) continue;
    const paid = await app.request('POST', '/v1/events', {
      token: service,
      body: { eventId: `paid-${memberId}`, memberId, type: 'order.paid', occurredAt: app.clock.now().toISOString(), properties: { orderId: `o-${memberId}`, amount: growth * 10 } },
    });
    expect(paid.status, paid.text).toBe(201);
  }
});
afterAll(() => closeConsoleTest(app, browser));

/** The cells of a tier's row in a table, as the operator reads them. */
const rowOf = (page: Page, table: string, code: string) =>
  page.locator(`table.${table} tr`).filter({ has: page.getByRole('rowheader', { name: code, exact: true }) }).locator('td').allInnerTexts();

describe('the tier ladder screen', () => {
  it('when ops change the ladder, then the preview counts the members per tier as the API does, and a save after the preview makes a new version', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/tiers' });
    await page.getByRole('heading', { level: 1, name: 'Tier ladder' }).waitFor();
    const current = page.locator('table').first();
    await current.getByRole('cell', { name: 'GOLD', exact: true }).waitFor();
    // The counts arrive after the ladder (a second call): poll until they are drawn.
    await expect.poll(() => current.locator('tr', { hasText: 'SILVER' }).locator('td').last().innerText()).toBe('2');

    await page.getByLabel('Threshold of tier 2', { exact: true }).fill('200');
    await page.getByRole('button', { name: 'Add a tier' }).click();
    await page.getByLabel('Code of tier 4', { exact: true }).fill('PLATINUM');
    await page.getByLabel('Name of tier 4', { exact: true }).fill('Platinum');
    await page.getByLabel('Threshold of tier 4', { exact: true }).fill('600');
    const save = page.getByRole('button', { name: 'Save ladder' });
    await expect.poll(() => save.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: 'What-if preview (today)' }).waitFor();

    const edited = {
      tiers: [
        { code: 'BASE', name: 'Member', threshold: 0, earnMultiplier: 1, benefitCodes: [] },
        { code: 'SILVER', name: 'Silver', threshold: 200, earnMultiplier: 1.2, benefitCodes: [] },
        { code: 'GOLD', name: 'Gold', threshold: 500, keepThreshold: 400, earnMultiplier: 1.5, benefitCodes: [] },
        { code: 'PLATINUM', name: 'Platinum', threshold: 600, earnMultiplier: 1, benefitCodes: [] },
      ],
      policy: ladder.policy,
    };
    const api = await app.request('POST', '/v1/admin/tiers/preview', { token: ops, body: { ladder: edited } });
    const now = await app.request('POST', '/v1/admin/tiers/preview', { token: ops, body: {} });
    expect(api.body.counts).toEqual({ BASE: 2, SILVER: 1, GOLD: 0, PLATINUM: 1 });
    for (const code of ['BASE', 'SILVER', 'GOLD', 'PLATINUM']) {
      const [before, after] = await rowOf(page, 'tiers-preview', code);
      expect(after, code).toBe(String(api.body.counts[code]));
      expect(before, code).toBe(code === 'PLATINUM' ? '—' : String(now.body.counts[code]));
    }

    // An edit after the preview needs a new preview before it may be saved.
    await page.getByLabel('Name of tier 4', { exact: true }).fill('Platinum club');
    await expect.poll(() => save.isDisabled()).toBe(true);
    await page.getByText('preview again before saving').waitFor();
    await page.getByLabel('Name of tier 4', { exact: true }).fill('Platinum');
    await expect.poll(() => save.isDisabled()).toBe(false);

    await save.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Save this ladder as a new version?').waitFor();
    await dialog.getByRole('button', { name: 'Save ladder' }).dblclick();
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();
    const read = await app.request('GET', '/v1/tiers', { token: service });
    expect(read.body.ladder.version).toBe(2);
    expect(read.body.ladder.tiers.map((t: { code: string; threshold: number }) => [t.code, t.threshold])).toEqual([
      ['BASE', 0], ['SILVER', 200], ['GOLD', 500], ['PLATINUM', 600],
    ]);
    await page.getByText('Version 2, saved').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the edited ladder breaks a rule, then the service’s validation messages are shown next to the editor and nothing is saved', async () => {
    const { page, context } = await openConsole(browser, app, { route: '#/tiers' });
    await page.getByLabel('Threshold of tier 3', { exact: true }).fill('50');
    await page.getByLabel('Code of tier 2', { exact: true }).fill('silver');
    await page.getByRole('button', { name: 'Preview' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' });
    await alert.getByText('thresholds must increase up the ladder').waitFor();
    expect(await alert.innerText()).toContain('body.ladder.tiers.1.code');
    await expect.poll(() => page.getByRole('button', { name: 'Save ladder' }).isDisabled()).toBe(true);
    expect((await app.request('GET', '/v1/tiers', { token: service })).body.ladder.version).toBe(2);
    await context.close();
  });

  it('when the console is in Chinese, then the ladder screen speaks Chinese', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/tiers', locale: 'zh-CN' });
    await page.getByRole('heading', { level: 1, name: '会员等级体系' }).waitFor();
    await page.getByRole('heading', { name: '编辑等级体系' }).waitFor();
    await page.getByLabel('第 2 级的升级门槛', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: '预览' }).count()).toBe(1);
    await expect.poll(() => page.getByRole('button', { name: '保存等级体系' }).isDisabled()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the program editors are checked with axe, then none has a serious or critical violation', async () => {
    const { page, context } = await openConsole(browser, app, { route: '#/tiers', bypassCSP: true });
    const screens: [string, string][] = [['#/tiers', 'Tier ladder'], ['#/rules', 'Earning rules'], ['#/rules/growth', 'Earning rules'], ['#/checkins', 'Check-in program'], ['#/tasks/new', 'Tasks']];
    for (const [route, heading] of screens) {
      await page.evaluate((r) => (location.hash = r), route);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.getByRole('status').filter({ hasText: 'Loading' }).waitFor({ state: 'detached' });
      expect(await seriousViolations(page), route).toEqual([]);
    }
    await context.close();
  });
});
