import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ManualClock } from '../../src/platform/clock.js';
import { ops, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, seriousViolations, startConsoleTest } from '../helpers/browser.js';
import { seedDemo } from '../helpers/demo.js';

let app: TestApp;
let browser: Browser;
let referralId: string;
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ clock: new ManualClock(new Date()), env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  await seedDemo(app.url);
  const referrals = await app.request('GET', '/v1/admin/referrals?limit=1', { token: ops });
  referralId = referrals.body.items[0].invitee;
}, 300_000);
afterAll(() => closeConsoleTest(app, browser));

/** Every screen of the console, with the demo program's data behind it. */
const screens = (): string[] => [
  '#/dashboard',
  '#/members',
  '#/members/demo-001',
  '#/tiers',
  '#/rules',
  '#/checkins',
  '#/tasks',
  '#/benefits',
  '#/benefits/free-shipping',
  '#/grants',
  '#/referrals',
  `#/referrals/${referralId}`,
  '#/audit',
];

describe('accessibility of every screen (axe-core)', () => {
  for (const locale of ['en', 'zh-CN'] as const) {
    it(`when every screen is opened in ${locale} with data, then axe finds no serious or critical violation and the page logs no error`, async () => {
      const { page, context, errors } = await openConsole(browser, app, { locale, bypassCSP: true });
      await page.getByRole('navigation').waitFor();
      const found: Record<string, unknown> = {};
      for (const route of screens()) {
        await page.evaluate((r) => (location.hash = r), route);
        await page.locator('main h1').first().waitFor();
        await page.waitForFunction(() => document.querySelectorAll('[role=status]').length === 0, undefined, { timeout: 20_000 });
        const violations = await seriousViolations(page);
        if (violations.length > 0) found[route] = violations;
      }
      expect(found).toEqual({});
      expect(errors).toEqual([]);
      await context.close();
    }, 180_000);
  }

  it('when a screen gains an image without text and an unlabelled input, then the check reports them (it is not blind)', async () => {
    const { page, context } = await openConsole(browser, app, { bypassCSP: true, route: '#/tasks' });
    await page.locator('main h1').first().waitFor();
    await page.evaluate(() => document.querySelector('main')!.insertAdjacentHTML('beforeend', '<img src="data:,"><input type="text">'));
    const ids = (await seriousViolations(page)).map((v) => v.id).sort();
    expect(ids).toEqual(['image-alt', 'label']);
    await context.close();
  });

  it('when the sign-in screen is shown, then it has no serious or critical violation either', async () => {
    const { page, context } = await openConsole(browser, app, { token: null, bypassCSP: true });
    await page.getByLabel('Ops token').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
