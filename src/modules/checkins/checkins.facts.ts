import type { Collection } from 'mongodb';
import type { Fact, FactSource } from '../../platform/facts.js';
import type { CheckinEntry } from './checkins.model.js';

/** The streak lengths ops see a check-in's run in (the run the checked day is part of once checked). */
export const STREAK_BUCKETS = ['1', '2-3', '4-6', '7-13', '14-29', '30+'] as const;
export function streakBucket(run: number): (typeof STREAK_BUCKETS)[number] {
  if (run >= 30) return '30+';
  if (run >= 14) return '14-29';
  if (run >= 7) return '7-13';
  if (run >= 4) return '4-6';
  return run >= 2 ? '2-3' : '1';
}

/** A committed check-in or make-up: counted on the program-zone day it was committed, with its streak (docs/ANALYTICS.md). */
export const checkinFact = (e: Pick<CheckinEntry, '_id' | 'memberId' | 'kind' | 'at' | 'plan'>): Fact => ({
  id: `checkin|${e._id}`,
  at: e.at,
  member: e.memberId,
  active: true,
  c: { [e.kind === 'makeup' ? 'checkins.makeups' : 'checkins.checkins']: 1 },
  k: { 'checkins.streaks': { [streakBucket(e.plan.run)]: 1 } },
});

/** The check-ins committed since `from`, for the rollup (a scan). */
export const checkinsFactSource = (log: Collection<CheckinEntry>): FactSource => ({
  name: 'checkins',
  async *since(from) {
    const cursor = log.find({ at: { $gte: from } }, { projection: { _id: 1, memberId: 1, kind: 1, at: 1, plan: 1 } });
    for await (const e of cursor) yield checkinFact(e);
  },
});
