import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';

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

/**
 * The samples of one k6 metric, in the order k6 wrote them, from the (gzipped) JSON lines `k6 run --out json=<file>.gz`
 * writes: `{"type":"Point","metric":"<name>","data":{"value":n,"tags":{...}}}`.
 */
export async function* readSamples(file: string, metric: string): AsyncGenerator<{ value: number; tags: Record<string, string> }> {
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const marker = `"metric":"${metric}"`;
  for await (const line of lines) {
    if (!line.includes(marker)) continue; // most lines are HTTP timings; skip them before parsing
    const sample = JSON.parse(line) as { type: string; metric: string; data: { value: number; tags?: Record<string, string> } };
    if (sample.type === 'Point' && sample.metric === metric) yield { value: sample.data.value, tags: sample.data.tags ?? {} };
  }
}

/** Sums a k6 counter's samples by one of their tags (see readSamples). A sample without the tag is ignored. */
export async function readTaggedCounter(file: string, metric: string, tag: string): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for await (const { value, tags } of readSamples(file, metric)) {
    const key = tags[tag];
    if (key !== undefined) sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}
