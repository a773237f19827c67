/**
 * Lifecycle segments (PRODUCT.md §10), defined here once: grants (recall coupons, 唤醒券), the segment lists and the
 * members report count members with the same rule. A member's last activity is the later of its registration and its
 * newest own activity: a points entry it earned, spent, held or captured, or a check-in or make-up (expiries,
 * time-outs, reversals and ops' adjustments are not the member's doing). Idle days are calendar days of the program's
 * time zone between that activity's day and today.
 *
 * `active` is ACTIVE_DAYS wide (default 30): a member silent for 7 to 29 days is still active, and is the one a recall
 * grant targets before it churns.
 */
export const SEGMENTS = {
  /** Active: some activity in the last ACTIVE_DAYS days (the default below; configured by ACTIVE_DAYS). */
  active: { fromDays: 0, toDays: 30 },
  /** Silent: no activity for 7 to 29 days. */
  silent: { fromDays: 7, toDays: 30 },
  /** Churned: no activity for 30 days or more. */
  churned: { fromDays: 30, toDays: Number.POSITIVE_INFINITY },
} as const;
export type Segment = keyof typeof SEGMENTS;
export const segmentNames = Object.keys(SEGMENTS) as Segment[];
/** The most ACTIVE_DAYS may be (the members report keeps idle days up to this, docs/ANALYTICS.md). */
export const MAX_ACTIVE_DAYS = 90;

/** The idle days a segment spans, with `active` as wide as configured. */
export const rangeOf = (segment: Segment, activeDays: number) => (segment === 'active' ? { fromDays: 0, toDays: activeDays } : SEGMENTS[segment]);
export const inSegment = (segment: Segment, idleDays: number, activeDays: number) => {
  const r = rangeOf(segment, activeDays);
  return idleDays >= r.fromDays && idleDays < r.toDays;
};

/** Counts from members by days idle (`idle[i]`: idle i days; the last entry: that many or more). */
export function lifecycleCounts(idle: number[], activeDays: number): Record<Segment, number> {
  const count = (s: Segment) => idle.reduce((sum, n, days) => (inSegment(s, days, activeDays) ? sum + n : sum), 0);
  return { active: count('active'), silent: count('silent'), churned: count('churned') };
}

/** A segment a list can be asked for: a lifecycle segment, a tier (`tier:GOLD`) or a registration month (`cohort:2026-03`). */
export type SegmentSpec = { kind: 'lifecycle'; segment: Segment } | { kind: 'tier'; code: string } | { kind: 'cohort'; month: string };
export const segmentPattern = /^(active|silent|churned|tier:[A-Z][A-Z0-9_]{0,19}|cohort:\d{4}-(0[1-9]|1[0-2]))$/;
export function parseSegment(s: string): SegmentSpec {
  if (s.startsWith('tier:')) return { kind: 'tier', code: s.slice(5) };
  if (s.startsWith('cohort:')) return { kind: 'cohort', month: s.slice(7) };
  return { kind: 'lifecycle', segment: s as Segment };
}

