import { dayNumber, type Calendar } from '../../platform/calendar.js';
import type { Fact, FactStore } from '../../platform/facts.js';
import { addFlows, applyToRows, countMember, emptyFlows, idlerBy, noMembers, type Flows, type MemberRow, type MembersAtEnd } from './days.js';
import type { RollupRepository, Snapshot } from './rollup.model.js';

/**
 * What the reports read for a range of days (docs/ANALYTICS.md): closed days from their documents; later days from the
 * newest snapshot, which sums their records up to its `through`, plus the facts of the records since. Facts are read
 * first and the snapshot second, and a day with a document is taken from it, so a rollup run meanwhile neither drops
 * nor doubles a record.
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

/** Where things stand before the first rollup run: nothing summed, every record in its fact. */
const NO_SNAPSHOT: Snapshot = {
  id: 'none', chunks: 0, through: new Date(0).toISOString(), closed: true, closedThrough: null, closedLiability: 0, open: {}, expiring: {}, members: noMembers(), membersOn: '1970-01-01',
};

export function statsReader(deps: { repo: RollupRepository; facts: FactStore; calendar: Calendar }) {
  const { repo, calendar } = deps;

  /** The facts and the newest snapshot, in that order, and the facts of the records the snapshot has not summed. */
  async function read(): Promise<{ snapshot: Snapshot; live: Array<{ day: string; fact: Fact }> }> {
    await deps.facts.flush();
    const stored = await deps.facts.all();
    const snapshot = (await repo.newest()) ?? NO_SNAPSHOT;
    const through = Date.parse(snapshot.through);
    const live = stored
      .filter((s) => s.fact.at.getTime() >= through && (snapshot.closedThrough === null || s.day > snapshot.closedThrough))
      .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    return { snapshot, live };
  }

  /**
   * The rows of the newest snapshot read, kept in memory: a snapshot's rows are written once, before the document
   * that names them, and never change, so its id is their version. Every member report with member facts newer than
   * the snapshot, and every segment page, needs them; at 100,000 members reading them is most of the call (about
   * 0.4 s, docs/ANALYTICS.md). Never handed out: callers get copies of the rows they change.
   */
  let kept: { id: string; rows: ReadonlyMap<string, MemberRow> } | undefined;

  /** A snapshot's rows; read again with the newest snapshot if a run pruned them under the reader. */
  async function rowsOf(snapshot: Snapshot): Promise<ReadonlyMap<string, MemberRow>> {
    if (snapshot.chunks === 0) return new Map();
    if (kept?.id === snapshot.id) return kept.rows;
    let rows = await repo.rows(snapshot);
    let id = snapshot.id;
    if (!rows) {
      const newer = await repo.newest();
      rows = newer ? await repo.rows(newer) : null;
      if (!rows || !newer) throw new Error('the rollup snapshots keep changing under the reader');
      id = newer.id;
    }
    kept = { id, rows };
    return rows;
  }

  return {
    /** Every member's row now, with this process's facts written first (segments, grants). */
    async rowsNow(): Promise<Map<string, MemberRow>> {
      const { snapshot, live } = await read();
      const rows = await rowsOf(snapshot);
      // The kept rows stay as the snapshot wrote them: a member moved by a newer fact gets a copy of its row.
      const changed = new Map<string, MemberRow>();
      for (const { day, fact } of live) applyToRows(changed, fact, day, rows);
      const now = new Map(rows);
      for (const [id, row] of changed) now.set(id, row);
      return now;
    },

    /** Reads what a report over [from, to] needs, as of `now`. */
    async view(from: string, to: string, now: Date): Promise<StatsView> {
      const { snapshot, live } = await read();
      const docs = await repo.days(from, to);
      const closedThrough = [snapshot.closedThrough, ...docs.keys()].filter((d): d is string => !!d).sort().pop() ?? null;
      const today = calendar.dayOf(now);
      const liveOf = (day: string) => live.filter((l) => l.day === day);
      const closedDay = (day: string) => closedThrough !== null && day <= closedThrough;

      const flows = (day: string): Flows => {
        const doc = docs.get(day);
        if (doc) return doc.flows;
        if (closedDay(day)) return emptyFlows(); // before the first record
        const f = addFlows(emptyFlows(), snapshot.open[day] ?? emptyFlows());
        for (const l of liveOf(day)) addFlows(f, l.fact);
        return f;
      };

      /** Members at the end of an open day: the snapshot's, a day idler per day since, moved by the newer facts. */
      let rows: ReadonlyMap<string, MemberRow> | undefined;
      const atEnd = new Map<string, MembersAtEnd>();
      async function openMembersAt(day: string): Promise<MembersAtEnd> {
        const cached = atEnd.get(day);
        if (cached) return cached;
        const on = dayNumber(day);
        const out = idlerBy(snapshot.members, on - dayNumber(snapshot.membersOn));
        const changed = new Map<string, MemberRow>();
        const facts = live.filter((l) => l.day <= day && l.fact.member && (l.fact.registered || l.fact.active || l.fact.tier));
        if (facts.length > 0) {
          rows ??= await rowsOf(snapshot);
          for (const { day: d, fact } of facts) applyToRows(changed, fact, d, rows);
          for (const [id, row] of changed) {
            const before = rows.get(id);
            if (before) countMember(out, before, on, -1);
            countMember(out, row, on, 1);
          }
        }
        atEnd.set(day, out);
        return out;
      }

      return {
        today,
        closedThrough,
        flows,
        liabilityAt(day) {
          const doc = docs.get(day);
          if (doc) return doc.end.liability;
          if (closedDay(day)) return 0;
          let total = snapshot.closedLiability;
          for (const [d, f] of Object.entries(snapshot.open)) if (d <= day) total += f.c['points.net'] ?? 0;
          for (const l of live) if (l.day <= day) total += l.fact.c?.['points.net'] ?? 0;
          return total;
        },
        expiringWithin(at, days) {
          const expiring: Record<string, number> = { ...snapshot.expiring };
          for (const l of live) for (const [instant, n] of Object.entries(l.fact.x ?? {})) expiring[instant] = (expiring[instant] ?? 0) + n;
          const [lo, hi] = [at.getTime(), at.getTime() + days * 86_400_000];
          return Object.entries(expiring).reduce((sum, [instant, n]) => {
            const t = Date.parse(instant);
            return t > lo && t <= hi ? sum + n : sum;
          }, 0);
        },
        async membersAt(day) {
          const doc = docs.get(day);
          if (doc) return doc.end;
          if (closedDay(day)) return noMembers();
          return openMembersAt(day > today ? today : day);
        },
      };
    },
  };
}
export type StatsReader = ReturnType<typeof statsReader>;
