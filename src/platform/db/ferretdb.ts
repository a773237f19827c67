import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { repoRoot } from '../../config.js';
import type { RunningEngine } from './provision.js';

const run = promisify(execFile);
const launcherSource = path.join(repoRoot, 'scripts', 'ferretdb');
const sourceFiles = ['go.mod', 'go.sum', 'main.go'];

/** Thrown when the launcher cannot be built (no Go) or started. */
export class FerretdbUnavailable extends Error {}

async function sourceHash(): Promise<string> {
  const h = createHash('sha256');
  for (const f of sourceFiles) h.update(f).update(await readFile(path.join(launcherSource, f)));
  return h.digest('hex');
}

/**
 * Returns the path of the FerretDB launcher, building it into the tools folder when it is missing or its
 * source changed. A cold build takes one to two minutes (FerretDB and its SQLite driver are compiled).
 */
export async function ensureFerretdbLauncher(toolsDir: string, log: (msg: string) => void = () => {}): Promise<string> {
  const binary = path.join(toolsDir, 'ferretdb-launcher');
  const stamp = `${binary}.sha256`;
  const want = await sourceHash();
  if (existsSync(binary) && existsSync(stamp) && (await readFile(stamp, 'utf8')) === want) return binary;

  try {
    await run('go', ['version'], { timeout: 10_000 });
  } catch {
    throw new FerretdbUnavailable('Go is not installed, so the FerretDB launcher cannot be built');
  }
  await mkdir(toolsDir, { recursive: true });
  log('building the FerretDB launcher from scripts/ferretdb (first run only; takes a minute or two)');
  // Build under a unique name and rename, so concurrent builders never see a half-written binary.
  const tmp = `${binary}.${process.pid}.${Date.now()}`;
  const started = Date.now();
  try {
    await run('go', ['build', '-o', tmp, '.'], {
      cwd: launcherSource,
      env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    await rm(tmp, { force: true });
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new FerretdbUnavailable(`building the FerretDB launcher failed:\n${stderr.slice(-2000)}`);
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
