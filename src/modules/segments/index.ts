import type { Connection } from 'mongoose';

/**
 * Lifecycle segments (PRODUCT.md §10), defined here once: grants (recall coupons, 唤醒券) and analytics count members
 * with the same rule. A member's last activity is the later of its registration and its newest points entry (earns,
 * spends, check-in rewards, redemptions all write one); days are whole 24-hour days before `now`.
 */
export const SEGMENTS = {
  /** Active: some activity in the last 7 days. */
  active: { fromDays: 0, toDays: 7 },
  /** Silent: no activity for 7 to 29 days. */
  silent: { fromDays: 7, toDays: 30 },
  /** Churned: no activity for 30 days or more. */
  churned: { fromDays: 30, toDays: Number.POSITIVE_INFINITY },
} as const;
export type Segment = keyof typeof SEGMENTS;
export const segmentNames = Object.keys(SEGMENTS) as Segment[];

const DAY = 86_400_000;

/** The segment of a member last active at `lastActiveAt`. */
export function segmentOf(lastActiveAt: Date, now: Date): Segment {
  const idle = (now.getTime() - lastActiveAt.getTime()) / DAY;
  return (segmentNames.find((s) => idle >= SEGMENTS[s].fromDays && idle < SEGMENTS[s].toDays) ?? 'churned') as Segment;
}

/**
 * Every member with its last activity: a scan of the members and of the points accounts cache (a read hint that may
 * trail its entries by a moment, which a segment measured in days does not notice). For jobs and reports only.
 */
export async function lastActivity(db: Connection): Promise<Map<string, Date>> {
  const [members, accounts] = await Promise.all([
    db.collection('members').find({}, { projection: { _id: 1, createdAt: 1 } }).toArray(),
    db.collection('points_accounts').find({}, { projection: { _id: 1, at: 1 } }).toArray(),
  ]);
  const last = new Map<string, Date>();
  for (const m of members) last.set(String(m._id), m.createdAt instanceof Date ? m.createdAt : new Date(0));
  for (const a of accounts) {
    const at = a.at instanceof Date ? a.at : null;
    const id = String(a._id);
    const seen = last.get(id);
    if (at && seen && at > seen) last.set(id, at);
  }
  return last;
}

/** The members in a segment now, sorted by id (a stable order, so a job over them can resume from a checkpoint). */
export async function membersIn(db: Connection, segment: Segment, now: Date): Promise<string[]> {
  const last = await lastActivity(db);
  return [...last.entries()]
    .filter(([, at]) => segmentOf(at, now) === segment)
    .map(([id]) => id)
    .sort();
}
