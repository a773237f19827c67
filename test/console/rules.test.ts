import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ops, service, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, startConsoleTest } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;
const perYuan = { name: '1 point per yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 } };

beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  expect((await app.request('PUT', '/v1/admin/earning-rules/per-yuan', { token: ops, body: perYuan })).status).toBe(201);
  expect((await app.request('POST', '/v1/members', { token: service, body: { memberId: 'rule-m1' } })).status).toBe(201);
});
afterAll(() => closeConsoleTest(app, browser));

const label = (page: Page, text: string) => page.getByLabel(text, { exact: true });
const getRule = async (code: string) => (await app.request('GET', `/v1/admin/earning-rules/${code}`, { token: ops })).body.rule;
/** The sample event the dry-run panel sends, as the operator left it in the textarea, with the member filled in. */
const sampleOf = async (page: Page) => ({ ...JSON.parse(await label(page, 'Sample event (JSON)').inputValue()), memberId: 'rule-m1' });

describe('the earning rules screen', () => {
  it('when ops edit a rule and dry-run it, then they see what the API’s dry run pays, nothing is saved until they save, and then the API has the edit', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/rules' });
    await page.getByRole('heading', { level: 1, name: 'Earning rules' }).waitFor();
    await page.getByRole('cell', { name: '1 per 1 amount' }).waitFor();
    await page.getByRole('link', { name: 'per-yuan' }).click();
    await page.getByRole('heading', { name: 'Rule per-yuan' }).waitFor();

    await label(page, 'Unit size').fill('10');
    await label(page, 'Points per unit').fill('3');
    await label(page, 'Member id').fill('rule-m1');
    await page.getByRole('button', { name: 'Dry run' }).click();
    const result = page.locator('.rules-dry-run');
    await result.getByText('In all:').waitFor();

    const draft = { ...perYuan, active: true, conditions: {}, caps: {}, points: { kind: 'per-unit', property: 'amount', unit: 10, points: 3 } };
    const api = await app.request('POST', '/v1/admin/earning-rules/dry-run', { token: ops, body: { event: await sampleOf(page), draft: { code: 'per-yuan', rule: draft } } });
    expect(api.status, api.text).toBe(200);
    const expected = api.body.evaluations.find((e: { rule: string }) => e.rule === 'per-yuan');
    expect(expected.points).toBe(36); // 128 yuan: 12 units of 10, 3 points each
    const row = result.locator('tr', { has: page.getByRole('rowheader', { name: 'per-yuan (unsaved edit)' }) });
    expect(await row.locator('td').allInnerTexts()).toEqual(['Matched', '36', '0', '×1', '']);
    expect(await result.innerText()).toContain(`In all: ${api.body.totalPoints} points and ${api.body.totalGrowth} growth.`);
    expect((await getRule('per-yuan')).points).toEqual(perYuan.points);
    expect((await app.request('GET', '/v1/admin/audit?action=earning-rule.update', { token: ops })).body.items).toHaveLength(0);

    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved rule per-yuan.' }).waitFor();
    expect((await getRule('per-yuan')).points).toEqual({ kind: 'per-unit', property: 'amount', unit: 10, points: 3 });
    const list = await app.request('GET', '/v1/admin/earning-rules', { token: ops });
    expect(list.body.items.map((r: { code: string }) => r.code)).toEqual(['per-yuan']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when a new rule is invalid, then the service’s validation message is shown; fixed, it is saved and listed', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/rules' });
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByRole('heading', { name: 'New earning rule' }).waitFor();
    await label(page, 'Code').fill('coffee-bonus');
    await label(page, 'Name').fill('Coffee bonus');
    await label(page, 'Points formula').selectOption('fixed');
    await label(page, 'Points per event').fill('50');
    const extra = label(page, 'Growth, conditions, multipliers and caps (JSON)');
    await extra.fill('{"conditions": {"categories": ["coffee"]}, "caps": {"perDay": 5, "perMonth": 2');
    await page.getByRole('alert').filter({ hasText: 'Not valid JSON' }).first().waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Save rule' }).isDisabled()).toBe(true);
    await extra.fill('{"conditions": {"categories": ["coffee"]}, "caps": {"perDay": 5, "perMonth": 2}}');

    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save rule' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' });
    await refusal.getByText('a daily cap above the monthly cap can never be reached').waitFor();
    expect(await refusal.innerText()).toContain('body.caps.perDay');
    expect((await app.request('GET', '/v1/admin/earning-rules/coffee-bonus', { token: ops })).status).toBe(404);

    await extra.fill('{"conditions": {"categories": ["coffee"]}, "caps": {"perDay": 1}}');
    await label(page, 'Member id').fill('rule-m1');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('rowheader', { name: 'coffee-bonus (unsaved edit)' }).waitFor();
    expect((await app.request('GET', '/v1/admin/earning-rules/coffee-bonus', { token: ops })).status).toBe(404);

    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved rule coffee-bonus.' }).waitFor();
    await page.getByRole('heading', { name: 'Rule coffee-bonus' }).waitFor();
    expect(page.url()).toContain('#/rules/coffee-bonus');
    const saved = await getRule('coffee-bonus');
    expect(saved).toMatchObject({ name: 'Coffee bonus', points: { kind: 'fixed', amount: 50 }, conditions: { categories: ['coffee'] }, caps: { perDay: 1 } });
    await page.getByRole('link', { name: 'All rules' }).click();
    await page.getByRole('link', { name: 'coffee-bonus' }).waitFor();
    // The refused save is the one failed answer; nothing else may go wrong.
    expect(errors).toEqual(['HTTP 400 PUT /v1/admin/earning-rules/coffee-bonus']);
    await context.close();
  });
});
