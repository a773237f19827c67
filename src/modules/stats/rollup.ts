import { addDays, type Calendar } from '../../platform/calendar.js';
import type { Clock } from '../../platform/clock.js';
import type { Fact, FactSource, FactStore } from '../../platform/facts.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Logger } from '../../platform/logger.js';
import { addFlows, applyToRows, emptyFlows, memberPart, membersAtEnd, type DayData, type Flows, type MemberFact, type MemberRow } from './days.js';
import type { RollupRepository, SnapshotData } from './rollup.model.js';

/**
 * Records are summed from themselves once they are this old: a day is closed this long after it ends, and a live
 * snapshot is taken this long before its run, so a command decided just before (or on a process whose clock is a
 * little behind, docs/LEDGER.md) has landed before it is summed.
 */
export const SETTLE_MS = 60 * 60_000;

export type RollupResult = { closed: string[]; through: string; factsRepaired: number };

/** What the settled records of one day add. */
type Day = { flows: Flows; x: Record<string, number>; members: MemberFact[] };

/**
 * One rollup run (docs/ANALYTICS.md). From the newest closed snapshot on, it rebuilds the facts of every record from the
 * records themselves (each module's FactSource, one scan each), then
 * - closes each day that ended SETTLE_MS ago or more: its document is summed from the rebuilt facts, so a fact lost
 *   between a commit and its write is counted anyway; a closed snapshot is taken at the end of the last one;
 * - takes a live snapshot SETTLE_MS before now, which sums the settled records of the days still open;
 * - writes the facts of the newer records that are missing (the same repair, for the figures read live), and deletes
 *   those of the records the live snapshot summed, so the reports read only the last hour or two of facts.
 * Rows, days and snapshots are written in that order, each keyed by its day or instant, and facts deleted last: a run
 * that dies anywhere is run again from the same closed snapshot and writes the same documents, so nothing is counted
 * twice or lost.
 */
export function rollupRunner(deps: { repo: RollupRepository; facts: FactStore; sources: FactSource[]; calendar: Calendar; clock: Clock; logger: Logger; faults?: Faults }) {
  const { repo, calendar } = deps;
  const faults = deps.faults ?? noFaults;

  return async function run(): Promise<RollupResult> {
    const now = deps.clock.now();
    const settled = new Date(now.getTime() - SETTLE_MS);
    const lastClosable = addDays(calendar.dayOf(settled), -1);
    const base = await repo.newestClosed();
    let rows = new Map<string, MemberRow>();
    if (base) {
      const found = await repo.rows(base);
      if (!found) throw new Error(`snapshot ${base.id} has missing rows`);
      rows = found;
    }
    const expiring: Record<string, number> = { ...(base?.expiring ?? {}) };
    let liability = base?.closedLiability ?? 0;
    const firstOpen = base?.closedThrough ? addDays(base.closedThrough, 1) : undefined;
    const from = firstOpen ? calendar.startOf(firstOpen) : new Date(0);

    await deps.facts.flush();
    const stored = new Map<string, Fact>();
    for (const { fact } of await deps.facts.all()) stored.set(fact.id, fact);

    const days = new Map<string, Day>();
    const missing: Array<{ day: string; fact: Fact }> = [];
    let earliest: string | undefined;
    for (const source of deps.sources) {
      for await (const fact of source.since(from, (id) => stored.get(id))) {
        const day = calendar.dayOf(fact.at);
        if (fact.at.getTime() >= settled.getTime()) {
          if (!stored.has(fact.id)) missing.push({ day, fact });
          continue;
        }
        if (earliest === undefined || day < earliest) earliest = day;
        let d = days.get(day);
        if (!d) days.set(day, (d = { flows: emptyFlows(), x: {}, members: [] }));
        addFlows(d.flows, fact);
        for (const [at, n] of Object.entries(fact.x ?? {})) d.x[at] = (d.x[at] ?? 0) + n;
        const part = memberPart(fact);
        if (part) d.members.push(part);
      }
    }

    /** Moves the rows, the expiring points and the liability on by a day's settled records. */
    const apply = (day: string) => {
      const d = days.get(day);
      for (const f of d?.members ?? []) applyToRows(rows, f, day);
      for (const [at, n] of Object.entries(d?.x ?? {})) expiring[at] = (expiring[at] ?? 0) + n;
      liability += d?.flows.c['points.net'] ?? 0;
      return d?.flows ?? emptyFlows();
    };
    /** Points expiring at or before `at` are never "expiring in the next N days" again. */
    const prune = (at: number) => {
      for (const key of Object.keys(expiring)) if (Date.parse(key) <= at || expiring[key] === 0) delete expiring[key];
    };

    const closed: string[] = [];
    const docs: Array<{ day: string; data: DayData }> = [];
    for (let day = firstOpen ?? earliest; day !== undefined && day <= lastClosable; day = addDays(day, 1)) {
      const flows = apply(day);
      prune(calendar.startOf(addDays(day, 1)).getTime());
      docs.push({ day, data: { flows, end: { liability, ...membersAtEnd(rows, day) } } });
      closed.push(day);
    }
    const closedThrough = closed[closed.length - 1] ?? base?.closedThrough ?? null;
    const closedLiability = liability;
    if (closed.length > 0) {
      const end = calendar.startOf(addDays(closedThrough as string, 1)).toISOString();
      const snapshot: SnapshotData = { through: end, closed: true, closedThrough, closedLiability, open: {}, expiring: { ...expiring }, members: membersAtEnd(rows, closedThrough as string), membersOn: closedThrough as string };
      await repo.insertDays(docs);
      faults.at('stats:rollup-after-days');
      await repo.writeSnapshot(snapshot, rows, now);
    }

    const open: Record<string, Flows> = {};
    for (const day of [...days.keys()].filter((d) => closedThrough === null || d > closedThrough).sort()) open[day] = apply(day);
    prune(settled.getTime());
    const settledDay = calendar.dayOf(settled);
    const live: SnapshotData = { through: settled.toISOString(), closed: false, closedThrough, closedLiability, open, expiring, members: membersAtEnd(rows, settledDay), membersOn: settledDay };
    await repo.writeSnapshot(live, rows, now);
    faults.at('stats:rollup-after-snapshot');

    const factsRepaired = missing.length > 0 ? await deps.facts.insertMissing(missing) : 0;
    if (factsRepaired > 0) deps.logger.info({ factsRepaired }, 'rollup facts missing after a crash were rebuilt from their records');
    await deps.facts.deleteBefore(settled);
    await repo.prune();
    return { closed, through: live.through, factsRepaired };
  };
}
