import { addDays, type Calendar } from '../../platform/calendar.js';
import { lifecycleCounts } from '../segments/index.js';
import { asOfEnd, flowsOver, headerOf, intervalsOf, n } from './intervals.js';
import type { StatsQuery } from './stats.schemas.js';
import type { StatsView } from './view.js';

/** Members without a tier change are in the ladder's first tier (`_base` in the rollup); without a ladder, in `none`. */
function namedTiers(tiers: Record<string, number>, base: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, count] of Object.entries(tiers)) {
    const name = code === '_base' ? (base ?? 'none') : code;
    out[name] = (out[name] ?? 0) + count;
  }
  return out;
}

/**
 * Members per interval (docs/ANALYTICS.md): new members, tier moves, and at each interval's end the members, their
 * tiers and the lifecycle counts (src/modules/segments); and the lifecycle counts now.
 */
export async function membersReport(view: StatsView, q: StatsQuery, deps: { calendar: Calendar; activeDays: number; baseTier: string | null }, now: Date) {
  const intervals = [];
  for (const iv of intervalsOf(q.from, q.to, q.interval)) {
    const f = flowsOver(view, iv);
    const end = await view.membersAt(iv.end);
    intervals.push({
      ...iv,
      new: n(f, 'members.registered'),
      tierMoves: { up: n(f, 'members.tierUp'), down: n(f, 'members.tierDown'), renewed: n(f, 'members.tierRenewed'), placed: n(f, 'members.tierPlaced') },
      atEnd: {
        asOf: asOfEnd(deps.calendar.startOf(addDays(iv.end, 1)), now),
        members: end.members,
        tiers: namedTiers(end.tiers, deps.baseTier),
        lifecycle: lifecycleCounts(end.idle, deps.activeDays),
      },
    });
  }
  const current = await view.membersAt(view.today);
  return {
    ...headerOf(q, view, deps.calendar.zone, now),
    activeDays: deps.activeDays,
    intervals,
    now: { asOf: now.toISOString(), members: current.members, ...lifecycleCounts(current.idle, deps.activeDays) },
  };
}
