import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ops, type TestApp } from '../helpers/app.js';
import { defineBenefit } from '../helpers/benefits.js';
import { closeConsoleTest, openConsole, startConsoleTest } from '../helpers/browser.js';
import { basicProgram, codeOf, decide, invite, order, putProgram, referralEffect, register } from '../referrals/helpers.js';

let app: TestApp;
let browser: Browser;
/**
 * At 08:00Z (16:00 in Shanghai) 22 benefits are created, more than a page; at 10:00Z (18:00 there) one is restocked
 * and a referral in review is approved.
 */
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  for (let i = 0; i < 22; i++) await defineBenefit(app, `bulk-${String(i).padStart(2, '0')}`, { stock: 5 });
  await putProgram(app, basicProgram({ monthlyCap: 1 }));
  await register(app, 'au-ref');
  const code = await codeOf(app, 'au-ref');
  for (const m of ['au-first', 'au-inv']) await invite(app, code, m);
  await order(app, 'au-first', 'SO-au1', 100);
  expect(referralEffect(await order(app, 'au-inv', 'SO-au2', 100)).state).toBe('review');
  app.clock.set('2026-03-01T10:00:00Z');
  await defineBenefit(app, 'bulk-00', { stock: 15 });
  expect((await decide(app, 'au-inv', 'approve', 'checked by phone')).status).toBe(200);
});
afterAll(() => closeConsoleTest(app, browser));

const records = (page: import('playwright-core').Page) => page.locator('table.audit-records > tbody > tr');

describe('the audit log', () => {
  it('when ops open it, then records come newest first by the API’s pages, the next one on "Load more"', async () => {
    const all = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const res: { body: { items: unknown[]; nextCursor: string | null } } = await app.request('GET', `/v1/admin/audit?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token: ops });
      all.push(...res.body.items);
      cursor = res.body.nextCursor;
    }
    expect(all.length).toBeGreaterThan(20);
    const { page, context, errors } = await openConsole(browser, app, { route: '#/audit' });
    await expect.poll(() => records(page).count()).toBe(20);
    expect(await records(page).first().locator('td').nth(2).textContent()).toBe('referral.approve');
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => records(page).count()).toBe(Math.min(all.length, 40));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops filter by action, then only those records are listed, the restock with its actor and stock before and after', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/audit' });
    await expect.poll(() => records(page).count()).toBe(20);
    await page.getByLabel('Action').fill('benefit.update');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => records(page).count()).toBe(1);
    const row = records(page).first();
    expect(await row.locator('td').nth(1).textContent()).toBe('ops:ops-1');
    expect(await row.locator('td').nth(3).textContent()).toContain('benefit bulk-00');
    const stock = row.getByRole('row').filter({ has: page.getByText('stock', { exact: true }) });
    expect(await stock.getByRole('cell').allTextContents()).toEqual(['stock', '5', '15']);
    // The time in the program's zone (18:00 in Shanghai), UTC on hover.
    expect(await row.locator('time').getAttribute('title')).toBe('2026-03-01 10:00:00 UTC');
    expect(await row.locator('time').textContent()).toContain('6:00:00');
    await expect.poll(() => page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops filter the approval by action and target, then it shows the actor and the decision before and after', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/audit' });
    await page.getByLabel('Action').fill('referral.approve');
    await page.getByLabel('Target id').fill('au-inv');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => records(page).count()).toBe(1);
    const row = records(page).first();
    expect(await row.locator('td').nth(1).textContent()).toBe('ops:ops-1');
    const api = (await app.request('GET', '/v1/admin/audit?action=referral.approve&targetId=au-inv', { token: ops })).body.items[0];
    await row.getByText('Whole records').click();
    const [before, after] = await row.locator('pre').allTextContents();
    expect(JSON.parse(before!)).toEqual(api.before);
    expect(JSON.parse(after!)).toEqual(api.after);
    expect(after).toContain('checked by phone');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops give a time range in the program’s zone, then it is sent as instants and only the records inside it are listed', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/audit' });
    await page.getByLabel('From').fill('2026-03-01T17:00');
    await page.getByLabel('Until').fill('2026-03-01T19:00');
    const asked = page.waitForRequest((r) => r.url().includes('/v1/admin/audit') && r.url().includes('from='));
    await page.getByRole('button', { name: 'Apply' }).click();
    const url = new URL((await asked).url());
    expect([url.searchParams.get('from'), url.searchParams.get('to')]).toEqual(['2026-03-01T09:00:00.000Z', '2026-03-01T11:00:00.000Z']);
    await expect.poll(() => records(page).locator(':scope > td:nth-child(3)').allTextContents()).toEqual(['referral.approve', 'benefit.update']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
