/**
 * The invariants of one account state (PRODUCT.md §4, docs/LEDGER.md "Invariants"), as `ledger:check` and the tests
 * verify them: what a state must satisfy whatever the history that led to it.
 */
import { free, lotId } from './ledger.lots.js';
import type { AccountState } from './ledger.state.js';

/**
 * The numbers of a state that are not safe integers: points are whole numbers (PRODUCT.md §2), and beyond 2^53 sums stop
 * being exact, so a balance there would lie. Named as `field value`, empty when every number is safe.
 */
export function unsafeNumbers(s: AccountState): string[] {
  const fields: Array<[string, number]> = [
    ['available', s.available],
    ['held', s.held],
    ['pending', s.pending ?? 0],
    ['debt', s.debt],
    ...s.lots.flatMap((l): Array<[string, number]> => [[`lot ${l.id} remaining`, l.remaining], [`lot ${l.id} held`, l.held]]),
    ...s.holds.map((h): [string, number] => [`hold ${h.id}`, h.amount]),
    ...Object.entries(s.totals).map(([k, v]): [string, number] => [`lifetime ${k}`, v]),
  ];
  return fields.filter(([, v]) => !Number.isSafeInteger(v)).map(([name, v]) => `${name} ${v}`);
}

/** The invariants of one state; returns what is wrong, empty when consistent. */
export function stateProblems(s: AccountState): string[] {
  const problems: string[] = unsafeNumbers(s).map((f) => `${f} is not a safe integer`);
  const lotHeld = s.lots.reduce((sum, l) => sum + l.held, 0);
  const holdSum = s.holds.reduce((sum, h) => sum + h.amount, 0);
  const availableLots = s.lots.filter((l) => !l.availableAt);
  const pendingLots = s.lots.filter((l) => l.availableAt);
  const freeAvailable = availableLots.reduce((sum, l) => sum + free(l), 0);
  const pendingSum = pendingLots.reduce((sum, l) => sum + l.remaining, 0);
  if (s.held !== holdSum) problems.push(`held ${s.held} ≠ Σ holds ${holdSum}`);
  if (lotHeld !== holdSum) problems.push(`Σ lot.held ${lotHeld} ≠ Σ holds ${holdSum}`);
  if (s.available !== freeAvailable - s.debt) problems.push('available ≠ Σ free points of available lots − debt');
  if ((s.pending ?? 0) !== pendingSum) problems.push(`pending ${s.pending ?? 0} ≠ Σ pending lots ${pendingSum}`);
  if (s.debt < 0) problems.push(`negative debt ${s.debt}`);
  // Pending points may sit beside a debt: they pay it when they become available.
  if (s.debt > 0 && freeAvailable > 0) problems.push('debt is open while free points exist');
  for (const l of s.lots) {
    if (l.remaining < 0 || l.held < 0 || l.held > l.remaining) problems.push(`lot ${l.id} out of range`);
    if (l.id !== lotId(l.expiresAt, l.availableAt)) problems.push(`lot ${l.id} does not name its expiry and availability`);
  }
  for (const l of pendingLots) {
    if (l.held !== 0) problems.push(`pending lot ${l.id} has ${l.held} points held`);
    if (l.expiresAt && l.availableAt && l.expiresAt.getTime() <= l.availableAt.getTime()) {
      problems.push(`pending lot ${l.id} expires before it becomes available`);
    }
  }
  const pendingIds = new Set(pendingLots.map((l) => l.id));
  for (const h of s.holds) {
    if (h.from.reduce((sum, p) => sum + p.amount, 0) !== h.amount) problems.push(`hold ${h.id} parts ≠ amount`);
    if (h.from.some((p) => pendingIds.has(p.lot))) problems.push(`hold ${h.id} draws from a pending lot`);
  }
  return problems;
}
