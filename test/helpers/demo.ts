import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../src/config.js';
import { TEST_SECRET } from './app.js';

/**
 * Seeds the demo program (scripts/seed.ts: ladder, rules, check-ins, tasks, the points mall, members with history and
 * referrals in most states) into a running test app through its API, as `npm run seed` does after `npm start`. The
 * app's clock must be near the real time: the seed dates its events now.
 */
export async function seedDemo(url: string, members = 6): Promise<void> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/seed.ts'), '--url', url, '--members', String(members)], {
    cwd: repoRoot,
    env: { ...process.env, JWT_SECRET: TEST_SECRET },
    timeout: 240_000,
  });
}
