/**
 * Builds the project's own tools into the git-ignored tools folder (TOOLS_DIR, default .tools/) when missing:
 * the FerretDB launcher (scripts/ferretdb) and the pinned k6. Every script that needs them calls the same code,
 * so running this first is only a way to pay the build time up front.
 *
 *     npm run tools
 */
import { loadConfig } from '../src/config.js';
import { ensureFerretdbLauncher } from '../src/platform/db/ferretdb.js';
import { ensureK6 } from './lib/k6.js';

const config = loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET ?? 'x'.repeat(32) });
const log = (msg: string) => process.stdout.write(`${msg}\n`);
log(`FerretDB launcher: ${await ensureFerretdbLauncher(config.toolsDir, log)}`);
log(`k6: ${await ensureK6(config.toolsDir, log)}`);
