import { launchBrowser, openConsolePage } from './browser.js';
import { ensureConsoleBuilt } from './console-build.js';

/**
 * Times the ops console's dashboard in Chromium (issue 15, item 6): from asking for /console/ until the dashboard
 * marks itself ready (`data-ready="true"`: every report read and every chart drawn), each run in a fresh browser
 * context (nothing cached), signed in by the dev link's way. Answers the times, sorted.
 *
 *     const ms = await timeDashboard(url, opsToken, 5);
 */
export async function timeDashboard(url: string, token: string, runs: number, log: (line: string) => void): Promise<number[]> {
  await ensureConsoleBuilt({ log });
  const browser = await launchBrowser();
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t0 = 0;
      const { context, page } = await openConsolePage(browser, url, { token, beforeLoad: () => (t0 = performance.now()) });
      await page.locator('[data-ready="true"]').waitFor({ timeout: 120_000 });
      times.push(performance.now() - t0);
      await context.close();
    }
    return times.sort((a, b) => a - b);
  } finally {
    await browser.close();
  }
}
