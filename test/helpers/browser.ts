import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { vi } from 'vitest';
import { launchBrowser, openConsolePage } from '../../scripts/lib/browser.js';
import { ops, startTestApp, type TestApp } from './app.js';

export type ConsolePage = { context: BrowserContext; page: Page; errors: string[] };

/**
 * Opens the console of `app` signed in with `token` (the dev link's way: `#token=`), in `locale`. `errors` collects
 * the page's uncaught errors, console errors and answers of 400 or more (`HTTP 404 GET /v1/…`), which a test should
 * find empty, or holding only the refusals it provoked.
 */
export async function openConsole(
  browser: Browser,
  app: TestApp,
  opts: { token?: string | null; locale?: 'en' | 'zh-CN'; route?: string; bypassCSP?: boolean } = {},
): Promise<ConsolePage> {
  const errors: string[] = [];
  const { context, page } = await openConsolePage(browser, app.url, {
    ...opts,
    token: opts.token === undefined ? ops : opts.token,
    beforeLoad: (page) => {
      // Under the whole suite a browser shares two cores with API tests and the engine: a step may wait its turn a while.
      page.context().setDefaultTimeout(90_000);
      page.on('pageerror', (err) => errors.push(err.message));
      // A failed load is logged by the browser without its address; the answer itself names it.
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text());
      });
      page.on('response', (res) => {
        if (res.status() >= 400) errors.push(`HTTP ${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
      });
    },
  });
  return { context, page, errors };
}

/**
 * What a console test file starts in its beforeAll: the app in-process (startTestApp, with the same options) and a
 * browser. closeConsoleTest, in its afterAll, closes whichever of them started.
 *
 *     let app: TestApp;
 *     let browser: Browser;
 *     beforeAll(async () => {
 *       ({ app, browser } = await startConsoleTest({ env: { PROGRAM_TIMEZONE: 'Asia/Shanghai' } }));
 *     });
 *     afterAll(() => closeConsoleTest(app, browser));
 */
export async function startConsoleTest(opts: Parameters<typeof startTestApp>[0] = {}): Promise<{ app: TestApp; browser: Browser }> {
  // A browser test walks a screen step by step; the default 60 s is for one API call's worth of work.
  vi.setConfig({ testTimeout: 240_000 });
  const app = await startTestApp(opts);
  try {
    return { app, browser: await launchBrowser() };
  } catch (err) {
    await app.close();
    throw err;
  }
}

export async function closeConsoleTest(app: TestApp | undefined, browser: Browser | undefined): Promise<void> {
  await browser?.close();
  await app?.close();
}

const require = createRequire(import.meta.url);

/** Runs axe-core on the page (the context must bypass CSP for the injected script) and returns serious and critical violations. */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; help: string; targets: string[] }[]> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}
