/**
 * Lots: an account's points grouped by when they expire and, while they are pending, by when they become available
 * (docs/LEDGER.md). Pure arithmetic on the state's lots, holds and debt; ledger.state.ts builds the commands on it.
 *
 * Two promises hold for every point, whatever merges happen: it never expires sooner than promised, and it never
 * becomes available sooner than promised. A lot's expiry is always after its availability (the service refuses or
 * computes it so), so a point can never expire while it is still pending.
 */

/**
 * Points sharing an expiry and, while pending, an availability. `remaining` includes the `held` part; a pending lot
 * (`availableAt` set) has no held part: spends and holds only draw from available lots.
 */
export type Lot = { id: string; expiresAt: Date | null; availableAt?: Date | null; remaining: number; held: number };
export type LotPart = { lot: string; amount: number };
export type Hold = { id: string; amount: number; expiresAt: Date; from: LotPart[]; code: string };
/** The part of an account's state lots live in. */
export type Book = { lots: Lot[]; holds: Hold[]; debt: number };

/** Lots that are not due an account keeps; one more makes the two closest merge. */
export const MAX_LOTS = 48;
/** How far ahead an earn's points may be pending: a year, leap day included (return windows and hold periods are days). */
export const MAX_PENDING_DAYS = 366;

/** `<expiry ISO | never>` for available points; `<expiry>@<availability ISO>` for pending ones. */
export const lotId = (expiresAt: Date | null, availableAt?: Date | null) => {
  const expiry = expiresAt ? expiresAt.toISOString() : 'never';
  return availableAt ? `${expiry}@${availableAt.toISOString()}` : expiry;
};

/** The expiry and availability a lot id names (lot parts of entries name lots by id only). */
export function parseLotId(id: string): { expiresAt: Date | null; availableAt: Date | null } {
  const [expiry = 'never', availability] = id.split('@');
  return { expiresAt: expiry === 'never' ? null : new Date(expiry), availableAt: availability ? new Date(availability) : null };
}

const time = (d: Date | null | undefined, none: number) => (d ? d.getTime() : none);
const compare = (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1);
export const isDue = (lot: { expiresAt: Date | null }, now: Date) => lot.expiresAt !== null && lot.expiresAt.getTime() <= now.getTime();
export const isPending = (lot: { availableAt?: Date | null }, now: Date) => !!lot.availableAt && lot.availableAt.getTime() > now.getTime();
export const free = (lot: Lot) => lot.remaining - lot.held;
/** Soonest-expiring first; of two lots expiring together, the available one first. */
export const byExpiry = (a: Lot, b: Lot) =>
  compare(time(a.expiresAt, Infinity), time(b.expiresAt, Infinity)) || compare(time(a.availableAt, -Infinity), time(b.availableAt, -Infinity));
const byAvailability = (a: Lot, b: Lot) => compare(time(a.availableAt, -Infinity), time(b.availableAt, -Infinity)) || byExpiry(a, b);

/** How far apart two expiries are (0 for two lots that never expire, Infinity for one that does and one that does not). */
function expiryGap(a: Date | null, b: Date | null): number {
  if (a === null && b === null) return 0;
  if (a === null || b === null) return Infinity;
  return Math.abs(a.getTime() - b.getTime());
}
const laterExpiry = (a: Date | null, b: Date | null) => (a === null || b === null ? null : a.getTime() >= b.getTime() ? a : b);
const laterOf = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

/**
 * Adds points to the lot for (`expiresAt`, `availableAt`). Available points pay any debt first; pending points do
 * not (they pay it when they become available, see `ripen`). A new lot beyond MAX_LOTS merges the two closest lots
 * (perhaps itself into another). Returns the parts credited to lots.
 */
export function credit(s: Book, amount: number, expiresAt: Date | null, now: Date, availableAt: Date | null = null): LotPart[] {
  const pending = availableAt !== null && availableAt.getTime() > now.getTime();
  const toDebt = pending ? 0 : Math.min(s.debt, amount);
  s.debt -= toDebt;
  const rest = amount - toDebt;
  if (rest === 0) return [];
  const id = lotId(expiresAt, pending ? availableAt : null);
  let lot = s.lots.find((l) => l.id === id);
  if (!lot) {
    lot = pending ? { id, expiresAt, availableAt, remaining: 0, held: 0 } : { id, expiresAt, remaining: 0, held: 0 };
    s.lots.push(lot);
    lot = boundLots(s, now, lot);
  }
  lot.remaining += rest;
  return [{ lot: lot.id, amount: rest }];
}

/**
 * Turns the lots whose availability has come into available points, as time passing does with no entry: each, in the
 * order they became available, pays what debt is open and goes into the available lot of its expiry. Every command
 * and every read does this at its own time first, so a state's pending lots are those pending at its time.
 */
export function ripen(s: Book, now: Date): void {
  const ripe = s.lots.filter((l) => l.availableAt && !isPending(l, now)).sort(byAvailability);
  if (ripe.length === 0) return;
  s.lots = s.lots.filter((l) => !ripe.includes(l));
  for (const lot of ripe) credit(s, lot.remaining, lot.expiresAt, now);
}

export const hasRipe = (s: Book, now: Date) => s.lots.some((l) => l.availableAt && !isPending(l, now));

/** A merge that would bring the lots back under the bound, and how far it moves points from what was promised. */
type Merge = { cost: number; apply: () => Lot };

/**
 * Merges lots that are not due until at most MAX_LOTS are left, each time the pair whose merge moves points least:
 * - two available lots, the earlier-expiring into the later (adjacent by expiry; its points expire later than
 *   promised, never sooner; holds drawing from it draw from the later lot); the cost is the gap between the expiries;
 * - two pending lots, into the lot of the later expiry and the later availability of the two (their points become
 *   available later than promised, never sooner, and expire no sooner); the cost is the availability gap plus the
 *   expiry gap. Pending lots hold nothing, so no hold moves.
 * An available lot never merges with a pending one: that would either make pending points available early or take
 * available points away from the member for a while. Of two merges that cost the same, the available one is made.
 * Due lots are left alone: the sweep expires them. Answers where `fresh`'s points are now.
 */
function boundLots(s: Book, now: Date, fresh: Lot): Lot {
  let target = fresh;
  for (;;) {
    const live = s.lots.filter((l) => !isDue(l, now));
    if (live.length <= MAX_LOTS) return target;
    const merges = [...availableMerges(s, live.filter((l) => !l.availableAt)), ...pendingMerges(s, live.filter((l) => l.availableAt))];
    const best = merges.reduce<Merge | undefined>((a, b) => (!a || b.cost < a.cost ? b : a), undefined);
    if (!best) return target; // unreachable: more than MAX_LOTS lots always hold two of one class
    const into = best.apply();
    if (!s.lots.includes(target)) target = into;
  }
}

function availableMerges(s: Book, lots: Lot[]): Merge[] {
  const sorted = [...lots].sort(byExpiry);
  return sorted.slice(1).map((into, i) => {
    const from = sorted[i] as Lot;
    return {
      cost: expiryGap(from.expiresAt, into.expiresAt),
      apply: () => {
        into.remaining += from.remaining;
        into.held += from.held;
        for (const h of s.holds) {
          const moved = h.from.filter((p) => p.lot === from.id || p.lot === into.id).reduce((sum, p) => sum + p.amount, 0);
          if (moved === 0) continue;
          h.from = [...h.from.filter((p) => p.lot !== from.id && p.lot !== into.id), { lot: into.id, amount: moved }];
        }
        s.lots = s.lots.filter((l) => l !== from);
        return into;
      },
    };
  });
}

function pendingMerges(s: Book, lots: Lot[]): Merge[] {
  const sorted = [...lots].sort(byAvailability);
  const merges: Merge[] = [];
  for (const [i, a] of sorted.entries()) {
    for (const b of sorted.slice(i + 1)) {
      const availableAt = laterOf(a.availableAt as Date, b.availableAt as Date);
      const expiresAt = laterExpiry(a.expiresAt, b.expiresAt);
      merges.push({
        cost: Math.abs((a.availableAt as Date).getTime() - (b.availableAt as Date).getTime()) + expiryGap(a.expiresAt, b.expiresAt),
        apply: () => {
          // The lot of the later expiry and availability may be one of the two, or a third one already there.
          s.lots = s.lots.filter((l) => l !== a && l !== b);
          const id = lotId(expiresAt, availableAt);
          let into = s.lots.find((l) => l.id === id);
          if (!into) {
            into = { id, expiresAt, availableAt, remaining: 0, held: 0 };
            s.lots.push(into);
          }
          into.remaining += a.remaining + b.remaining;
          return into;
        },
      });
    }
  }
  return merges;
}

/** Takes `amount` free points from available lots that are not due, soonest-expiring first (the caller checked there are enough). */
export function takeFifo(s: Book, amount: number, now: Date, into: 'spend' | 'hold'): LotPart[] {
  const parts: LotPart[] = [];
  let left = amount;
  for (const lot of [...s.lots].sort(byExpiry)) {
    if (left === 0) break;
    if (isDue(lot, now) || isPending(lot, now)) continue;
    const take = Math.min(free(lot), left);
    if (take <= 0) continue;
    if (into === 'spend') lot.remaining -= take;
    else lot.held += take;
    parts.push({ lot: lot.id, amount: take });
    left -= take;
  }
  return parts;
}

/**
 * Puts points back into the lots they came from (always available lots: nothing draws from a pending one); what
 * lands in a lot already due expires at once. Answers how many expired.
 */
export function restore(s: Book, parts: LotPart[], now: Date): number {
  let expired = 0;
  for (const part of parts) {
    const { expiresAt } = parseLotId(part.lot);
    if (isDue({ expiresAt }, now)) {
      expired += part.amount;
      continue;
    }
    credit(s, part.amount, expiresAt, now);
  }
  return expired;
}

/**
 * The order in which a reversal of an earn takes points back: the earn's own lot first (where its points went, or
 * the available lot they ripened into); then, while the earn is still pending, the pending lots available no sooner
 * than it (where a merge may have moved its points); then available points, soonest-expiring first. Pending points
 * of other earns are never taken: they belong to earns that may be reversed themselves.
 */
export function reversalOrder(s: Book, target: { lots?: LotPart[]; availableAt?: Date | null }, now: Date): Lot[] {
  const pendingTarget = isPending({ availableAt: target.availableAt ?? null }, now);
  // An earn no longer pending finds its points in the available lot of its expiry, where they ripened.
  const own = new Set((target.lots ?? []).flatMap((p) => (pendingTarget ? [p.lot] : [p.lot, lotId(parseLotId(p.lot).expiresAt)])));
  const after = (target.availableAt ?? new Date(0)).getTime();
  const rank = (l: Lot) => {
    if (own.has(l.id)) return 0;
    if (!l.availableAt) return 2;
    return pendingTarget && l.availableAt.getTime() >= after ? 1 : 3;
  };
  return s.lots
    .filter((l) => rank(l) < 3)
    .sort((a, b) => rank(a) - rank(b) || (rank(a) === 1 ? byAvailability(a, b) : byExpiry(a, b)));
}
