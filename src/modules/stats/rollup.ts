import { addDays, type Calendar } from '../../platform/calendar.js';
import type { Clock } from '../../platform/clock.js';
import type { Fact, FactSource, FactStore } from '../../platform/facts.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Logger } from '../../platform/logger.js';
import { addFlows, applyToRows, emptyFlows, memberPart, membersAtEnd, type DayData, type Flows, type MemberFact, type MemberRow } from './days.js';
import type { RollupRepository } from './rollup.model.js';

/**
 * A day is closed this long after it ends, so a command decided just before midnight (or on a process whose clock is a
 * little behind, docs/LEDGER.md) has landed before its day is summed.
 */
export const CLOSE_GRACE_MS = 60 * 60_000;

export type RollupResult = { closed: string[]; factsRepaired: number; scannedFrom: string };

type Closing = { flows: Flows; x: Record<string, number>; members: MemberFact[] };

/**
 * One rollup run (docs/ANALYTICS.md): rebuilds every fact of the records committed since the last closed day from the
 * records themselves (each module's FactSource, one scan each), then
 * - closes each day that ended more than CLOSE_GRACE_MS ago: its document is summed from the rebuilt facts, so a fact
 *   lost between a commit and its write is counted anyway; the members' rows and the points expiring by instant move
 *   to its end;
 * - inserts the facts of the open days that are missing from `stats_facts` (the same repair for the figures read live).
 * Writes, in this order, the new snapshot's rows, the days' documents, the snapshot's completion, then deletes the
 * facts of closed days and old snapshots: a run that dies anywhere is re-run from the last complete snapshot and
 * writes the same documents (each insert is keyed by its day), so nothing is counted twice or lost.
 */
export function rollupRunner(deps: { repo: RollupRepository; facts: FactStore; sources: FactSource[]; calendar: Calendar; clock: Clock; logger: Logger; faults?: Faults }) {
  const { repo, calendar } = deps;
  const faults = deps.faults ?? noFaults;

  /** The last day whose end is CLOSE_GRACE_MS or more in the past. */
  const lastClosable = (now: Date) => addDays(calendar.dayOf(now.getTime() - CLOSE_GRACE_MS), -1);

  return async function run(): Promise<RollupResult> {
    const now = deps.clock.now();
    const newest = await repo.newest();
    let rows = new Map<string, MemberRow>();
    const expiring: Record<string, number> = { ...(newest?.expiring ?? {}) };
    let liability = 0;
    if (newest) {
      const found = await repo.rows(newest.day, newest.chunks);
      if (!found) throw new Error(`snapshot ${newest.day} has missing chunks`);
      rows = found;
      liability = (await repo.day(newest.day))?.end.liability ?? 0;
    }
    const firstOpen = newest ? addDays(newest.day, 1) : undefined;
    const from = firstOpen ? calendar.startOf(firstOpen) : new Date(0);
    const closeThrough = lastClosable(now);

    await deps.facts.flush();
    const stored = new Map<string, Fact>();
    for (const { day, fact } of await deps.facts.all()) if (!firstOpen || day >= firstOpen) stored.set(fact.id, fact);

    const closing = new Map<string, Closing>();
    const missing: Array<{ day: string; fact: Fact }> = [];
    let earliest: string | undefined;
    for (const source of deps.sources) {
      for await (const fact of source.since(from, (id) => stored.get(id))) {
        const day = calendar.dayOf(fact.at);
        if (day > closeThrough) {
          if (!stored.has(fact.id)) missing.push({ day, fact });
          continue;
        }
        if (earliest === undefined || day < earliest) earliest = day;
        let c = closing.get(day);
        if (!c) closing.set(day, (c = { flows: emptyFlows(), x: {}, members: [] }));
        addFlows(c.flows, fact);
        for (const [at, n] of Object.entries(fact.x ?? {})) c.x[at] = (c.x[at] ?? 0) + n;
        const part = memberPart(fact);
        if (part) c.members.push(part);
      }
    }
    const factsRepaired = missing.length > 0 ? await deps.facts.insertMissing(missing) : 0;
    if (factsRepaired > 0) deps.logger.info({ factsRepaired }, 'rollup facts missing after a crash were rebuilt from their records');

    const closed: string[] = [];
    const docs: Array<{ day: string; data: DayData }> = [];
    for (let day = firstOpen ?? earliest; day !== undefined && day <= closeThrough; day = addDays(day, 1)) {
      const c = closing.get(day);
      if (c) {
        for (const f of c.members) applyToRows(rows, f, day);
        for (const [at, n] of Object.entries(c.x)) expiring[at] = (expiring[at] ?? 0) + n;
        liability += c.flows.c['points.net'] ?? 0;
      }
      // Points that expire by this day's end are never "expiring in the next N days" again.
      const end = calendar.startOf(addDays(day, 1)).getTime();
      for (const at of Object.keys(expiring)) if (Date.parse(at) <= end || expiring[at] === 0) delete expiring[at];
      docs.push({ day, data: { flows: c?.flows ?? emptyFlows(), end: { liability, ...membersAtEnd(rows, day) } } });
      closed.push(day);
    }
    if (closed.length > 0) {
      const last = closed[closed.length - 1] as string;
      const chunks = await repo.writeRows(last, rows);
      faults.at('stats:rollup-after-rows');
      await repo.insertDays(docs);
      faults.at('stats:rollup-after-days');
      await repo.markSnapshot({ day: last, chunks, expiring }, now);
      await deps.facts.deleteThrough(last);
      await repo.prune();
    }
    return { closed, factsRepaired, scannedFrom: from.toISOString() };
  };
}
