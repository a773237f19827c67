/**
 * The ledger's arithmetic, with no I/O: given an account's state and a command, the entry to append and the state
 * after it, or a domain error. Every amount is an integer number of points.
 *
 * State after each entry (as of the entry's time):
 *   lots      points by expiry and, while pending, availability (ledger.lots.ts; `remaining` includes the `held` part)
 *   holds     open reservations, each remembering which lots it drew from
 *   debt      points reversed after they were spent; blocks spending until earned back
 *   available Σ(free points of available lots) − debt     pending  Σ(points of pending lots)
 *   held      Σ hold.amount = Σ lot.held
 * so that available + pending + held always equals the sum of the entries' `amount`s.
 *
 * Time passing changes two things with no entry: lots come due (the sweep writes their expiry) and pending lots
 * become available (`ripen`). Every command ripens the state at its own time first, and reads do the same.
 *
 * The state is bounded, since every entry carries it: at most MAX_LOTS lots that are not due (the two closest merge,
 * never making a point expire sooner or become available sooner than promised), the MAX_REVERSED most recent
 * reversed entries (older ones are looked up from their reversal entries), and at most MAX_OPEN_HOLDS open holds.
 */
import { AppError, conflict } from '../../platform/errors.js';
import {
  byExpiry, credit, free, hasRipe, isDue, isPending, restore, reversalOrder, ripen, takeFifo, type Hold, type Lot, type LotPart,
} from './ledger.lots.js';

export { MAX_LOTS, MAX_PENDING_DAYS, lotId, parseLotId, isPending, type Hold, type Lot, type LotPart } from './ledger.lots.js';
export { stateProblems, unsafeNumbers } from './ledger.invariants.js';
export type Totals = { earned: number; spent: number; expired: number; reversed: number; adjusted: number };

export type AccountState = {
  available: number;
  held: number;
  debt: number;
  lots: Lot[];
  holds: Hold[];
  /** Absent in states written before pending points (none were pending then). */
  pending?: number;
  /**
   * How much of each reversed entry has been reversed so far, for every entry of seq ≥ `reversedFrom` that was
   * reversed (and perhaps some older ones): an older entry's reversals are summed from its reversal entries.
   */
  reversed: Array<{ entry: string; amount: number }>;
  /** Absent in states written before the list was bounded, which list every reversed entry (as 0 does). */
  reversedFrom?: number;
  totals: Totals;
};

/** Reversed entries the state lists; one more drops the oldest (by seq) and raises `reversedFrom` past it. */
export const MAX_REVERSED = 32;
/** Holds an account may have open at once (409 LIMIT_REACHED beyond). */
export const MAX_OPEN_HOLDS = 100;

export type EntryKind = 'earn' | 'spend' | 'hold' | 'capture' | 'release' | 'expire' | 'reverse' | 'adjust';

/** What a command adds to the ledger; the store gives it an id, seq, op id and time. */
export type Draft = {
  kind: EntryKind;
  /** Signed effect on available + held. */
  amount: number;
  /** The gross points the command moved (what a reversal is limited by). */
  points: number;
  lots?: LotPart[];
  holdId?: string;
  reverses?: string;
  /** Points that expired inside this entry because they went back to a lot already due. */
  expired?: number;
  /**
   * Reversed entries this draft drops from the state's list, with how much of each is reversed: recorded (by the
   * store, before the entry lands) so that a later reversal of one of them can still find its total.
   */
  dropped?: Array<{ entry: string; amount: number }>;
  expiresAt?: Date | null;
  /** Of an earn into a pending lot: when its points become available (the asked instant, or later after a merge). */
  availableAt?: Date | null;
  state: AccountState;
};

export const emptyState = (): AccountState => ({
  available: 0,
  held: 0,
  pending: 0,
  debt: 0,
  lots: [],
  holds: [],
  reversed: [],
  reversedFrom: 0,
  totals: { earned: 0, spent: 0, expired: 0, reversed: 0, adjusted: 0 },
});

function clone(s: AccountState): AccountState {
  return {
    ...s,
    lots: s.lots.map((l) => ({ ...l })),
    holds: s.holds.map((h) => ({ ...h, from: h.from.map((p) => ({ ...p })) })),
    reversed: s.reversed.map((r) => ({ ...r })),
    totals: { ...s.totals },
  };
}

/** A copy of the state to change, with what became available by `now` made available. */
function begin(s: AccountState, now: Date): AccountState {
  const c = clone(s);
  ripen(c, now);
  return c;
}

/** Recomputes the derived fields and drops empty lots, so every draft leaves a consistent state. */
function settle(s: AccountState): AccountState {
  s.lots = s.lots.filter((l) => l.remaining > 0).sort(byExpiry);
  s.held = s.holds.reduce((sum, h) => sum + h.amount, 0);
  s.available = s.lots.filter((l) => !l.availableAt).reduce((sum, l) => sum + free(l), 0) - s.debt;
  s.pending = s.lots.filter((l) => l.availableAt).reduce((sum, l) => sum + l.remaining, 0);
  return s;
}

/** The state as of `now` as far as pending lots go: those whose time has come are available (it is `s` when none). */
export const ripenedAt = (s: AccountState, now: Date): AccountState => (hasRipe(s, now) ? settle(begin(s, now)) : s);

/** Points that can be spent or held now: free points in available lots that are not due, unless a debt is open. */
export function spendable(s: AccountState, now: Date): number {
  const r = ripenedAt(s, now);
  return r.lots.filter((l) => !isDue(l, now) && !isPending(l, now)).reduce((sum, l) => sum + free(l), 0) - r.debt;
}

const insufficient = (prev: AccountState, now: Date, amount: number) => {
  const s = ripenedAt(prev, now);
  const [available, pending] = [spendable(s, now), s.pending ?? 0];
  const note = pending > 0 ? ` (${pending} more pending)` : '';
  return conflict('INSUFFICIENT_POINTS', `not enough points: ${Math.max(available, 0)} available${note}, ${amount} needed`, {
    available,
    requested: amount,
    ...(pending > 0 ? { pending } : {}),
    ...(s.debt > 0 ? { debt: s.debt } : {}),
  });
};

/**
 * Earn: a new or merged lot; with an `availableAt` after `now`, a pending one (it pays no debt until available). The
 * draft's `expiresAt` and `availableAt` are the lot's the points went to: the asked ones, or later after a merge.
 */
export function earn(prev: AccountState, amount: number, expiresAt: Date | null, now: Date = new Date(0), availableAt: Date | null = null): Draft {
  const s = begin(prev, now);
  const lots = credit(s, amount, expiresAt, now, availableAt);
  s.totals.earned += amount;
  const into = lots[0] ? s.lots.find((l) => l.id === lots[0]?.lot) : undefined;
  return {
    kind: 'earn',
    amount,
    points: amount,
    lots,
    expiresAt: into ? into.expiresAt : expiresAt,
    ...(into?.availableAt ? { availableAt: into.availableAt } : {}),
    state: settle(s),
  };
}

/** Spend: consumes available lots soonest-expiring first (never pending ones). Errors: 409 INSUFFICIENT_POINTS. */
export function spend(prev: AccountState, amount: number, now: Date, kind: 'spend' | 'adjust' = 'spend'): Draft {
  if (spendable(prev, now) < amount) throw insufficient(prev, now, amount);
  const s = begin(prev, now);
  const lots = takeFifo(s, amount, now, 'spend');
  if (kind === 'spend') s.totals.spent += amount;
  else s.totals.adjusted -= amount;
  return { kind, amount: -amount, points: amount, lots, state: settle(s) };
}

/** Hold: reserves points from available lots (available → held). Errors: 409 INSUFFICIENT_POINTS. */
export function hold(prev: AccountState, holdId: string, amount: number, expiresAt: Date, code: string, now: Date): Draft {
  if (prev.holds.length >= MAX_OPEN_HOLDS) {
    throw conflict('LIMIT_REACHED', `an account may have at most ${MAX_OPEN_HOLDS} open holds`, { openHolds: prev.holds.length, max: MAX_OPEN_HOLDS });
  }
  if (spendable(prev, now) < amount) throw insufficient(prev, now, amount);
  const s = begin(prev, now);
  const from = takeFifo(s, amount, now, 'hold');
  s.holds.push({ id: holdId, amount, expiresAt, from, code });
  return { kind: 'hold', amount: 0, points: amount, lots: from, holdId, state: settle(s) };
}

export const findHold = (s: AccountState, holdId: string) => s.holds.find((h) => h.id === holdId);

/**
 * Capture `amount` of a hold (the rest is released) or, with amount 0, release it all.
 * Errors: 409 HOLD_NOT_ACTIVE, 409 CAPTURE_EXCEEDS_HOLD.
 */
export function resolveHold(prev: AccountState, holdId: string, amount: number, now: Date): Draft {
  const h = findHold(prev, holdId);
  if (!h) throw conflict('HOLD_NOT_ACTIVE', 'the hold was already captured, released or timed out');
  if (amount > h.amount) {
    throw conflict('CAPTURE_EXCEEDS_HOLD', `cannot capture ${amount} from a hold of ${h.amount}`, { held: h.amount, requested: amount });
  }
  const s = begin(prev, now);
  s.holds = s.holds.filter((x) => x.id !== holdId);
  let toCapture = amount;
  const captured: LotPart[] = [];
  const released: LotPart[] = [];
  for (const part of h.from) {
    const lot = s.lots.find((l) => l.id === part.lot);
    if (!lot) throw new AppError(500, 'LEDGER_CORRUPT', `hold ${holdId} draws from missing lot ${part.lot}`, undefined, false);
    lot.held -= part.amount;
    const cap = Math.min(part.amount, toCapture);
    toCapture -= cap;
    lot.remaining -= part.amount; // the released part is put back through restore(), which expires it if due
    if (cap > 0) captured.push({ lot: part.lot, amount: cap });
    if (part.amount - cap > 0) released.push({ lot: part.lot, amount: part.amount - cap });
  }
  const expired = restore(s, released, now);
  s.totals.expired += expired;
  s.totals.spent += amount;
  return {
    kind: amount > 0 ? 'capture' : 'release',
    amount: 0 - amount - expired, // never -0 for a release
    points: amount,
    lots: captured,
    holdId,
    ...(expired > 0 ? { expired } : {}),
    state: settle(s),
  };
}

/**
 * Expires what is free in a due lot (`id` as `dueWork` names it, after ripening). Returns undefined when there is
 * nothing to expire. A pending lot is never expired (none can be due: its expiry is after its availability).
 */
export function expireLot(prev: AccountState, id: string, now: Date): Draft | undefined {
  const s = begin(prev, now);
  const target = s.lots.find((l) => l.id === id);
  if (!target || !isDue(target, now) || isPending(target, now) || free(target) <= 0) return undefined;
  const x = free(target);
  target.remaining -= x;
  s.totals.expired += x;
  return { kind: 'expire', amount: -x, points: x, lots: [{ lot: id, amount: x }], state: settle(s) };
}

/**
 * The state as it will be once what is due at `now` is settled: holds past their time released (what they return to
 * a due lot expiring). What balances show, so a timed-out hold is not shown as held in the minute before the sweep.
 */
export function settledAt(s: AccountState, now: Date): AccountState {
  let state = ripenedAt(s, now);
  for (const h of s.holds) if (h.expiresAt.getTime() <= now.getTime()) state = resolveHold(state, h.id, 0, now).state;
  return state;
}

/** Lots with free points that are due at `now` (named as after ripening), and holds past their time: what a sweep resolves. */
export function dueWork(prev: AccountState, now: Date): { lots: string[]; holds: string[] } {
  const s = ripenedAt(prev, now);
  return {
    lots: s.lots.filter((l) => isDue(l, now) && free(l) > 0).map((l) => l.id),
    holds: s.holds.filter((h) => h.expiresAt.getTime() <= now.getTime()).map((h) => h.id),
  };
}

/** Everything in a state that will come due: lots holding free points (they expire) and holds (they time out). */
export function dueItems(s: AccountState): Array<{ item: string; dueAt: Date }> {
  return [
    ...s.lots.filter((l) => l.expiresAt && free(l) > 0).map((l) => ({ item: `lot:${l.id}`, dueAt: l.expiresAt as Date })),
    ...s.holds.map((h) => ({ item: `hold:${h.id}`, dueAt: h.expiresAt })),
  ];
}

/**
 * The due items a draft opens. Whatever was open before is covered by the record written when it opened; only what
 * opens now needs one.
 */
export function openedDue(before: AccountState, after: AccountState): Array<{ item: string; dueAt: Date }> {
  const open = new Set(dueItems(before).map((d) => d.item));
  return dueItems(after).filter((d) => !open.has(d.item));
}

/** `availableAt`: of an earn into a pending lot, when its points become available. */
export type ReversibleEntry = { id: string; kind: EntryKind; points: number; lots?: LotPart[]; availableAt?: Date | null };

/** The seq in an entry id (`<memberId>:<seq, 12 digits>`). */
const seqOf = (entryId: string) => Number(entryId.slice(-12));

/**
 * Whether the state alone cannot tell how much of `target` was reversed: it is older than the reversed entries the
 * state lists and is not among them, so the store must say (the `reversedSoFar` of `reverse`, from the records written
 * when it was dropped from the list).
 */
export const reversalsUnlisted = (s: AccountState, targetId: string) =>
  seqOf(targetId) < (s.reversedFrom ?? 0) && !s.reversed.some((r) => r.entry === targetId);

/** Keeps the MAX_REVERSED reversed entries of highest seq; `reversedFrom` moves past every one dropped. */
function boundReversed(s: AccountState): Array<{ entry: string; amount: number }> {
  const dropped: Array<{ entry: string; amount: number }> = [];
  while (s.reversed.length > MAX_REVERSED) {
    const oldest = s.reversed.reduce((a, b) => (seqOf(b.entry) < seqOf(a.entry) ? b : a));
    s.reversed = s.reversed.filter((r) => r !== oldest);
    s.reversedFrom = Math.max(s.reversedFrom ?? 0, seqOf(oldest.entry) + 1);
    dropped.push(oldest);
  }
  return dropped;
}

/**
 * Reverses part or all of an earn (points taken back; what was already spent becomes debt) or of a spend / capture
 * (points returned to the lots they came from). Errors: 409 NOT_REVERSIBLE, 409 ALREADY_REVERSED, 409 REVERSAL_EXCEEDS_ENTRY.
 */
export function reverse(prev: AccountState, target: ReversibleEntry, amount: number | undefined, now: Date, reversedSoFar?: number): Draft {
  if (!['earn', 'spend', 'capture'].includes(target.kind)) {
    throw conflict('NOT_REVERSIBLE', `a ${target.kind} entry cannot be reversed; earn, spend and capture entries can`);
  }
  const done = reversedOf(prev, target.id, reversedSoFar);
  const left = target.points - done;
  if (left <= 0) throw conflict('ALREADY_REVERSED', 'the entry is fully reversed', { reversed: done });
  const x = amount ?? left;
  if (x > left) throw conflict('REVERSAL_EXCEEDS_ENTRY', `only ${left} of this entry is left to reverse`, { left, requested: x });

  const s = begin(prev, now);
  const mark = s.reversed.find((r) => r.entry === target.id);
  if (mark) mark.amount += x;
  else s.reversed.push({ entry: target.id, amount: done + x });
  const dropped = boundReversed(s);
  s.totals.reversed += x;

  if (target.kind === 'earn') {
    // Take back from the earn's own lot first, then (ledger.lots.ts) free points; what is gone already becomes debt.
    let left2 = x;
    const lots: LotPart[] = [];
    for (const lot of reversalOrder(s, target, now)) {
      const take = Math.min(free(lot), left2);
      if (take <= 0) continue;
      lot.remaining -= take;
      lots.push({ lot: lot.id, amount: take });
      left2 -= take;
    }
    s.debt += left2;
    return { kind: 'reverse', amount: -x, points: x, lots, reverses: target.id, ...(dropped.length > 0 ? { dropped } : {}), state: settle(s) };
  }

  // Spend or capture: give back, latest-expiring part first, skipping what earlier reversals already gave back.
  const parts = [...(target.lots ?? [])].reverse();
  let skip = done;
  let give = x;
  const back: LotPart[] = [];
  for (const p of parts) {
    const usable = Math.max(p.amount - skip, 0);
    skip = Math.max(skip - p.amount, 0);
    const g = Math.min(usable, give);
    if (g > 0) back.push({ lot: p.lot, amount: g });
    give -= g;
  }
  const expired = restore(s, back, now);
  s.totals.expired += expired;
  return {
    kind: 'reverse',
    amount: x - expired,
    points: x,
    lots: back,
    reverses: target.id,
    ...(expired > 0 ? { expired } : {}),
    ...(dropped.length > 0 ? { dropped } : {}),
    state: settle(s),
  };
}

/**
 * How much of an entry is reversed: from the state's list, else (for an entry older than the list) what the caller
 * summed from its reversal entries. Throws when that sum is needed and missing (a caller bug, never a member's).
 */
export function reversedOf(s: AccountState, targetId: string, reversedSoFar?: number): number {
  const listed = s.reversed.find((r) => r.entry === targetId);
  if (listed) return listed.amount;
  if (!reversalsUnlisted(s, targetId)) return 0;
  if (reversedSoFar === undefined) throw new AppError(500, 'LEDGER_LOOKUP_MISSING', `the reversals of ${targetId} were not looked up`, undefined, false);
  return reversedSoFar;
}

/** Ops adjustment: a credit into a lot, or a debit like a spend. Errors: 409 INSUFFICIENT_POINTS. */
export function adjust(prev: AccountState, delta: number, expiresAt: Date | null, now: Date): Draft {
  if (delta < 0) return spend(prev, -delta, now, 'adjust');
  const s = begin(prev, now);
  const lots = credit(s, delta, expiresAt, now);
  s.totals.adjusted += delta;
  return { kind: 'adjust', amount: delta, points: delta, lots, expiresAt, state: settle(s) };
}
