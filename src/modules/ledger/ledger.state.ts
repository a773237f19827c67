/**
 * The ledger's arithmetic, with no I/O: given an account's state and a command, the entry to append and the state
 * after it, or a domain error. Every amount is an integer number of points.
 *
 * State after each entry:
 *   lots      points by expiry (one lot per expiry instant; `remaining` includes the `held` part)
 *   holds     open reservations, each remembering which lots it drew from
 *   debt      points reversed after they were spent; blocks spending until earned back
 *   available Σ(lot.remaining − lot.held) − debt      held = Σ hold.amount = Σ lot.held
 * so that available + held always equals the sum of the entries' `amount`s.
 *
 * The state is bounded, since every entry carries it: at most MAX_LOTS lots that are not due (the two closest merge,
 * the earlier into the later, so no point ever expires sooner than promised), the MAX_REVERSED most recent reversed
 * entries (older ones are looked up from their reversal entries), and at most MAX_OPEN_HOLDS open holds.
 */
import { AppError, conflict } from '../../platform/errors.js';

export type Lot = { id: string; expiresAt: Date | null; remaining: number; held: number };
export type LotPart = { lot: string; amount: number };
export type Hold = { id: string; amount: number; expiresAt: Date; from: LotPart[]; code: string };
export type Totals = { earned: number; spent: number; expired: number; reversed: number; adjusted: number };

export type AccountState = {
  available: number;
  held: number;
  debt: number;
  lots: Lot[];
  holds: Hold[];
  /**
   * How much of each reversed entry has been reversed so far, for every entry of seq ≥ `reversedFrom` that was
   * reversed (and perhaps some older ones): an older entry's reversals are summed from its reversal entries.
   */
  reversed: Array<{ entry: string; amount: number }>;
  /** Absent in states written before the list was bounded, which list every reversed entry (as 0 does). */
  reversedFrom?: number;
  totals: Totals;
};

/** Lots that are not due an account keeps; one more makes the two closest merge. */
export const MAX_LOTS = 48;
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
  state: AccountState;
};

export const emptyState = (): AccountState => ({
  available: 0,
  held: 0,
  debt: 0,
  lots: [],
  holds: [],
  reversed: [],
  reversedFrom: 0,
  totals: { earned: 0, spent: 0, expired: 0, reversed: 0, adjusted: 0 },
});

export const lotId = (expiresAt: Date | null) => (expiresAt ? expiresAt.toISOString() : 'never');
const lotExpiry = (id: string) => (id === 'never' ? null : new Date(id));
const isDue = (lot: { expiresAt: Date | null }, now: Date) => lot.expiresAt !== null && lot.expiresAt.getTime() <= now.getTime();
const byExpiry = (a: Lot, b: Lot) =>
  (a.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY) - (b.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
const free = (lot: Lot) => lot.remaining - lot.held;

function clone(s: AccountState): AccountState {
  return {
    ...s,
    lots: s.lots.map((l) => ({ ...l })),
    holds: s.holds.map((h) => ({ ...h, from: h.from.map((p) => ({ ...p })) })),
    reversed: s.reversed.map((r) => ({ ...r })),
    totals: { ...s.totals },
  };
}

/** Recomputes the derived fields and drops empty lots, so every draft leaves a consistent state. */
function settle(s: AccountState): AccountState {
  s.lots = s.lots.filter((l) => l.remaining > 0).sort(byExpiry);
  s.held = s.holds.reduce((sum, h) => sum + h.amount, 0);
  s.available = s.lots.reduce((sum, l) => sum + free(l), 0) - s.debt;
  return s;
}

/** Points that can be spent or held now: free points in lots that are not due, unless a debt is open. */
export function spendable(s: AccountState, now: Date): number {
  const notDue = s.lots.filter((l) => !isDue(l, now)).reduce((sum, l) => sum + free(l), 0);
  return notDue - s.debt;
}

const insufficient = (s: AccountState, now: Date, amount: number) =>
  conflict('INSUFFICIENT_POINTS', `not enough points: ${Math.max(spendable(s, now), 0)} available, ${amount} needed`, {
    available: spendable(s, now),
    requested: amount,
    ...(s.debt > 0 ? { debt: s.debt } : {}),
  });

/**
 * Adds points to the lot for `expiresAt`, paying any debt first; a new lot beyond MAX_LOTS merges the two closest
 * lots (perhaps itself into the next one). Returns the parts credited to lots.
 */
function credit(s: AccountState, amount: number, expiresAt: Date | null, now: Date): LotPart[] {
  const toDebt = Math.min(s.debt, amount);
  s.debt -= toDebt;
  const rest = amount - toDebt;
  if (rest === 0) return [];
  const id = lotId(expiresAt);
  let lot = s.lots.find((l) => l.id === id);
  if (!lot) {
    lot = { id, expiresAt, remaining: 0, held: 0 };
    s.lots.push(lot);
    lot = boundLots(s, now, lot);
  }
  lot.remaining += rest;
  return [{ lot: lot.id, amount: rest }];
}

/**
 * Merges lots that are not due until at most MAX_LOTS are left: each time the adjacent pair with the smallest gap
 * between their expiries, the earlier into the later (its points expire later than promised, never sooner; holds
 * drawing from it draw from the later lot). Due lots are left alone: the sweep expires them. Answers where `fresh`'s
 * points are now.
 */
function boundLots(s: AccountState, now: Date, fresh: Lot): Lot {
  let target = fresh;
  for (;;) {
    const live = s.lots.filter((l) => !isDue(l, now)).sort(byExpiry);
    if (live.length <= MAX_LOTS) return target;
    let best = 0;
    let smallest = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 1 < live.length; i++) {
      const gap = ((live[i + 1] as Lot).expiresAt?.getTime() ?? Number.POSITIVE_INFINITY) - ((live[i] as Lot).expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
      if (gap < smallest) [best, smallest] = [i, gap];
    }
    const from = live[best] as Lot;
    const into = live[best + 1] as Lot;
    into.remaining += from.remaining;
    into.held += from.held;
    for (const h of s.holds) {
      const moved = h.from.filter((p) => p.lot === from.id || p.lot === into.id).reduce((sum, p) => sum + p.amount, 0);
      if (moved === 0) continue;
      h.from = [...h.from.filter((p) => p.lot !== from.id && p.lot !== into.id), { lot: into.id, amount: moved }];
    }
    s.lots = s.lots.filter((l) => l !== from);
    if (target === from) target = into;
  }
}

/** Takes `amount` free points from lots that are not due, soonest-expiring first (the caller checked there are enough). */
function takeFifo(s: AccountState, amount: number, now: Date, into: 'spend' | 'hold'): LotPart[] {
  const parts: LotPart[] = [];
  let left = amount;
  for (const lot of [...s.lots].sort(byExpiry)) {
    if (left === 0) break;
    if (isDue(lot, now)) continue;
    const take = Math.min(free(lot), left);
    if (take <= 0) continue;
    if (into === 'spend') lot.remaining -= take;
    else lot.held += take;
    parts.push({ lot: lot.id, amount: take });
    left -= take;
  }
  return parts;
}

/** Puts points back into the lots they came from; what lands in a lot already due expires at once. */
function restore(s: AccountState, parts: LotPart[], now: Date): { expired: number } {
  let expired = 0;
  for (const part of parts) {
    const expiresAt = lotExpiry(part.lot);
    if (isDue({ expiresAt }, now)) {
      expired += part.amount;
      continue;
    }
    credit(s, part.amount, expiresAt, now);
  }
  s.totals.expired += expired;
  return { expired };
}

/** Earn: a new or merged lot (`expiresAt` on the draft is the lot the points went to: the asked expiry or later). */
export function earn(prev: AccountState, amount: number, expiresAt: Date | null, now: Date = new Date(0)): Draft {
  const s = clone(prev);
  const lots = credit(s, amount, expiresAt, now);
  s.totals.earned += amount;
  const into = lots[0] ? s.lots.find((l) => l.id === lots[0]?.lot) : undefined;
  return { kind: 'earn', amount, points: amount, lots, expiresAt: into ? into.expiresAt : expiresAt, state: settle(s) };
}

/** Spend: consumes lots soonest-expiring first. Errors: 409 INSUFFICIENT_POINTS. */
export function spend(prev: AccountState, amount: number, now: Date, kind: 'spend' | 'adjust' = 'spend'): Draft {
  if (spendable(prev, now) < amount) throw insufficient(prev, now, amount);
  const s = clone(prev);
  const lots = takeFifo(s, amount, now, 'spend');
  if (kind === 'spend') s.totals.spent += amount;
  else s.totals.adjusted -= amount;
  return { kind, amount: -amount, points: amount, lots, state: settle(s) };
}

/** Hold: reserves points from lots (available → held). Errors: 409 INSUFFICIENT_POINTS. */
export function hold(prev: AccountState, holdId: string, amount: number, expiresAt: Date, code: string, now: Date): Draft {
  if (prev.holds.length >= MAX_OPEN_HOLDS) {
    throw conflict('LIMIT_REACHED', `an account may have at most ${MAX_OPEN_HOLDS} open holds`, { openHolds: prev.holds.length, max: MAX_OPEN_HOLDS });
  }
  if (spendable(prev, now) < amount) throw insufficient(prev, now, amount);
  const s = clone(prev);
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
  const s = clone(prev);
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
  const { expired } = restore(s, released, now);
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

/** Expires what is free in a due lot. Returns undefined when there is nothing to expire. */
export function expireLot(prev: AccountState, id: string, now: Date): Draft | undefined {
  const lot = prev.lots.find((l) => l.id === id);
  if (!lot || !isDue(lot, now) || free(lot) <= 0) return undefined;
  const s = clone(prev);
  const target = s.lots.find((l) => l.id === id) as Lot;
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
  let state = s;
  for (const h of s.holds) if (h.expiresAt.getTime() <= now.getTime()) state = resolveHold(state, h.id, 0, now).state;
  return state;
}

/** Lots with free points that are due at `now`, and holds past their time: what a sweep resolves. */
export function dueWork(s: AccountState, now: Date): { lots: string[]; holds: string[] } {
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

export type ReversibleEntry = { id: string; kind: EntryKind; points: number; lots?: LotPart[] };

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

  const s = clone(prev);
  const mark = s.reversed.find((r) => r.entry === target.id);
  if (mark) mark.amount += x;
  else s.reversed.push({ entry: target.id, amount: done + x });
  const dropped = boundReversed(s);
  s.totals.reversed += x;

  if (target.kind === 'earn') {
    // Take back from the earn's own lot first, then soonest-expiring free points; what is gone already becomes debt.
    const own = new Set((target.lots ?? []).map((p) => p.lot));
    const order = [...s.lots].sort((a, b) => Number(own.has(b.id)) - Number(own.has(a.id)) || byExpiry(a, b));
    let left2 = x;
    const lots: LotPart[] = [];
    for (const lot of order) {
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
  const { expired } = restore(s, back, now);
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
  const s = clone(prev);
  const lots = credit(s, delta, expiresAt, now);
  s.totals.adjusted += delta;
  return { kind: 'adjust', amount: delta, points: delta, lots, expiresAt, state: settle(s) };
}

/**
 * The numbers of a state that are not safe integers: points are whole numbers (PRODUCT.md §2), and beyond 2^53 sums stop
 * being exact, so a balance there would lie. Named as `field value`, empty when every number is safe.
 */
export function unsafeNumbers(s: AccountState): string[] {
  const fields: Array<[string, number]> = [
    ['available', s.available],
    ['held', s.held],
    ['debt', s.debt],
    ...s.lots.flatMap((l): Array<[string, number]> => [[`lot ${l.id} remaining`, l.remaining], [`lot ${l.id} held`, l.held]]),
    ...s.holds.map((h): [string, number] => [`hold ${h.id}`, h.amount]),
    ...Object.entries(s.totals).map(([k, v]): [string, number] => [`lifetime ${k}`, v]),
  ];
  return fields.filter(([, v]) => !Number.isSafeInteger(v)).map(([name, v]) => `${name} ${v}`);
}

/** The invariants of one state (PRODUCT.md §4); returns what is wrong, empty when consistent. */
export function stateProblems(s: AccountState): string[] {
  const problems: string[] = unsafeNumbers(s).map((f) => `${f} is not a safe integer`);
  const lotHeld = s.lots.reduce((sum, l) => sum + l.held, 0);
  const holdSum = s.holds.reduce((sum, h) => sum + h.amount, 0);
  if (s.held !== holdSum) problems.push(`held ${s.held} ≠ Σ holds ${holdSum}`);
  if (lotHeld !== holdSum) problems.push(`Σ lot.held ${lotHeld} ≠ Σ holds ${holdSum}`);
  if (s.available !== s.lots.reduce((sum, l) => sum + free(l), 0) - s.debt) problems.push('available ≠ Σ free lot points − debt');
  if (s.debt < 0) problems.push(`negative debt ${s.debt}`);
  if (s.debt > 0 && s.available > -s.debt) problems.push('debt is open while free points exist');
  for (const l of s.lots) if (l.remaining < 0 || l.held < 0 || l.held > l.remaining) problems.push(`lot ${l.id} out of range`);
  for (const h of s.holds) {
    if (h.from.reduce((sum, p) => sum + p.amount, 0) !== h.amount) problems.push(`hold ${h.id} parts ≠ amount`);
  }
  return problems;
}
