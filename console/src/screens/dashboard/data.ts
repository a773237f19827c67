import { call } from '../../lib/api';
import { addDays, daysBetween } from '../../lib/format';

/** The parts of the stats reports (src/modules/stats/stats.schemas.ts) the dashboard reads. */
type Interval = { start: string; end: string };
type Flows = { earned: number; spent: number; expired: number; redemptionRate: number | null; breakageRate: number | null };
export type PointsStats = { timezone: string; intervals: (Interval & Flows & { liability: { asOf: string; points: number } })[]; totals: Flows };
type Lifecycle = { active: number; silent: number; churned: number };
export type MembersStats = { intervals: (Interval & { new: number; atEnd: { members: number; tiers: Record<string, number>; lifecycle: Lifecycle } })[] };
export type CheckinsStats = { intervals: (Interval & { checkins: number; makeups: number })[]; totals: { checkins: number; makeups: number } };
type Funnel = { bound: number; qualified: number; review: number; rejected: number; rewarded: number; reversed: number };
export type ReferralsStats = { intervals: (Interval & Funnel)[]; totals: Funnel };

export type Report = { points: PointsStats; members: MembersStats; checkins: CheckinsStats; referrals: ReferralsStats };
export type Range = { from: string; to: string };

/** The range of equal length just before `range`: what the cards compare with. */
export function previousRange({ from, to }: Range): Range {
  const days = daysBetween(from, to) + 1;
  const prevTo = addDays(from, -1);
  return { from: addDays(prevTo, -(days - 1)), to: prevTo };
}

/** The four reports of a range by day, in one call that reads the rollup once (GET /v1/admin/stats/overview). */
const loadReport = (range: Range): Promise<Report> => call<Report>('GET', '/v1/admin/stats/overview', { query: { ...range, interval: 'day' } });

const MAX_REPORT_DAYS = 366;
const sum = <T,>(rows: T[], of: (row: T) => number): number => rows.reduce((total, row) => total + of(row), 0);
const rate = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 1e6) / 1e6);

/**
 * The days of `range` out of a report that covers more: every figure the dashboard reads is a sum of days (the stats
 * API's totals are sums of its days too, and its rates are spent ÷ earned and expired ÷ earned of those sums, rounded
 * to 6 decimals; docs/ANALYTICS.md), so the range's totals are the sums of its days.
 */
function part(r: Report, range: Range): Report {
  const inside = <T extends { start: string }>(rows: T[]) => rows.filter((i) => i.start >= range.from && i.start <= range.to);
  const points = inside(r.points.intervals);
  const [earned, spent, expired] = [sum(points, (i) => i.earned), sum(points, (i) => i.spent), sum(points, (i) => i.expired)];
  const checkins = inside(r.checkins.intervals);
  const referrals = inside(r.referrals.intervals);
  const funnel = (k: keyof Funnel) => sum(referrals, (i) => i[k]);
  return {
    points: { ...r.points, intervals: points, totals: { earned, spent, expired, redemptionRate: rate(spent, earned), breakageRate: rate(expired, earned) } },
    members: { ...r.members, intervals: inside(r.members.intervals) },
    checkins: { ...r.checkins, intervals: checkins, totals: { checkins: sum(checkins, (i) => i.checkins), makeups: sum(checkins, (i) => i.makeups) } },
    referrals: {
      ...r.referrals,
      intervals: referrals,
      totals: { bound: funnel('bound'), qualified: funnel('qualified'), review: funnel('review'), rejected: funnel('rejected'), rewarded: funnel('rewarded'), reversed: funnel('reversed') },
    },
  };
}

/**
 * The reports of a range and of the period of equal length before it. One call covers both when they fit in a
 * report's 366 days (each call's reading of the rollup is most of its time on a large store), else two.
 */
export async function loadReports(range: Range, prev: Range): Promise<{ now: Report; before: Report }> {
  if (daysBetween(prev.from, range.to) + 1 > MAX_REPORT_DAYS) {
    const [now, before] = await Promise.all([loadReport(range), loadReport(prev)]);
    return { now, before };
  }
  const both = await loadReport({ from: prev.from, to: range.to });
  return { now: part(both, range), before: part(both, prev) };
}

/** The figures a card shows, for a range. */
export function figures(r: Report) {
  const lastPoints = r.points.intervals[r.points.intervals.length - 1];
  return {
    earned: r.points.totals.earned,
    spent: r.points.totals.spent,
    expired: r.points.totals.expired,
    liability: lastPoints?.liability.points ?? 0,
    redemptionRate: r.points.totals.redemptionRate,
    breakageRate: r.points.totals.breakageRate,
    newMembers: r.members.intervals.reduce((sum, i) => sum + i.new, 0),
    checkins: r.checkins.totals.checkins,
  };
}
export type Figures = ReturnType<typeof figures>;

/** True when nothing happened in the range (a liability carried from before is not activity). */
export function idle(r: Report): boolean {
  const f = figures(r);
  const t = r.referrals.totals;
  return f.earned + f.spent + f.expired + f.newMembers + f.checkins + r.checkins.totals.makeups + t.bound + t.qualified + t.rewarded === 0;
}

/** The relative change from `before` to `now`; null when there is nothing to compare with. */
export function change(now: number | null, before: number | null): number | null {
  if (now === null || before === null || before === 0) return null;
  return (now - before) / before;
}
