import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ops, service, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, seriousViolations, startConsoleTest } from '../helpers/browser.js';
import { checkedIn } from '../helpers/checkins.js';
import { balanceOf, earned, historyOf, points, registerMember } from '../helpers/ledger.js';

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
});
afterAll(() => closeConsoleTest(app, browser));

/** A member with 300 points available at the clock's start (2026-03-01T08:00Z, 16:00 in Shanghai). */
async function memberWith300(id: string): Promise<void> {
  await registerMember(app, id);
  await earned(app, id, 300);
}

const available = (page: Page) => page.locator('li[data-balance="available"] .value');
const historyRows = (page: Page) => page.locator('table.members-history tbody tr');

async function openMember(id: string, opts: { bypassCSP?: boolean } = {}) {
  const opened = await openConsole(browser, app, { route: `#/members/${id}`, ...opts });
  await opened.page.getByRole('heading', { level: 1, name: `Member ${id}` }).waitFor();
  await historyRows(opened.page).first().waitFor();
  return opened;
}

/** Fills the adjustment form and opens its confirm step. */
async function reviewAdjustment(page: Page, delta: number, reason: string): Promise<void> {
  await page.getByLabel('Points to add (negative to take away)').fill(String(delta));
  await page.getByLabel('Reason (required, kept in the audit log)').fill(reason);
  await page.getByRole('button', { name: 'Review the adjustment' }).click();
  await page.getByRole('dialog', { name: 'Confirm the adjustment' }).waitFor();
}

describe('members: finding one', () => {
  it('when an operator searches a member id, then the profile shows the balances, check-in streak and history the API gives, times in the program zone with UTC on hover', async () => {
    const res = await app.request('POST', '/v1/members', { token: service, body: { memberId: 'find-1', displayName: 'Li Lei' } });
    expect(res.status).toBe(201);
    await earned(app, 'find-1', 300, { expiresAt: '2026-03-20T00:00:00Z' });
    await earned(app, 'find-1', 40, { availableAt: '2026-03-08T00:00:00Z' });
    await checkedIn(app, 'find-1', '2026-03-01');
    expect((await points.hold(app, 'find-1', { amount: 25, code: 'redemption' })).status).toBe(201);

    const { page, context, errors } = await openConsole(browser, app, { route: '#/members', bypassCSP: true });
    await page.getByLabel('Member id').fill('find-1');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('heading', { level: 1, name: 'Member find-1' }).waitFor();
    expect(page.url()).toContain('#/members/find-1');
    await historyRows(page).first().waitFor();

    const balance = await balanceOf(app, 'find-1', ops);
    expect(await available(page).textContent()).toBe(String(balance.available));
    expect(await page.locator('li[data-balance="held"] .value').textContent()).toBe('25');
    expect(await page.locator('li[data-balance="pending"] .value').textContent()).toBe('40');
    expect(await page.locator('li[data-balance="pending"]').textContent()).toContain('40 available on Mar 8, 2026, 8:00:00 AM');
    expect(await page.locator('li[data-balance="expiring"] .value').textContent()).toBe(String(balance.expiringIn30Days));
    expect(await page.locator('dd[data-fact="streak"]').textContent()).toBe('1 days');
    expect(await page.getByText('Li Lei').count()).toBe(1);
    expect(await page.locator('[data-status]').textContent()).toBe('Active');

    const entries = await historyOf(app, 'find-1');
    expect(await historyRows(page).count()).toBe(entries.length);
    const first = historyRows(page).last().locator('time').first(); // the oldest entry: the earn at 08:00Z
    expect(await first.getAttribute('title')).toBe('2026-03-01 08:00:00 UTC');
    expect(await first.textContent()).toBe('Mar 1, 2026, 4:00:00 PM');

    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Kind').selectOption('hold');
    await expect.poll(() => historyRows(page).count()).toBe(1);
    expect(await historyRows(page).first().getAttribute('data-kind')).toBe('hold');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the member id is unknown, then the screen says no member has it', async () => {
    const { page, context, errors } = await openConsole(browser, app, { route: '#/members/nobody-here' });
    await page.getByText('No member has the id “nobody-here”.').waitFor();
    expect(await page.locator('li[data-balance]').count()).toBe(0);
    // The 404s are the expected answers; nothing else may go wrong.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((e) => !e.startsWith('HTTP 404 GET /v1/members/nobody-here'))).toEqual([]);
    await context.close();
  });

  it('when the history is longer than a page, then "Load more" reads the next page by the cursor, to the end', async () => {
    await registerMember(app, 'long-1');
    for (let i = 1; i <= 25; i++) await earned(app, 'long-1', i);
    const { page, context, errors } = await openMember('long-1');
    expect(await historyRows(page).count()).toBe(20);
    expect(await historyRows(page).first().locator('td.num').first().textContent()).toBe('+25');
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => historyRows(page).count()).toBe(25);
    expect(await historyRows(page).last().locator('td.num').first().textContent()).toBe('+1');
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('members: adjusting points', () => {
  it('when an operator adjusts with a reason and confirms, then the balance shown changes, the API agrees, and the history shows the adjustment', async () => {
    await memberWith300('adj-1');
    const { page, context, errors } = await openMember('adj-1', { bypassCSP: true });
    expect(await available(page).textContent()).toBe('300');
    await page.getByRole('button', { name: 'Review the adjustment' }).click();
    await page.getByText('Enter a whole number of points other than 0.').waitFor();
    await page.getByLabel('Points to add (negative to take away)').fill('50');
    await page.getByRole('button', { name: 'Review the adjustment' }).click();
    await page.getByText('Give a reason of at least 3 characters.').waitFor();
    await reviewAdjustment(page, 50, 'late parcel goodwill');
    expect(await page.getByRole('dialog').textContent()).toContain('Add 50 points to adj-1: available 300 → 350.');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Confirm the adjustment' }).click();
    await page.getByText('Adjusted: available is now 350.').waitFor();
    await expect.poll(() => available(page).textContent()).toBe('350');
    expect((await balanceOf(app, 'adj-1', ops)).available).toBe(350);
    await expect.poll(() => historyRows(page).first().getAttribute('data-kind')).toBe('adjust');
    expect(await historyRows(page).first().locator('td.num').first().textContent()).toBe('+50');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the confirm button is double-clicked, then the points are adjusted once', async () => {
    await memberWith300('adj-2');
    const { page, context, errors } = await openMember('adj-2');
    const keys: string[] = [];
    page.on('request', (r) => r.url().endsWith('/points/adjust') && keys.push(r.headers()['idempotency-key'] ?? ''));
    await reviewAdjustment(page, -40, 'duplicate credit');
    await page.dblclick('role=button[name="Confirm the adjustment"]');
    await page.getByText('Adjusted: available is now 260.').waitFor();
    await expect.poll(() => available(page).textContent()).toBe('260');
    expect((await balanceOf(app, 'adj-2', ops)).available).toBe(260);
    expect((await historyOf(app, 'adj-2', 'kind=adjust')).length).toBe(1);
    await expect.poll(() => page.locator('table.members-history tr[data-kind="adjust"]').count()).toBe(1);
    expect(new Set(keys).size).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when the confirm button gets two rapid clicks, then the points are adjusted once', async () => {
    await memberWith300('adj-3');
    const { page, context, errors } = await openMember('adj-3');
    await reviewAdjustment(page, 25, 'store opening gift');
    // Two clicks in one task: the second comes before any re-render could disable the button.
    await page.getByRole('button', { name: 'Confirm the adjustment' }).evaluate((button: HTMLButtonElement) => {
      button.click();
      button.click();
    });
    await page.getByText('Adjusted: available is now 325.').waitFor();
    await expect.poll(() => available(page).textContent()).toBe('325');
    expect((await balanceOf(app, 'adj-3', ops)).available).toBe(325);
    expect((await historyOf(app, 'adj-3', 'kind=adjust')).length).toBe(1);
    await expect.poll(() => page.locator('table.members-history tr[data-kind="adjust"]').count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when a negative adjustment goes beyond the balance, then the API’s refusal is shown in words and nothing changes', async () => {
    await memberWith300('adj-4');
    const { page, context, errors } = await openMember('adj-4');
    await reviewAdjustment(page, -500, 'chargeback');
    await page.getByRole('button', { name: 'Confirm the adjustment' }).click();
    const alert = page.getByRole('dialog').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The service refused: not enough points: 300 available, 500 needed.*\[INSUFFICIENT_POINTS\]$/);
    expect((await balanceOf(app, 'adj-4', ops)).available).toBe(300);
    expect(await available(page).textContent()).toBe('300');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(errors).toEqual(['HTTP 409 POST /v1/members/adj-4/points/adjust']);
    await context.close();
  });
});

describe('members: freezing', () => {
  it('when an operator freezes then unfreezes a member, confirming each, then the status shown and the API’s agree each time', async () => {
    await memberWith300('frz-1');
    const { page, context, errors } = await openMember('frz-1');
    await page.getByRole('button', { name: 'Freeze member' }).click();
    const dialog = page.getByRole('dialog', { name: 'Freeze member' });
    expect(await dialog.textContent()).toContain('Freeze frz-1?');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('The member is now Frozen.').waitFor();
    expect(await page.locator('[data-status]').textContent()).toBe('Frozen');
    expect((await app.request('GET', '/v1/members/frz-1', { token: ops })).body.member.status).toBe('frozen');

    await page.getByRole('button', { name: 'Unfreeze member' }).click();
    await page.getByRole('dialog', { name: 'Unfreeze member' }).getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('The member is now Active.').waitFor();
    expect(await page.locator('[data-status]').textContent()).toBe('Active');
    expect((await app.request('GET', '/v1/members/frz-1', { token: ops })).body.member.status).toBe('active');
    expect(errors).toEqual([]);
    await context.close();
  });
});
