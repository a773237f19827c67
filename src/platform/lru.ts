/**
 * A map of at most `max` entries that forgets the least recently used one first: the heads and reads a process
 * remembers, where the accounts in use now must outlive the ones seen once long ago.
 *
 *     const heads = new Lru<string, Head>(100_000); heads.set(id, head); heads.get(id);
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key); // re-inserted last: Map keeps insertion order, so the first key is the least recently used
      this.map.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
