import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ops, service, tokenFor, type TestApp } from '../helpers/app.js';
import { closeConsoleTest, openConsole, startConsoleTest } from '../helpers/browser.js';
import { registerMember } from '../helpers/ledger.js';

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
});
afterAll(() => closeConsoleTest(app, browser));

describe('the console is served at /console', () => {
  it('when /console is asked for, then it redirects to /console/, which is the app with a strict CSP and no framing', async () => {
    const bare = await fetch(`${app.url}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/console/');
    const res = await fetch(`${app.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('<div id="app">');
  });

  it('when an asset is asked for, then it is cached for good; an unknown asset is a 404 with a stable code, and no write is taken', async () => {
    const html = await (await fetch(`${app.url}/console/`)).text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(app.url + script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const missing = await app.request('GET', '/console/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const traversal = await app.request('GET', '/console/assets/..%2f..%2fpackage.json');
    expect(traversal.status).toBe(404);
    const post = await app.request('POST', '/console/', { body: {} });
    expect(post.status).toBe(405);
  });
});

describe('signing in', () => {
  it('when the dev link carries an ops token, then the console opens signed in, shows the program time zone, and drops the token from the address bar', async () => {
    const { page, context, errors } = await openConsole(browser, app);
    await page.getByRole('navigation').waitFor();
    await expect.poll(() => page.url()).not.toContain('token=');
    expect(await page.getByText('Program time zone: Asia/Shanghai').count()).toBe(1);
    expect(await page.evaluate(() => sessionStorage.getItem('console.token'))).toBe(ops);
    expect(await page.evaluate(() => localStorage.getItem('console.token'))).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('when there is no token, then the console asks for one, and a pasted ops token signs in', async () => {
    const { page, context } = await openConsole(browser, app, { token: null });
    await page.getByLabel('Ops token').fill(ops);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').waitFor();
    await context.close();
  });

  it('when the token is not an ops token, then sign-in says so; when the service refuses a token (401), the console goes back to sign-in', async () => {
    const { page, context } = await openConsole(browser, app, { token: null });
    await page.getByLabel('Ops token').fill(service);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'needs an ops token' }).waitFor();

    // A token signed with another secret passes the form's look but the service answers 401.
    await page.getByLabel('Ops token').fill(tokenFor('ops', 'ops-x', { secret: 'another-secret-0123456789-abcdefghijkl' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused this token' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('console.token'))).toBeNull();
    await context.close();
  });

  it('when signed out, then the token is forgotten', async () => {
    const { page, context } = await openConsole(browser, app);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Ops token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('console.token'))).toBeNull();
    await context.close();
  });
});

describe('language', () => {
  it('when ops switch to Chinese, then labels, dates and the page language change, the choice survives a reload, and switching back restores English', async () => {
    await registerMember(app, 'lang-1'); // registered at 2026-03-01T08:00Z: 16:00 in Asia/Shanghai
    const { page, context, errors } = await openConsole(browser, app, { route: '#/members/lang-1' });
    const registered = page.locator('time[datetime="2026-03-01T08:00:00.000Z"]').first();
    await registered.waitFor();
    expect(await registered.textContent()).toBe('Mar 1, 2026, 4:00:00 PM');
    expect(await registered.getAttribute('title')).toBe('2026-03-01 08:00:00 UTC');

    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('link', { name: '数据看板' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await expect.poll(() => registered.textContent()).toBe('2026年3月1日 16:00:00');

    await page.reload();
    await page.getByRole('link', { name: '数据看板' }).waitFor();
    expect(await page.getByLabel('语言').inputValue()).toBe('zh-CN');

    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('link', { name: 'Dashboard' }).waitFor();
    expect(await page.evaluate(() => [document.documentElement.lang, localStorage.getItem('console.locale')])).toEqual(['en', 'en']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
