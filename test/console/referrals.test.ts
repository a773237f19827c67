import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ops, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, startConsoleTest } from '../helpers/browser.js';
import { available, basicProgram, codeOf, invite, order, putProgram, referralEffect, referralOf, register } from '../referrals/helpers.js';

let app: TestApp;
let browser: Browser;
/**
 * A referrer with a cap of one rewarded invite a month: its first invitee's order pays, the next two wait for review
 * with monthly_cap (test/referrals/review.test.ts shows each guard).
 */
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
  await putProgram(app, basicProgram({ monthlyCap: 1 }));
  await register(app, 'rf-ref');
  const code = await codeOf(app, 'rf-ref');
  for (const m of ['rf-first', 'rf-ok', 'rf-no']) await invite(app, code, m);
  expect(referralEffect(await order(app, 'rf-first', 'SO-first', 100)).state).toBe('rewarded');
  for (const m of ['rf-ok', 'rf-no']) expect(referralEffect(await order(app, m, `SO-${m}`, 100)).state).toBe('review');
});
afterAll(() => closeConsoleTest(app, browser));

describe('the review queue', () => {
  it('when ops open referrals, then the review queue lists the referrals in review with why, and another state lists its own', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/referrals' });
    await page.getByRole('heading', { level: 2, name: 'Review queue' }).waitFor();
    const queue = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Review queue' }) });
    await expect.poll(() => queue.getByRole('link').allTextContents()).toEqual(['rf-no', 'rf-ok']);
    await queue.getByRole('row').filter({ hasText: 'rf-ok' }).getByText('monthly cap of rewarded invites').waitFor();
    await page.getByLabel('Show').selectOption('rewarded');
    const list = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Referrals' }) });
    await expect.poll(() => list.getByRole('link').allTextContents()).toEqual(['rf-first']);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('deciding a referral in review', () => {
  it('when ops approve with a note and double-click the confirmation, then it becomes rewarded in the console and the API, paid once', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/referrals' });
    await page.getByRole('link', { name: 'rf-ok' }).click();
    await page.getByRole('heading', { level: 1, name: 'Referral of rf-ok' }).waitFor();
    await page.getByText('monthly_cap: The referrer has reached the monthly cap of rewarded invites.').waitFor();
    await page.getByText('Sent to review').waitFor();
    expect(await page.getByTestId('referral-state').textContent()).toBe('in review');
    await page.getByLabel('Note').fill('known customer');
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByRole('button', { name: 'Confirm approval' }).dblclick();
    await expect.poll(() => page.getByTestId('referral-state').textContent()).toBe('rewarded');
    await page.getByText('Approved by ops:ops-1 — “known customer”').waitFor();
    await page.getByText('Rewards spendable').waitFor();
    expect(await page.getByRole('button', { name: 'Approve…' }).count()).toBe(0);

    expect(await referralOf(app, 'rf-ok')).toMatchObject({ state: 'rewarded', decision: { outcome: 'approved', note: 'known customer', by: 'ops:ops-1' } });
    expect([await available(app, 'rf-ref'), await available(app, 'rf-ok')]).toEqual([200, 50]);
    const audit = await app.request('GET', '/v1/admin/audit?targetId=rf-ok', { token: ops });
    expect(audit.body.items.map((i: { action: string }) => i.action)).toEqual(['referral.approve']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when ops reject with a note, then it becomes rejected, nothing is paid, and the note is kept', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/referrals/rf-no' });
    await page.getByLabel('Note').fill('same household');
    await page.getByRole('button', { name: 'Reject…' }).click();
    await page.getByText('Reject the referral of rf-no: nothing is paid.').waitFor();
    await page.getByRole('button', { name: 'Confirm rejection' }).click();
    await expect.poll(() => page.getByTestId('referral-state').textContent()).toBe('rejected');
    expect(await referralOf(app, 'rf-no')).toMatchObject({ state: 'rejected', decision: { outcome: 'rejected', note: 'same household' }, rewards: null });
    expect([await available(app, 'rf-ref'), await available(app, 'rf-no')]).toEqual([200, 0]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the referral program', () => {
  it('when ops change the cap and confirm, then the API holds the program as its next version', async () => {
    const before = (await app.request('GET', '/v1/admin/referral-program', { token: ops })).body.program;
    const { page, context, errors } = await openConsole(browser, app, { route: '#/referrals' });
    await page.getByLabel('Monthly cap per referrer').fill('5');
    await page.getByLabel('Referrer points').fill('120');
    await page.getByRole('button', { name: 'Review and save' }).click();
    await page.getByRole('button', { name: 'Confirm save' }).click();
    await page.getByText(`Version ${before.version + 1}, saved`).waitFor();
    const after = (await app.request('GET', '/v1/admin/referral-program', { token: ops })).body.program;
    expect(after).toMatchObject({ version: before.version + 1, monthlyCap: 5, rewards: { referrer: { points: 120 }, invitee: { points: 50 } }, holdDays: 0 });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the console is in zh-CN, then a referral’s page speaks Chinese', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/referrals/rf-no', locale: 'zh-CN' });
    await page.getByRole('heading', { level: 2, name: '风控信号' }).waitFor();
    expect(await page.getByTestId('referral-state').textContent()).toBe('已拒绝');
    expect(errors).toEqual([]);
    await context.close();
  });
});
