/**
 * Starts the service for a benchmark in a child process (scripts/lib/bench-server.ts) and waits for the URL it
 * listens on; its other output lines go to `log`. Closing its input stops it gracefully.
 *
 *     const service = await startBenchService({ MONGODB_URI: uri, JWT_SECRET: secret }, out); ...; await service.stop();
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/config.js';

export type BenchService = { url: string; stop(): Promise<void> };

/** `env` is laid over this process's environment and the bench defaults (HS256, a free port on 127.0.0.1, production). */
export async function startBenchService(env: Record<string, string>, log: (line: string) => void, opts: { ipc?: boolean } = {}): Promise<BenchService> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/lib/bench-server.ts')], {
    cwd: repoRoot,
    stdio: opts.ipc ? ['pipe', 'pipe', 'inherit', 'ipc'] : ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, JWT_ALGORITHM: 'HS256', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('BENCH_SERVER ')) resolve((JSON.parse(line.slice(13)) as { url: string }).url);
      else log(`[service] ${line}`);
    });
    child.once('exit', (code) => reject(new Error(`the service exited with ${code} before listening`)));
  });
  return {
    url,
    async stop() {
      child.stdin?.end(); // bench-server shuts down gracefully when its input closes
      await exited;
    },
  };
}
