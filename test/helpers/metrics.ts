import { expect } from 'vitest';
import type { TestApp } from './app.js';

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { type: string; help: string; samples: Sample[] };

/** Suffixes prom-client gives the samples of a histogram or summary family. */
const SUFFIXES = ['_bucket', '_sum', '_count'];

/**
 * Parses Prometheus text exposition (format 0.0.4, as prom-client writes it) into families by name, each with its
 * TYPE, HELP and samples (a histogram's _bucket, _sum and _count samples go to their family).
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: 'untyped', help: '', samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const f = family(meta[2]!);
      if (meta[1] === 'TYPE') f.type = meta[3]!;
      else f.help = meta[3]!;
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    const [, name, rawLabels = '', value] = sample!;
    const labels: Record<string, string> = {};
    for (const m of rawLabels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const owner = families.has(name!) ? name! : (SUFFIXES.map((s) => name!.endsWith(s) && name!.slice(0, -s.length)).find((n) => n && families.has(n)) || name!);
    family(owner).samples.push({ name: name!, labels, value: Number(value) });
  }
  return families;
}

/** Scrapes /metrics and parses it. */
export async function scrape(api: TestApp): Promise<Map<string, Family>> {
  const res = await api.request('GET', '/metrics');
  expect(res.status, res.text).toBe(200);
  return parseExposition(res.text);
}

/** The value of the sample `name` whose labels include `labels` (0 when there is none yet). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (s) return s.value;
  }
  return 0;
}
