import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs the package); CHROMIUM_PATH points elsewhere. No browser is downloaded. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A headless Chromium as a closed network and a root user want it: no sandbox, no GPU, no calls home (without the
 * background-networking flags it keeps trying to reach Google's hosts).
 *
 *     const browser = await launchBrowser(); ...; await browser.close();
 */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * The ops console as an operator opens it from the dev link: a fresh context (1280×900, the browser's locale, the
 * console's language preference if none is stored yet), signed in by `#token=` (or at sign-in with `token: null`),
 * then at `route` if given. `beforeLoad` sees the page before it loads (listeners, a timer's start). The tests, the
 * screenshots and the dashboard timing all open it this way.
 *
 *     const { context, page } = await openConsolePage(browser, url, { token, locale: 'zh-CN', route: '#/members/m-1' });
 */
export async function openConsolePage(
  browser: Browser,
  url: string,
  opts: { token: string | null; locale?: 'en' | 'zh-CN'; route?: string; bypassCSP?: boolean; beforeLoad?: (page: Page) => void },
): Promise<{ context: BrowserContext; page: Page }> {
  const locale = opts.locale ?? 'en';
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: locale === 'en' ? 'en-US' : locale,
    ...(opts.bypassCSP ? { bypassCSP: true } : {}),
  });
  await context.addInitScript((l) => {
    if (!localStorage.getItem('console.locale')) localStorage.setItem('console.locale', l);
  }, locale);
  const page = await context.newPage();
  opts.beforeLoad?.(page);
  await page.goto(`${url}/console/${opts.token ? `#token=${opts.token}` : ''}`);
  if (opts.route) await page.evaluate((r) => (location.hash = r), opts.route);
  return { context, page };
}
