/**
 * Runs tasks one at a time per key, in arrival order; different keys run concurrently.
 * The ledger queues writes per account so that, within one process, they rarely race on `seq`.
 *
 *     const queue = new KeyedQueue(); await queue.run(memberId, () => commit(...));
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
