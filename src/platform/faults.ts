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
  private readonly armed = new Set<string>();

  arm(point: string): void {
    this.armed.add(point);
  }

  at(point: string): void {
    if (this.armed.delete(point)) throw new InjectedCrash(point);
  }
}
