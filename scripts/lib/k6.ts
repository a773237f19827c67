import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The k6 release the load scripts are written for; bump deliberately. */
export const K6_VERSION = 'v1.8.1';

/**
 * Returns the path of the pinned k6, installing it with `go install go.k6.io/k6@<version>` into the tools folder
 * when it is missing or another version (a cold install compiles k6: a few minutes).
 */
export async function ensureK6(toolsDir: string, log: (msg: string) => void = () => {}): Promise<string> {
  const bin = path.join(toolsDir, 'bin');
  const k6 = path.join(bin, 'k6');
  if (existsSync(k6)) {
    const { stdout } = await run(k6, ['version']).catch(() => ({ stdout: '' }));
    if (stdout.includes(K6_VERSION)) return k6;
  }
  await mkdir(bin, { recursive: true });
  log(`installing k6 ${K6_VERSION} with go install into ${bin} (first run only; takes a few minutes)`);
  const started = Date.now();
  await run('go', ['install', `go.k6.io/k6@${K6_VERSION}`], {
    env: { ...process.env, GOBIN: bin, GOTOOLCHAIN: 'local' },
    timeout: 20 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stderr?: string }) => {
    throw new Error(`go install go.k6.io/k6@${K6_VERSION} failed (is Go installed?):\n${(err.stderr ?? String(err)).slice(-2000)}`);
  });
  log(`installed k6 in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return k6;
}
