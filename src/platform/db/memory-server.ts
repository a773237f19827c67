import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunningEngine } from './provision.js';

/** How long a failed attempt to obtain a mongod keeps us from trying again. */
const RETRY_AFTER_MS = 24 * 3600_000;
/** A download that has not finished by then counts as failed; on a machine without the network it fails at once. */
const OBTAIN_TIMEOUT_MS = 120_000;

export type MemoryServerStarter = () => Promise<RunningEngine>;

/** Starts mongodb-memory-server (system binary, cache or download, as that package decides). */
export const startMemoryServer: MemoryServerStarter = async () => {
  const { MongoBinary, MongoMemoryServer, errors } = await import('mongodb-memory-server');
  // The mongod is obtained first because MongoMemoryServer.create() prints a failed download's whole stack to the
  // console before rejecting; the caller reports the failure in one line. DEBUG=MongoMS:* still shows every step.
  const obtained = MongoBinary.getPath().catch((err: unknown) => {
    throw err instanceof errors.DownloadError ? new Error(`could not download a mongod from ${err.url}: ${err.msg}`) : err;
  });
  const server = await withTimeout(
    obtained.then(() => MongoMemoryServer.create()),
    OBTAIN_TIMEOUT_MS,
    'obtaining a mongod timed out',
  );
  return {
    uri: server.getUri(),
    engine: 'mongodb-memory-server',
    description: 'mongod via mongodb-memory-server',
    stop: async () => {
      await server.stop({ doCleanup: true, force: true });
    },
  };
};

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

const markerPath = (toolsDir: string) => path.join(toolsDir, 'memory-server-unavailable.json');

/** The recorded failure, if a recent attempt to obtain a mongod failed. */
export async function recentMemoryServerFailure(toolsDir: string, now = Date.now()): Promise<string | undefined> {
  const file = markerPath(toolsDir);
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as { at: string; error: string };
    return now - Date.parse(m.at) < RETRY_AFTER_MS ? `${m.error} (at ${m.at}; retried after 24 h or with DB_ENGINE=memory-server)` : undefined;
  } catch {
    return undefined;
  }
}

export async function recordMemoryServerFailure(toolsDir: string, error: string): Promise<void> {
  await mkdir(toolsDir, { recursive: true });
  await writeFile(markerPath(toolsDir), JSON.stringify({ at: new Date().toISOString(), error: error.slice(0, 500) }));
}

export async function clearMemoryServerFailure(toolsDir: string): Promise<void> {
  await rm(markerPath(toolsDir), { force: true });
}
