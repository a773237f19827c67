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
export function applyToRows(rows: Map<string, MemberRow>, fact: MemberFact, day: string, base?: ReadonlyMap<string, MemberRow>): void {
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

const idleIndex = (today: number, row: MemberRow) => Math.min(Math.max(today - row.lastDay, 0), IDLE_CAP);

/** Counts a member in (`sign` 1) or out of (-1) where the members stand on day number `today`. */
export function countMember(into: MembersAtEnd, row: MemberRow, today: number, sign: 1 | -1): void {
  if (row.reg === null) return; // activity seen before its registration's fact: counted once registered
  into.members += sign;
  const tier = row.tier ?? '_base';
  into.tiers[tier] = (into.tiers[tier] ?? 0) + sign;
  const i = idleIndex(today, row);
  into.idle[i] = (into.idle[i] ?? 0) + sign;
}

export const noMembers = (): MembersAtEnd => ({ members: 0, tiers: {}, idle: new Array<number>(IDLE_CAP + 1).fill(0) });

export function membersAtEnd(rows: Iterable<[string, MemberRow]>, day: string): MembersAtEnd {
  const today = dayNumber(day);
  const out = noMembers();
  for (const [, row] of rows) countMember(out, row, today, 1);
  return out;
}

/** The same members `days` later: each one day idler per day (the last bucket keeps those idle that long or more). */
export function idlerBy(m: MembersAtEnd, days: number): MembersAtEnd {
  const idle = new Array<number>(IDLE_CAP + 1).fill(0);
  m.idle.forEach((n, i) => {
    const to = Math.min(i + Math.max(days, 0), IDLE_CAP);
    idle[to] = (idle[to] ?? 0) + n;
  });
  return { members: m.members, tiers: { ...m.tiers }, idle };
}

/** A closed day's document: its flows and where things stood at its end. */
export type DayData = { flows: Flows; end: { liability: number } & MembersAtEnd };
