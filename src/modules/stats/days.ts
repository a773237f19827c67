import { dayNumber } from '../../platform/calendar.js';
import type { Fact } from '../../platform/facts.js';

/**
 * What happened on a day (or over several): counters and keyed counters summed from facts (docs/ANALYTICS.md names
 * each one). The same sums come from a closed day's document or from the facts of a day still open.
 */
export type Flows = { c: Record<string, number>; k: Record<string, Record<string, number>> };
export const emptyFlows = (): Flows => ({ c: {}, k: {} });

export function addCounters(into: Record<string, number>, from: Record<string, number> | undefined): void {
  for (const [name, n] of Object.entries(from ?? {})) into[name] = (into[name] ?? 0) + n;
}

/** Adds a fact's counters (or another day's flows) to `into`. */
export function addFlows(into: Flows, from: Pick<Fact, 'c' | 'k'>): Flows {
  addCounters(into.c, from.c);
  for (const [map, keys] of Object.entries(from.k ?? {})) addCounters((into.k[map] ??= {}), keys);
  return into;
}

/** Idle days are counted up to this; a member idle longer is in the last bucket (ACTIVE_DAYS may be at most this). */
export const IDLE_CAP = 90;

/**
 * A member as the lifecycle figures and segments see it, from its facts: registered when, last active when (its
 * registration counts, so a new member is not idle), and its tier (`null`: no change yet, the ladder's first tier).
 */
export type MemberRow = { reg: number | null; last: number; lastDay: number; tier: string | null; tierSeq: number };

/** The part of a fact the members' rows need (a rollup keeps only this of each day's facts). */
export type MemberFact = Pick<Fact, 'member' | 'at' | 'registered' | 'active' | 'tier'>;
export const memberPart = (f: Fact): MemberFact | undefined =>
  f.member && (f.registered || f.active || f.tier) ? { member: f.member, at: f.at, registered: f.registered, active: f.active, tier: f.tier } : undefined;

/**
 * Applies a fact to the members' rows (facts of one day in any order: each field keeps its newest value). With `base`,
 * `rows` is an overlay on it: a row is copied from the base before it changes, and the base is left as it is.
 */
export function applyToRows(rows: Map<string, MemberRow>, fact: MemberFact, day: string, base?: Map<string, MemberRow>): void {
  if (!fact.member || !(fact.registered || fact.active || fact.tier)) return;
  let row = rows.get(fact.member);
  if (!row) {
    const from = base?.get(fact.member);
    row = from ? { ...from } : { reg: null, last: 0, lastDay: 0, tier: null, tierSeq: 0 };
    rows.set(fact.member, row);
  }
  const at = fact.at.getTime();
  if (fact.registered) row.reg = at;
  if ((fact.registered || fact.active) && at > row.last) {
    row.last = at;
    row.lastDay = dayNumber(day);
  }
  if (fact.tier && fact.tier.seq > row.tierSeq) {
    row.tier = fact.tier.to;
    row.tierSeq = fact.tier.seq;
  }
}

/** Where the members stood at the end of a day: how many, by tier (`_base`: no change yet), and by days idle. */
export type MembersAtEnd = { members: number; tiers: Record<string, number>; idle: number[] };

/** The rows of `overlay` over `base`: each member once, its overlay row if it has one. */
export function* overlaid(base: Map<string, MemberRow>, overlay: Map<string, MemberRow>): Generator<[string, MemberRow]> {
  for (const [id, row] of base) yield [id, overlay.get(id) ?? row];
  for (const [id, row] of overlay) if (!base.has(id)) yield [id, row];
}

export function membersAtEnd(rows: Iterable<[string, MemberRow]>, day: string): MembersAtEnd {
  const today = dayNumber(day);
  const idle = new Array<number>(IDLE_CAP + 1).fill(0);
  const tiers: Record<string, number> = {};
  let members = 0;
  for (const [, row] of rows) {
    if (row.reg === null) continue; // activity seen before its registration's fact: counted once registered
    members++;
    const tier = row.tier ?? '_base';
    tiers[tier] = (tiers[tier] ?? 0) + 1;
    const days = Math.min(Math.max(today - row.lastDay, 0), IDLE_CAP);
    idle[days] = (idle[days] ?? 0) + 1;
  }
  return { members, tiers, idle };
}

/** A closed day's document: its flows and where things stood at its end. */
export type DayData = { flows: Flows; end: { liability: number } & MembersAtEnd };
