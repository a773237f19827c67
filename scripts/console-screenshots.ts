/**
 * Draws the ops console's main screens into docs/console/*.png for the README and docs/CONSOLE.md: a store with 90
 * days of history (scripts/lib/stats-store.ts, rolled up), the demo program on top (scripts/seed.ts, through the API),
 * the service in a child process, and Chromium at 1280×900.
 *
 *     npm run console:screenshots [-- --engine ferretdb-sqlite] [--members 3000]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig, repoRoot } from '../src/config.js';
import { provisionDatabase, type Provisioned } from '../src/platform/db/provision.js';
import { generateSecret, opsToken } from './lib/api.js';
import { startBenchService } from './lib/bench-child.js';
import { launchBrowser, openConsolePage } from './lib/browser.js';
import { ensureConsoleBuilt } from './lib/console-build.js';
import { buildStatsStore } from './lib/stats-store.js';

const { values } = parseArgs({ options: { engine: { type: 'string' }, members: { type: 'string', default: '3000' } }, strict: true });
const out = (line = '') => process.stdout.write(`${line}\n`);
const TIMEZONE = 'Asia/Shanghai';
const secret = generateSecret();
const env = { JWT_SECRET: secret, REFERRAL_HASH_KEY: generateSecret(), PROGRAM_TIMEZONE: TIMEZONE, STATS_ROLLUP_INTERVAL_MS: '0', MONGODB_DB_NAME: `console_shots_${randomBytes(4).toString('hex')}` };
const config = loadConfig({ ...process.env, ...env, ...(values.engine ? { DB_ENGINE: values.engine } : {}) });
const dir = path.join(repoRoot, 'docs', 'console');

/** The screens drawn, each as `<name>.png`; `ready` is what shows the screen has its data. */
const SHOTS: Array<{ name: string; route: string; locale: 'en' | 'zh-CN'; ready: string; done?: () => boolean }> = [
  { name: 'dashboard', route: '#/dashboard', locale: 'en', ready: '[data-ready="true"]' },
  { name: 'dashboard-zh', route: '#/dashboard', locale: 'zh-CN', ready: '[data-ready="true"]' },
  { name: 'member', route: '#/members/demo-001', locale: 'en', ready: 'main table' },
  { name: 'member-zh', route: '#/members/demo-001', locale: 'zh-CN', ready: 'main table' },
  // The tiers screen reads its member counts after the ladder: the shot waits for them.
  { name: 'tiers', route: '#/tiers', locale: 'en', ready: 'main table', done: () => ![...document.querySelectorAll('main table')[0]!.querySelectorAll('td')].some((td) => td.textContent === '—') },
  { name: 'rules', route: '#/rules', locale: 'en', ready: 'main table' },
  { name: 'benefits', route: '#/benefits', locale: 'en', ready: 'main table' },
  { name: 'referrals', route: '#/referrals', locale: 'en', ready: 'main table' },
  { name: 'audit', route: '#/audit', locale: 'en', ready: 'main table' },
];

async function main(): Promise<void> {
  let engine: Provisioned | undefined;
  try {
    await ensureConsoleBuilt({ log: out });
    engine = await provisionDatabase({ db: config.db, toolsDir: config.toolsDir, log: (m) => out(`[provision] ${m}`) });
    const members = Number(values.members);
    const store = await buildStatsStore(engine.uri, config, { members, entries: members * 10, days: 90, end: new Date(), seed: 7, timezone: TIMEZONE, log: out });
    out(`history: ${Object.entries(store.counts).map(([c, n]) => `${c} ${n}`).join(', ')}`);
    const service = await startBenchService({ ...env, MONGODB_URI: engine.uri }, out);
    try {
      await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/seed.ts'), '--url', service.url, '--members', '12'], { cwd: repoRoot, env: { ...process.env, JWT_SECRET: secret } });
      out('demo program seeded');
      mkdirSync(dir, { recursive: true });
      const browser = await launchBrowser();
      const token = opsToken(secret, 'ops-anna');
      try {
        for (const shot of SHOTS) {
          const { context, page } = await openConsolePage(browser, service.url, { token, locale: shot.locale, route: shot.route });
          await page.locator(shot.ready).first().waitFor({ timeout: 60_000 });
          await page.waitForFunction(() => document.querySelectorAll('[role=status]').length === 0);
          if (shot.done) await page.waitForFunction(shot.done, undefined, { timeout: 60_000 });
          await page.screenshot({ path: path.join(dir, `${shot.name}.png`), fullPage: false });
          out(`docs/console/${shot.name}.png`);
          await context.close();
        }
      } finally {
        await browser.close();
      }
    } finally {
      await service.stop();
    }
  } finally {
    await engine?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
