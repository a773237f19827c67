import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../src/config.js';

const CONSOLE = path.join(repoRoot, 'console');
const STAMP = '.build-stamp';

/** Every file the bundle is made from (console/ but its output, and the lock file that pins the libraries). */
function sources(dir = CONSOLE): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== 'dist' && e.name !== 'node_modules')
    .flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [...sources(), path.join(repoRoot, 'package-lock.json')]) {
    hash.update(path.relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Builds the ops console into `outDir` (console/dist by default) with Vite when it is missing or older than its
 * sources; `npm start`, the tests and `npm run console:size` call it, so a fresh clone serves a working console
 * without a step done by hand. Answers whether it built.
 *
 *     await ensureConsoleBuilt({ log: console.log });
 */
export async function ensureConsoleBuilt(opts: { outDir?: string; force?: boolean; log?: (msg: string) => void } = {}): Promise<boolean> {
  const outDir = opts.outDir ?? path.join(CONSOLE, 'dist');
  const hash = sourceHash();
  const stamp = path.join(outDir, STAMP);
  if (!opts.force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return false;
  const started = performance.now();
  const { build } = await import('vite');
  await build({ configFile: path.join(CONSOLE, 'vite.config.ts'), build: { outDir }, logLevel: 'warn' });
  writeFileSync(stamp, hash);
  opts.log?.(`built the ops console into ${path.relative(repoRoot, outDir) || outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

export type BundleFile = { file: string; bytes: number; gzip: number };

/** The bundle a browser downloads (index.html and every asset), each file's size raw and gzipped at level 9. */
export function bundleSize(outDir = path.join(CONSOLE, 'dist')): { files: BundleFile[]; gzip: number } {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const files = walk(outDir)
    .filter((f) => path.basename(f) !== STAMP)
    .map((f) => ({ file: path.relative(outDir, f), bytes: statSync(f).size, gzip: gzipSync(readFileSync(f), { level: 9 }).length }));
  return { files, gzip: files.reduce((sum, f) => sum + f.gzip, 0) };
}

/** The ceiling issue 15 sets for the production bundle. */
export const BUNDLE_CEILING_BYTES = 150 * 1024;
