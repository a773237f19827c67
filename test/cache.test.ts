import { describe, expect, it } from 'vitest';
import { cachedFor } from '../src/platform/cache.js';

/** A load the test resolves by hand, so the order of load, invalidate and answer is chosen, not raced. */
function manualLoads() {
  const pending: Array<(value: string) => void> = [];
  const load = () => new Promise<string>((resolve) => pending.push(resolve));
  return { load, pending };
}

describe('a value cached for a while', () => {
  it('when a load that started before invalidate() answers after it, then its value is not kept and the next get loads again', async () => {
    const { load, pending } = manualLoads();
    const cache = cachedFor(60_000, load);
    const early = cache.get(); // reads the database before the change is written
    cache.invalidate(); // the change is written and this instance says so
    pending[0]?.('old');
    expect(await early).toBe('old'); // its caller asked before the change: the old value is a fair answer to it
    const late = cache.get();
    expect(pending).toHaveLength(2); // not served from memory: the old value was not kept
    pending[1]?.('new');
    expect(await late).toBe('new');
    expect(await cache.get()).toBe('new');
  });

  it('when a get comes after invalidate() while an older load is still running, then it waits for a load of its own', async () => {
    const { load, pending } = manualLoads();
    const cache = cachedFor(60_000, load);
    const early = cache.get();
    cache.invalidate();
    const late = cache.get();
    expect(pending).toHaveLength(2);
    pending[1]?.('new');
    pending[0]?.('old'); // the older load answers last
    expect(await early).toBe('old');
    expect(await late).toBe('new');
    expect(await cache.get()).toBe('new');
    expect(pending).toHaveLength(2);
  });

  it('when several gets arrive while a load is running, then they share that one load', async () => {
    const { load, pending } = manualLoads();
    const cache = cachedFor(60_000, load);
    const gets = [cache.get(), cache.get(), cache.get()];
    expect(pending).toHaveLength(1);
    pending[0]?.('v');
    expect(await Promise.all(gets)).toEqual(['v', 'v', 'v']);
  });

  it('when a load fails, then its callers see the error and the next get loads again', async () => {
    let calls = 0;
    const cache = cachedFor(60_000, async () => {
      calls++;
      if (calls === 1) throw new Error('database away');
      return 'back';
    });
    await expect(cache.get()).rejects.toThrow('database away');
    expect(await cache.get()).toBe('back');
  });
});
