/**
 * A value loaded from the database and served from memory for `ms`: for configuration every request reads (earning
 * rules, tasks, the tier ladder, the check-in program). The instance that changes it calls `invalidate()` after the
 * write, so every `get()` that starts afterwards answers the change; other instances see it within `ms`. A decision
 * that must not act on an older value (which version to write next) reads the database instead.
 *
 *     const rules = cachedFor(2000, () => repo.all()); await rules.get(); rules.invalidate();
 */
export function cachedFor<T>(ms: number, load: () => Promise<T>): { get(): Promise<T>; invalidate(): void } {
  // Each invalidate() starts a new generation. A load keeps its value only if no invalidate() came while it ran:
  // one that read the database before the write and answers after it would otherwise bring the old value back.
  let generation = 0;
  let cached: { at: number; value: T } | undefined;
  let inFlight: { generation: number; value: Promise<T> } | undefined;

  function startLoad(): Promise<T> {
    const startedIn = generation;
    const at = Date.now(); // the value may be as old as the load's start, so its age counts from there
    // The executor calls load() now and turns a synchronous throw into a rejection; the callbacks run later, after
    // `inFlight` names this load.
    const value: Promise<T> = new Promise<T>((resolve) => resolve(load()))
      .then((loaded) => {
        if (startedIn === generation) cached = { at, value: loaded };
        return loaded;
      })
      .finally(() => {
        if (inFlight?.value === value) inFlight = undefined;
      });
    inFlight = { generation: startedIn, value };
    return value;
  }

  return {
    get() {
      if (cached && Date.now() - cached.at <= ms) return Promise.resolve(cached.value);
      // Concurrent gets share one load, but only one that started after the last invalidate().
      if (inFlight?.generation === generation) return inFlight.value;
      return startLoad();
    },
    invalidate() {
      generation++;
      cached = undefined;
    },
  };
}
