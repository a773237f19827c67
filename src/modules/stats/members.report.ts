import { addDays, type Calendar } from '../../platform/calendar.js';
import { lifecycleCounts } from '../segments/index.js';
import { asOfEnd, flowsOver, headerOf, intervalsOf, n } from './intervals.js';
import type { StatsQuery } from './stats.schemas.js';
import type { StatsView } from './view.js';

/**
 * Members by tier, every tier of the ladder listed: those without a tier change are in its first tier (`_base` in the
 * rollup), or in `none` without a ladder; a tier the ladder no longer has is listed while members are in it.
 */
function namedTiers(tiers: Record<string, number>, ladder: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(ladder.map((code) => [code, 0]));
  for (const [code, count] of Object.entries(tiers)) {
    const name = code === '_base' ? (ladder[0] ?? 'none') : code;
    out[name] = (out[name] ?? 0) + count;
  }
  return out;
}

/**
 * Members per interval (docs/ANALYTICS.md): new members, tier moves, and at each interval's end the members, their
 * tiers and the lifecycle counts (src/modules/segments); and the lifecycle counts now.
 */
export async function membersReport(view: StatsView, q: StatsQuery, deps: { calendar: Calendar; activeDays: number; ladder: string[] }, now: Date) {
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
        tiers: namedTiers(end.tiers, deps.ladder),
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
