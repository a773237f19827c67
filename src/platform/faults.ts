/**
 * Crash injection for tests: a use case calls `faults.at('after-insert')` between its steps, and a test arms a
 * point so that the next pass through it throws, as if the process had died there. Production uses `noFaults`.
 */
export class InjectedCrash extends Error {
  constructor(readonly point: string) {
    super(`injected crash at ${point}`);
    this.name = 'InjectedCrash';
  }
}

export interface Faults {
  at(point: string): void;
}

export const noFaults: Faults = { at: () => {} };

export class ArmedFaults implements Faults {
  private readonly armed = new Map<string, Error | undefined>();

  /** The next pass through `point` throws: an InjectedCrash (the process dies there), or `error` (a step fails). */
  arm(point: string, error?: Error): void {
    this.armed.set(point, error);
  }

  at(point: string): void {
    if (!this.armed.has(point)) return;
    const error = this.armed.get(point);
    this.armed.delete(point);
    throw error ?? new InjectedCrash(point);
  }
}
