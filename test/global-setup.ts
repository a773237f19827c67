import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config.js';
import { provisionDatabase } from '../src/platform/db/provision.js';
import { ensureConsoleBuilt } from '../scripts/lib/console-build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    engine: string;
  }
}

/** Provisions one database engine for the whole run (MONGODB_URI, DB_ENGINE or the embedded default) and stops it after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) });
  const engine = await provisionDatabase({
    db: config.db,
    toolsDir: config.toolsDir,
    log: (msg) => process.stdout.write(`[provision] ${msg}\n`),
  });
  process.stdout.write(`[provision] tests run on ${engine.description}\n`);
  // The browser tests and the /console route tests read the built console; built once here, before files run in parallel.
  await ensureConsoleBuilt({ log: (msg) => process.stdout.write(`[console] ${msg}\n`) });
  project.provide('mongoUri', engine.uri);
  project.provide('engine', engine.engine);
  return () => engine.stop();
}
