import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { repoRoot } from '../../config.js';
import type { RunningEngine } from './provision.js';

const run = promisify(execFile);
const launcherSource = path.join(repoRoot, 'scripts', 'ferretdb');
const sourceFiles = ['go.mod', 'go.sum', 'main.go'];
// Small fixes to FerretDB itself (each file says why), applied in order to a vendored copy at build time.
const patchDir = path.join(launcherSource, 'patches');
// The patches' paths are relative to FerretDB's module root, which `go mod vendor` puts here.
const vendoredFerretdb = 'vendor/github.com/FerretDB/FerretDB';

/** Thrown when the launcher cannot be built (no Go) or started. */
export class FerretdbUnavailable extends Error {}

async function patchFiles(): Promise<string[]> {
  return (await readdir(patchDir)).filter((f) => f.endsWith('.patch')).sort();
}

async function sourceHash(patches: string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of sourceFiles) h.update(f).update(await readFile(path.join(launcherSource, f)));
  for (const f of patches) h.update(`patches/${f}`).update(await readFile(path.join(patchDir, f)));
  return h.digest('hex');
}

/** Runs one build step, turning its failure into a FerretdbUnavailable that carries the tool's own output. */
async function step(what: string, file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run(file, args, { cwd, env, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr || String(err);
    throw new FerretdbUnavailable(`building the FerretDB launcher failed: ${what}:\n${stderr.slice(-2000)}`);
  }
}

/**
 * Returns the path of the FerretDB launcher, building it into the tools folder when it is missing or its
 * source (including the patches) changed. A cold build takes one to two minutes (FerretDB and its SQLite driver
 * are compiled). The build vendors FerretDB into a scratch copy of scripts/ferretdb and applies
 * scripts/ferretdb/patches there, so the repository never holds FerretDB's source.
 */
export async function ensureFerretdbLauncher(toolsDir: string, log: (msg: string) => void = () => {}): Promise<string> {
  const binary = path.join(toolsDir, 'ferretdb-launcher');
  const stamp = `${binary}.sha256`;
  const patches = await patchFiles();
  const want = await sourceHash(patches);
  if (existsSync(binary) && existsSync(stamp) && (await readFile(stamp, 'utf8')) === want) return binary;

  try {
    await run('go', ['version'], { timeout: 10_000 });
  } catch {
    throw new FerretdbUnavailable('Go is not installed, so the FerretDB launcher cannot be built');
  }
  await mkdir(toolsDir, { recursive: true });
  log('building the FerretDB launcher from scripts/ferretdb and its patches (first run only; takes a minute or two)');
  // Build under a unique name and rename, so concurrent builders never see a half-written binary.
  const tmp = `${binary}.${process.pid}.${Date.now()}`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'loyalty-ferretdb-build-'));
  const goEnv = { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
  // Stops git from finding a repository above the scratch folder: inside one, `git apply` skips paths outside it.
  const gitEnv = { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(work) };
  const started = Date.now();
  try {
    for (const f of sourceFiles) await copyFile(path.join(launcherSource, f), path.join(work, f));
    await step('go mod vendor', 'go', ['mod', 'vendor'], work, goEnv);
    for (const p of patches) {
      const file = path.join(patchDir, p);
      const what = `${path.relative(repoRoot, file)} does not apply to the vendored FerretDB`;
      await step(what, 'git', ['apply', `--directory=${vendoredFerretdb}`, file], work, gitEnv);
    }
    // -trimpath keeps the scratch folder's name out of the build cache keys, so a rebuild reuses compiled packages.
    await step('go build', 'go', ['build', '-mod=vendor', '-trimpath', '-o', tmp, '.'], work, goEnv);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await rename(tmp, binary);
  await writeFile(stamp, want);
  log(`built the FerretDB launcher in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return binary;
}

export type FerretdbOptions = {
  toolsDir: string;
  backend: 'sqlite' | 'postgresql';
  postgresqlUrl: string;
  /** Persistent SQLite directory; by default a fresh temporary one that is removed on stop. */
  dataDir?: string;
  /** `host:port` to listen on (default a free loopback port): a restarted engine can take its old address again. */
  listen?: string;
  log?: (msg: string) => void;
};

/**
 * Starts FerretDB on a free loopback port. The launcher exits when our end of its stdin closes, so it dies
 * with this process whatever the cause (stop(), Ctrl-C, a crash or SIGKILL).
 */
export async function startFerretdb(opts: FerretdbOptions): Promise<RunningEngine> {
  const binary = await ensureFerretdbLauncher(opts.toolsDir, opts.log);
  const tempDir = opts.backend === 'sqlite' && !opts.dataDir ? await mkdtemp(path.join(os.tmpdir(), 'loyalty-ferretdb-')) : undefined;
  const args =
    opts.backend === 'sqlite'
      ? ['-handler', 'sqlite', '-sqlite-url', `file:${(opts.dataDir ?? tempDir) as string}/`]
      : ['-handler', 'postgresql', '-postgresql-url', opts.postgresqlUrl];
  if (opts.listen) args.push('-listen', opts.listen);
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });

  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const uri = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new FerretdbUnavailable(`FerretDB did not start within 30 s: ${stderr}`)), 30_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { uri: string }).uri);
      } catch {
        reject(new FerretdbUnavailable(`unexpected launcher output: ${line}`));
      }
    });
    child.once('error', (err) => reject(new FerretdbUnavailable(`cannot run ${binary}: ${err.message}`)));
    child.once('exit', (code) => reject(new FerretdbUnavailable(`FerretDB exited with ${code}: ${stderr}`)));
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw err;
  });

  // Neither the child nor its pipes keep the event loop alive; our exit closes its stdin, which stops it.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();

  let stopping: Promise<void> | undefined;
  return {
    uri,
    engine: opts.backend === 'sqlite' ? 'ferretdb-sqlite' : 'ferretdb-postgresql',
    description: `FerretDB v1.24.2 (${opts.backend} backend${opts.backend === 'sqlite' ? `, ${opts.dataDir ?? tempDir}` : ''})`,
    pid: child.pid,
    stop: () =>
      (stopping ??= (async () => {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        if (child.exitCode === null && child.signalCode === null) await exited;
        clearTimeout(timer);
        if (tempDir) await rm(tempDir, { recursive: true, force: true });
      })()),
  };
}
