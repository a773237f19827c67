/**
 * The last of a contiguous run of numbered documents (ledger and check-in seqs, task progress slots), from one known
 * to exist: doubling steps ahead find a missing number, then halving the gap finds the last present — one read when
 * `start` is already the last, about 2·log₂(distance) reads by _id otherwise. `read(n)` answers what is stored at n, or
 * null; `max` caps the run (a full run answers `max` without reading past it).
 *
 *     const head = await lastOfRun({ n: cached.seq, doc: cached.state }, async (n) => (await get(n))?.state ?? null);
 */
export async function lastOfRun<T>(start: { n: number; doc: T }, read: (n: number) => Promise<T | null>, max = Number.POSITIVE_INFINITY): Promise<{ n: number; doc: T }> {
  let found = start;
  let step = 1;
  let missing: number | undefined;
  while (missing === undefined) {
    const n = Math.min(found.n + step, max);
    if (n === found.n) return found;
    const doc = await read(n);
    if (doc === null) missing = n;
    else {
      found = { n, doc };
      step *= 2;
    }
  }
  while (missing - found.n > 1) {
    const mid = Math.floor((found.n + missing) / 2);
    const doc = await read(mid);
    if (doc === null) missing = mid;
    else found = { n: mid, doc };
  }
  return found;
}
