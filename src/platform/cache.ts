/**
 * A value loaded from the database and served from memory for `ms`: for configuration every request reads (earning
 * rules, tasks, the tier ladder, the check-in program). The instance that changes it calls `invalidate()`, so the
 * change applies there at once; other instances see it within `ms`.
 *
 *     const rules = cachedFor(2000, () => repo.all()); await rules.get(); rules.invalidate();
 */
export function cachedFor<T>(ms: number, load: () => Promise<T>): { get(): Promise<T>; invalidate(): void } {
  let cached: { at: number; value: T } | undefined;
  return {
    async get() {
      const now = Date.now();
      if (!cached || now - cached.at > ms) cached = { at: now, value: await load() };
      return cached.value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
