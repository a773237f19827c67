import { expect } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import * as rules from '../../src/modules/ledger/ledger.state.js';
import type { AccountState, Draft } from '../../src/modules/ledger/ledger.state.js';

/**
 * An account in memory for the ledger's pure rules: applies drafts as the store would (each one's state becomes the
 * head) and, after each, checks what checkLedger checks of a state and of the books: the state is consistent, and
 * available + held + pending equals the running sum of the entries' amounts.
 *
 *     const a = memoryAccount(); a.apply((s) => rules.earn(s, 50, MAR)); a.rejects((s) => rules.spend(s, 60, at), 'INSUFFICIENT_POINTS');
 */
export function memoryAccount() {
  let state: AccountState = rules.emptyState();
  let sum = 0;
  let seq = 0;
  return {
    get state() {
      return state;
    },
    apply(make: (s: AccountState, nextId: string) => Draft): Draft {
      const draft = make(state, `m:${String(++seq).padStart(12, '0')}`);
      sum += draft.amount;
      state = draft.state;
      expect(rules.stateProblems(state)).toEqual([]);
      expect(state.available + state.held + (state.pending ?? 0)).toBe(sum);
      return draft;
    },
    /** The state is never changed in place: a refused command leaves the account as it was. */
    rejects(make: (s: AccountState) => Draft, code: string): AppError {
      const before = JSON.stringify(state);
      let thrown: unknown;
      try {
        make(state);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect((thrown as AppError).code).toBe(code);
      expect(JSON.stringify(state)).toBe(before);
      return thrown as AppError;
    },
  };
}
