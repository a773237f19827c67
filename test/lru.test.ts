import { describe, expect, it } from 'vitest';
import { Lru } from '../src/platform/lru.js';

describe('the memory of recent heads and reads', () => {
  it('when it is full, then it forgets the entry used least recently, not the one stored first', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a is in use again
    lru.set('d', 4);
    expect([lru.has('a'), lru.has('b'), lru.has('c'), lru.has('d')]).toEqual([true, false, true, true]);
    lru.set('c', 30); // writing refreshes too
    lru.set('e', 5);
    expect([lru.has('a'), lru.has('c'), lru.has('d'), lru.has('e')]).toEqual([false, true, true, true]);
    expect(lru.size).toBe(3);
    lru.delete('c');
    expect(lru.get('c')).toBeUndefined();
  });
});
