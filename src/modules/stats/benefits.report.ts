import type { Calendar } from '../../platform/calendar.js';
import { flowsOver, headerOf, intervalsOf, n, ratio } from './intervals.js';
import type { StatsQuery } from './stats.schemas.js';
import type { StatsView } from './view.js';

/** What the benefits report needs of the catalogue: every benefit's name and whether its stock is finite, and what is left. */
export type Catalogue = { benefits(): Promise<Array<{ code: string; name: string; stock: number | null }>>; stockLeft(code: string): Promise<number> };

const OUTCOMES = ['issued', 'used', 'cancelled', 'expired'] as const;

/** Redemptions per interval and per benefit, the use rate and the stock left now (docs/ANALYTICS.md). */
export async function benefitsReport(view: StatsView, q: StatsQuery, deps: { calendar: Calendar; catalogue: Catalogue }, now: Date) {
  const total = flowsOver(view, { start: q.from, end: q.to });
  const catalogue = await deps.catalogue.benefits();
  const codes = new Set([...catalogue.map((b) => b.code), ...OUTCOMES.flatMap((o) => Object.keys(total.k[`benefits.${o}`] ?? {}))]);
  const benefits = await Promise.all(
    [...codes].sort().map(async (code) => {
      const b = catalogue.find((x) => x.code === code);
      const [issued, used, cancelled, expired] = OUTCOMES.map((o) => total.k[`benefits.${o}`]?.[code] ?? 0) as [number, number, number, number];
      const stockLeft = b && b.stock !== null ? await deps.catalogue.stockLeft(code) : null;
      return { code, name: b?.name ?? null, issued, used, cancelled, expired, useRate: ratio(used, issued), stockLeft };
    }),
  );
  return {
    ...headerOf(q, view, deps.calendar.zone, now),
    intervals: intervalsOf(q.from, q.to, q.interval).map((iv) => {
      const f = flowsOver(view, iv);
      return { ...iv, issued: n(f, 'benefits.issued'), used: n(f, 'benefits.used'), cancelled: n(f, 'benefits.cancelled'), expired: n(f, 'benefits.expired') };
    }),
    benefits,
  };
}
