/**
 * Where a V8 CPU profile's time went, by self time: grouped by where the code lives (a package, a file of ours,
 * Node's internals, the garbage collector, idle) and by function. Used by `npm run bench:ledger -- --profile`.
 */
import path from 'node:path';
import { repoRoot } from '../../src/config.js';

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
export type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** The place a frame's code lives: `pkg:<name>`, `src/<file>`, `node:<module>` or a V8 pseudo-frame like `(garbage collector)`. */
function place(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return `pkg:${parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const file = url.startsWith('file://') ? url.slice(7) : url;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
}

/**
 * The top `limit` places and functions by self time, as percentages of the busy (non-idle) time, counting only
 * samples taken from `fromUs` on (the profile's monotonic clock, as process.hrtime), e.g. after start-up.
 */
export function summarizeProfile(
  profile: CpuProfile,
  fromUs = 0,
  limit = 15,
): { busyMs: number; idleMs: number; places: Array<[string, number]>; functions: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= fromUs) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = place(url, functionName);
    places.set(where, (places.get(where) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([k, us]): [string, number] => [k, (100 * us) / busy]);
  return { busyMs: busy / 1000, idleMs: idle / 1000, places: top(places), functions: top(functions) };
}
