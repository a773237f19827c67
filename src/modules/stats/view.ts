import type { Calendar } from '../../platform/calendar.js';
import type { Fact, FactStore } from '../../platform/facts.js';
import { addFlows, applyToRows, emptyFlows, membersAtEnd, overlaid, type DayData, type Flows, type MemberRow, type MembersAtEnd } from './days.js';
import type { RollupRepository } from './rollup.model.js';

/**
 * What the reports read for a range of days: closed days from their documents, open days from their facts, and where
 * things stood at the end of any day (docs/ANALYTICS.md). Facts are read first and closed days second, and a day with a
 * document is taken from it, so a rollup closing days meanwhile neither drops nor doubles one.
 */
export type StatsView = {
  today: string;
  /** The newest closed day, if any. */
  closedThrough: string | null;
  flows(day: string): Flows;
  /** Σ of every entry's effect on the balances up to the end of `day` (or now, for today and later). */
  liabilityAt(day: string): number;
  /** Points not spent yet that expire in (now, now + days]. */
  expiringWithin(now: Date, days: number): number;
  /** Members, tiers and days idle at the end of `day` (as of today for today and later). */
  membersAt(day: string): Promise<MembersAtEnd>;
};

export function statsReader(deps: { repo: RollupRepository; facts: FactStore; calendar: Calendar }) {
  const { repo, calendar } = deps;

  /** The newest snapshot's rows; read again if a run pruned it under the reader. */
  async function snapshotRows(): Promise<{ day: string | null; rows: Map<string, MemberRow>; expiring: Record<string, number> }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const newest = await repo.newest();
      if (!newest) return { day: null, rows: new Map(), expiring: {} };
      const rows = await repo.rows(newest.day, newest.chunks);
      if (rows) return { day: newest.day, rows, expiring: newest.expiring };
    }
    throw new Error('the newest rollup snapshot keeps changing under the reader');
  }

  /**
   * Rows as of the end of `day`: the newest snapshot's, moved on by the stored facts of the days after it (the rows
   * those facts change, over the snapshot's, which stay as they are).
   */
  async function rowsThrough(stored: Array<{ day: string; fact: Fact }>, day: string, snapshot?: Awaited<ReturnType<typeof snapshotRows>>) {
    const s = snapshot ?? (await snapshotRows());
    const overlay = new Map<string, MemberRow>();
    for (const f of stored) if ((s.day === null || f.day > s.day) && f.day <= day) applyToRows(overlay, f.fact, f.day, s.rows);
    return overlaid(s.rows, overlay);
  }

  return {
    /** Every member's row now, with this process's facts written first (segments, grants). */
    async rowsNow(): Promise<Map<string, MemberRow>> {
      await deps.facts.flush();
      const stored = await deps.facts.all();
      return new Map(await rowsThrough(stored, '9999-12-31'));
    },

    /** Reads what a report over [from, to] needs, as of `now`. */
    async view(from: string, to: string, now: Date): Promise<StatsView> {
      await deps.facts.flush();
      const stored = await deps.facts.all();
      const newest = await repo.newest();
      const docs = await repo.days(from, to);
      const closedThrough = [newest?.day, ...docs.keys()].filter((d): d is string => !!d).sort().pop() ?? null;
      if (closedThrough && closedThrough < from && !docs.has(closedThrough)) {
        const base = await repo.day(closedThrough);
        if (base) docs.set(closedThrough, base);
      }
      const open = stored.filter((s) => closedThrough === null || s.day > closedThrough).sort((a, b) => (a.day < b.day ? -1 : 1));
      const byDay = new Map<string, Fact[]>();
      for (const s of open) {
        const list = byDay.get(s.day);
        if (list) list.push(s.fact);
        else byDay.set(s.day, [s.fact]);
      }
      const today = calendar.dayOf(now);
      const closed = (day: string) => closedThrough !== null && day <= closedThrough;

      const flows = (day: string): Flows => {
        const doc = docs.get(day);
        if (doc) return doc.flows;
        return (byDay.get(day) ?? []).reduce((f, fact) => addFlows(f, fact), emptyFlows());
      };
      const sumOpen = (through: string, pick: (f: Fact) => void) => {
        for (const s of open) if (s.day <= through) pick(s.fact);
      };
      /** The closed day a cumulative figure at the end of `day` starts from, if any. */
      const baseOf = (day: string): DayData | null => {
        if (closed(day)) return docs.get(day) ?? null; // a day before the first close: nothing had happened
        return closedThrough ? (docs.get(closedThrough) ?? null) : null;
      };
      let snapshot: Awaited<ReturnType<typeof snapshotRows>> | undefined;
      const atEnd = new Map<string, MembersAtEnd>();
      const membersThrough = async (day: string) => {
        let m = atEnd.get(day);
        if (!m) atEnd.set(day, (m = membersAtEnd(await rowsThrough(stored, day, (snapshot ??= await snapshotRows())), day)));
        return m;
      };

      return {
        today,
        closedThrough,
        flows,
        liabilityAt(day) {
          let total = baseOf(day)?.end.liability ?? 0;
          if (!closed(day)) sumOpen(day, (f) => (total += f.c?.['points.net'] ?? 0));
          return total;
        },
        expiringWithin(at, days) {
          const expiring: Record<string, number> = { ...(newest?.expiring ?? {}) };
          for (const s of stored) {
            if (newest && s.day <= newest.day) continue;
            for (const [instant, n] of Object.entries(s.fact.x ?? {})) expiring[instant] = (expiring[instant] ?? 0) + n;
          }
          const [lo, hi] = [at.getTime(), at.getTime() + days * 86_400_000];
          return Object.entries(expiring).reduce((sum, [instant, n]) => {
            const t = Date.parse(instant);
            return t > lo && t <= hi ? sum + n : sum;
          }, 0);
        },
        async membersAt(day) {
          if (closed(day)) return docs.get(day)?.end ?? { members: 0, tiers: {}, idle: [] };
          return membersThrough(day > today ? today : day);
        },
      };
    },
  };
}
export type StatsReader = ReturnType<typeof statsReader>;
