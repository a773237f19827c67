import { describe, expect, it } from 'vitest';
import { lastOfRun } from '../src/platform/db/last-of-run.js';

/** The search behind ledger heads, check-in heads and task progress, over an in-memory run of numbered documents. */
describe('lastOfRun', () => {
  const over = (length: number) => {
    let reads = 0;
    const read = async (n: number) => {
      reads++;
      return n >= 1 && n <= length ? `doc-${n}` : null;
    };
    return { read, reads: () => reads };
  };

  it('when started anywhere in runs of 0 to 300 documents, then it finds the last one in about 2·log2 reads', async () => {
    for (let length = 0; length <= 300; length++) {
      for (const from of [0, Math.floor(length / 2), length]) {
        const run = over(length);
        const found = await lastOfRun({ n: from, doc: from === 0 ? 'none' : `doc-${from}` }, run.read);
        expect(found).toEqual({ n: length, doc: length === 0 ? 'none' : `doc-${length}` });
        expect(run.reads()).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(length - from + 1)) + 1);
      }
    }
  });

  it('when started at the last document, then one read of the next number answers', async () => {
    const run = over(40);
    expect(await lastOfRun({ n: 40, doc: 'doc-40' }, run.read)).toEqual({ n: 40, doc: 'doc-40' });
    expect(run.reads()).toBe(1);
  });

  it('when the run reaches the cap, then the cap is answered without reading past it', async () => {
    for (const [length, max] of [[10, 10], [50, 10], [3, 10], [0, 1]] as const) {
      const run = over(length);
      const read = async (n: number) => {
        expect(n).toBeLessThanOrEqual(max);
        return run.read(n);
      };
      expect((await lastOfRun({ n: 0, doc: 'none' }, read, max)).n).toBe(Math.min(length, max));
    }
  });
});
