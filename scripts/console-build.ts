/**
 * Builds the ops console (console/ → console/dist, served at /console) when it is missing or stale; `npm start` runs
 * it first. `--force` rebuilds anyway.
 *
 *     npm run console:build [-- --force]
 */
import { ensureConsoleBuilt } from './lib/console-build.js';

const built = await ensureConsoleBuilt({ force: process.argv.includes('--force'), log: (msg) => process.stdout.write(`${msg}\n`) });
if (!built) process.stdout.write('the ops console is up to date\n');
