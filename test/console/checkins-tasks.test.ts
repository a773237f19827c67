import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ops, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, startConsoleTest } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
});
afterAll(() => closeConsoleTest(app, browser));

const label = (page: Page, text: string) => page.getByLabel(text, { exact: true });
const confirmIn = (page: Page, name: string) => page.getByRole('dialog').getByRole('button', { name }).click();

describe('the check-in program screen', () => {
  it('when ops edit the cycle, milestones and make-up rules and confirm, then the API returns the new program', async () => {
    const before = (await app.request('GET', '/v1/admin/checkin-config', { token: ops })).body;
    expect(before.updatedAt).toBeNull();
    const { page, context, errors } = await openConsole(browser, app, { route: '#/checkins' });
    await page.getByRole('heading', { level: 1, name: 'Check-in program' }).waitFor();
    await page.getByText('this is the default program').waitFor();
    const days = before.config.cycle.length;
    expect(await label(page, 'Points on day 1').inputValue()).toBe(String(before.config.cycle[0]));

    await label(page, 'Points on day 3').fill('15');
    await page.getByRole('button', { name: 'Add a day' }).click();
    await label(page, `Points on day ${days + 1}`).fill('50');
    for (const _ of before.config.milestones) await page.getByRole('button', { name: 'Remove milestone 1' }).click();
    await page.getByRole('button', { name: 'Add a milestone' }).click();
    await label(page, 'Streak (days) of milestone 1').fill('7');
    await label(page, 'Points of milestone 1').fill('100');
    await label(page, 'Growth of milestone 1').fill('10');
    await label(page, 'Growth per check-in').fill('2');
    await label(page, 'Make-up cost (points)').fill('20');
    await label(page, 'Make-ups per month').fill('3');
    await page.getByRole('button', { name: 'Save check-in program' }).click();
    await page.getByRole('dialog').getByText('Save this check-in program?').waitFor();
    await confirmIn(page, 'Save check-in program');
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByText('Last saved').waitFor();

    const after = (await app.request('GET', '/v1/admin/checkin-config', { token: ops })).body;
    const cycle = [...before.config.cycle];
    cycle[2] = 15;
    expect(after.config).toEqual({ cycle: [...cycle, 50], milestones: [{ streak: 7, points: 100, growth: 10 }], growthPerCheckin: 2, makeup: { cost: 20, perMonth: 3 } });
    expect(after.updatedAt).not.toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when a milestone repeats a streak, then the service’s message is shown and the program is unchanged', async () => {
    const before = (await app.request('GET', '/v1/admin/checkin-config', { token: ops })).body;
    const { page, context } = await openConsole(browser, app, { route: '#/checkins' });
    await page.getByRole('button', { name: 'Add a milestone' }).click();
    await label(page, 'Streak (days) of milestone 2').fill('7');
    await label(page, 'Points of milestone 2').fill('5');
    await page.getByRole('button', { name: 'Save check-in program' }).click();
    await confirmIn(page, 'Save check-in program');
    await page.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' }).getByText('streak 7 appears twice').waitFor();
    expect((await app.request('GET', '/v1/admin/checkin-config', { token: ops })).body).toEqual(before);
    await context.close();
  });
});

describe('the tasks screen', () => {
  const getTask = (code: string) => app.request('GET', `/v1/admin/tasks/${code}`, { token: ops });

  it('when ops create a task, edit it and delete it, then the API follows each step', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/tasks' });
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    await page.getByText('No task yet.').waitFor();

    await page.getByRole('link', { name: 'New task' }).click();
    await label(page, 'Code').fill('first-order');
    await label(page, 'Name').fill('First order');
    await label(page, 'Events to complete').fill('1');
    await label(page, 'Window type').selectOption('from-registration');
    await label(page, 'Days').fill('7');
    await label(page, 'Reward points').fill('100');
    await label(page, 'Badge code').fill('first-buyer');
    await label(page, 'Badge name').fill('First buyer');
    await page.getByRole('button', { name: 'Save task' }).click();
    await confirmIn(page, 'Save task');
    await page.getByRole('status').filter({ hasText: 'Saved task first-order.' }).waitFor();
    const created = await getTask('first-order');
    expect(created.status).toBe(200);
    expect(created.body.task).toMatchObject({
      name: 'First order', eventType: 'order.paid', target: 1, active: true, repeatable: false,
      window: { type: 'from-registration', days: 7 }, reward: { points: 100, badge: { code: 'first-buyer', name: 'First buyer' } },
    });

    await page.getByRole('link', { name: 'All tasks' }).click();
    await page.getByRole('cell', { name: 'First 7 days after registration' }).waitFor();
    await page.getByRole('link', { name: 'first-order' }).click();
    await page.getByRole('heading', { name: 'Task first-order' }).waitFor();
    await label(page, 'Events to complete').fill('2');
    await label(page, 'Reward points').fill('200');
    await label(page, 'Condition on an event property (JSON, optional)').fill('{"property": "amount", "min": 50}');
    await page.getByRole('button', { name: 'Save task' }).click();
    await confirmIn(page, 'Save task');
    await page.getByRole('status').filter({ hasText: 'Saved task first-order.' }).waitFor();
    expect((await getTask('first-order')).body.task).toMatchObject({ target: 2, reward: { points: 200 }, condition: { property: 'amount', min: 50 } });

    await page.getByRole('link', { name: 'All tasks' }).click();
    await page.getByRole('button', { name: 'Delete task first-order' }).click();
    await page.getByRole('dialog').getByText('Delete task first-order?').waitFor();
    await confirmIn(page, 'Delete');
    await page.getByRole('status').filter({ hasText: 'Deleted task first-order.' }).waitFor();
    await page.getByText('No task yet.').waitFor();
    expect((await getTask('first-order')).status).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when a task pays nothing, then the service’s message is shown and nothing is saved', async () => {
    const { page, context } = await openConsole(browser, app, { route: '#/tasks/new' });
    await label(page, 'Code').fill('pays-nothing');
    await label(page, 'Name').fill('Nothing');
    await page.getByRole('button', { name: 'Save task' }).click();
    await confirmIn(page, 'Save task');
    await page.getByRole('alert').filter({ hasText: 'VALIDATION_FAILED' }).getByText('a task pays points, growth or a badge').waitFor();
    expect((await getTask('pays-nothing')).status).toBe(404);
    await context.close();
  });
});
