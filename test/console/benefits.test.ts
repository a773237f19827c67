import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ops, type TestApp } from '../helpers/app.js';
import { adminRedemptions, defineBenefit, issued, memberWith } from '../helpers/benefits.js';
import { closeConsoleTest, openConsole, startConsoleTest } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  await defineBenefit(app, 'coffee', { name: 'Coffee coupon', costPoints: 100, stock: 5 });
  await memberWith(app, 'bn-1', 500);
  await issued(app, 'bn-1', 'coffee', 2);
});
afterAll(() => closeConsoleTest(app, browser));

const benefit = async (code: string) => (await app.request('GET', `/v1/admin/benefits/${code}`, { token: ops })).body.benefit;

describe('the benefits catalogue', () => {
  it('when ops open the catalogue, then each benefit shows its total stock and what is left, as the API answers it', async () => {
    expect(await benefit('coffee')).toMatchObject({ stock: 5, stockLeft: 3 });
    const { page, context, errors } = await openConsole(browser, app, { route: '#/benefits' });
    await page.getByRole('heading', { level: 1, name: 'Benefits' }).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'coffee' }) });
    await expect.poll(() => row.getByRole('cell').allTextContents()).toEqual(['coffee', 'Coffee coupon', 'coupon', '100', '5', '3', 'Yes', expect.any(String)]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('a benefit’s page', () => {
  it('when ops restock a benefit and double-click the confirmation, then the stock left shown grows once and the API agrees', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/benefits/coffee' });
    const left = page.getByTestId('stock-left');
    await expect.poll(() => left.textContent()).toBe('3');
    await page.getByLabel('Units to add').fill('10');
    await page.getByRole('button', { name: 'Restock…' }).click();
    await page.getByRole('group', { name: 'Confirm restock' }).getByText('5 → 15 in all, 3 → 13 left').waitFor();
    await page.getByRole('button', { name: 'Confirm restock' }).dblclick();
    await expect.poll(() => left.textContent()).toBe('13');
    await page.getByRole('status').filter({ hasText: 'Restocked: 13 left.' }).waitFor();
    expect(await benefit('coffee')).toMatchObject({ stock: 15, stockLeft: 13, version: 2 });
    const audit = await app.request('GET', '/v1/admin/audit?targetId=coffee&action=benefit.update', { token: ops });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ before: { stock: 5 }, after: { stock: 15 } });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops open a benefit, then its redemptions list the seeded one with its member, status, voucher and time', async () => {
    const [seeded] = await adminRedemptions(app, 'benefit=coffee');
    const { page, context, errors } = await openConsole(browser, app, { route: '#/benefits/coffee' });
    const section = page.getByRole('region').or(page.locator('section')).filter({ has: page.getByRole('heading', { name: 'Redemptions' }) });
    const row = section.getByRole('row').filter({ has: page.getByRole('link', { name: 'bn-1' }) });
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(1, 6)).toEqual(['bn-1', '2', 'issued', '200', seeded.voucherCode]);
    expect(await row.locator('time').first().getAttribute('title')).toBe('2026-03-01 08:00:00 UTC');
    await section.getByLabel('Status').selectOption('used');
    await section.getByText('No redemptions of this benefit.').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops edit a benefit in the form and confirm, then the API holds the new definition as the next version', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/benefits/coffee' });
    await page.getByLabel('Name').fill('Large coffee');
    await page.getByLabel('Cost (points)').fill('150');
    await page.getByLabel('Other fields (JSON)').fill('{"voucherValidDays": 14}');
    await page.getByRole('button', { name: 'Review and save' }).click();
    await page.getByRole('button', { name: 'Confirm save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Benefits: Large coffee' }).waitFor();
    expect(await benefit('coffee')).toMatchObject({ name: 'Large coffee', costPoints: 150, voucherValidDays: 14, stock: 15, version: 3 });
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('grants', () => {
  it('when ops grant a benefit to listed members and double-click the confirmation, then the job is followed until done and each member holds the benefit once', async () => {
    await defineBenefit(app, 'sorry-tea', { name: 'Sorry tea', costPoints: 300, stock: null });
    for (const id of ['gr-1', 'gr-2']) await memberWith(app, id, 0);
    const { page, context, errors } = await openConsole(browser, app, { route: '#/grants' });
    await page.getByLabel('Benefit code').fill('sorry-tea');
    await page.getByLabel('Member ids').fill('gr-1\ngr-2, gr-2');
    await page.getByLabel('Note (optional)').fill('outage apology');
    await page.getByRole('button', { name: 'Review grant…' }).click();
    await page.getByText('Grant “sorry-tea” free to 2 listed members?').waitFor();
    await page.getByRole('button', { name: 'Confirm grant' }).dblclick();
    await expect.poll(() => page.getByTestId('grant-status').textContent(), { timeout: 20_000 }).toBe('done');
    const id = decodeURIComponent(page.url().split('#/grants/')[1]!);
    const grant = (await app.request('GET', `/v1/admin/benefit-grants/${id}`, { token: ops })).body.grant;
    expect(grant).toMatchObject({ status: 'done', total: 2, processed: 2, issued: 2, failed: 0, note: 'outage apology' });
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('Issued2');
    for (const member of ['gr-1', 'gr-2']) {
      const held = await adminRedemptions(app, `benefit=sorry-tea&memberId=${member}`);
      expect(held.map((r) => [r.status, r.pointsSpent])).toEqual([['issued', 0]]);
    }
    const grants = await app.request('GET', '/v1/admin/audit?action=benefit-grant.create', { token: ops });
    expect(grants.body.items).toHaveLength(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops preview a segment, then its members are listed by the API’s pages, the next one on "Load more"', async () => {
    for (let i = 0; i < 20; i++) await memberWith(app, `seg-${String(i).padStart(2, '0')}`, 0);
    const { page, context, errors } = await openConsole(browser, app, { route: '#/grants' });
    const preview = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Segment preview' }) });
    await preview.getByLabel('Segment').fill('active');
    await preview.getByRole('button', { name: 'Show' }).click();
    const first = await app.request('GET', '/v1/admin/segments/active/members?limit=20', { token: ops });
    const rest = await app.request('GET', `/v1/admin/segments/active/members?limit=20&cursor=${first.body.nextCursor}`, { token: ops });
    const ids = (body: { items: { memberId: string }[] }) => body.items.map((i) => i.memberId);
    await expect.poll(() => preview.getByRole('link').allTextContents()).toEqual(ids(first.body));
    await preview.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => preview.getByRole('link').allTextContents()).toEqual([...ids(first.body), ...ids(rest.body)]);
    expect(ids(rest.body).length).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('in Chinese', () => {
  it('when the console is in zh-CN, then the benefits screen speaks Chinese', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/benefits', locale: 'zh-CN' });
    await page.getByRole('heading', { level: 1, name: '权益商城' }).waitFor();
    await page.getByRole('columnheader', { name: '剩余库存' }).waitFor();
    await page.getByRole('cell', { name: '优惠券' }).first().waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
