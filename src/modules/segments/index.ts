import { dayNumber, type Calendar } from '../../platform/calendar.js';
import type { Route } from '../../platform/http/route.js';
import { inSegment, type Segment, type SegmentSpec } from './definitions.js';
import { segmentsRoutes } from './segments.routes.js';

export {
  SEGMENTS, MAX_ACTIVE_DAYS, inSegment, lifecycleCounts, parseSegment, rangeOf, segmentNames, segmentPattern, type Segment, type SegmentSpec,
} from './definitions.js';

/** A member as segments see it (what the rollup keeps per member: docs/ANALYTICS.md). */
export type MemberRow = { reg: number | null; last: number; lastDay: number; tier: string | null };
export type SegmentMember = { memberId: string; registeredAt: string | null; lastActivityAt: string | null; tier: string | null };

export type SegmentsDeps = {
  /** Every member's row now (the stats rollup's snapshot moved on by the facts since). */
  rowsNow: () => Promise<Map<string, MemberRow>>;
  calendar: Calendar;
  clock: { now(): Date };
  activeDays: number;
  /** The ladder's first tier, which a member without a tier change is in (null without a ladder). */
  baseTier: () => Promise<string | null>;
};

/**
 * The segments' use cases: who is in a segment now (grants), and a page of it (ops' lists).
 *
 *     const segments = createSegments(deps); await segments.membersIn('silent', clock.now());
 */
export type SegmentsService = {
  membersIn(segment: Segment, now: Date): Promise<string[]>;
  page(spec: SegmentSpec, limit: number, after: string | undefined): Promise<{ items: SegmentMember[]; more: boolean }>;
};

export function createSegments(deps: SegmentsDeps): SegmentsService & { routes: Route[] } {
  async function members(spec: SegmentSpec, now: Date): Promise<SegmentMember[]> {
    const [rows, base] = await Promise.all([deps.rowsNow(), deps.baseTier()]);
    const today = dayNumber(deps.calendar.dayOf(now));
    const out: SegmentMember[] = [];
    for (const [memberId, r] of rows) {
      if (r.reg === null) continue;
      const tier = r.tier ?? base;
      const keep =
        spec.kind === 'lifecycle'
          ? inSegment(spec.segment, today - r.lastDay, deps.activeDays)
          : spec.kind === 'tier'
            ? tier === spec.code
            : deps.calendar.dayOf(r.reg).slice(0, 7) === spec.month;
      if (keep) out.push({ memberId, registeredAt: new Date(r.reg).toISOString(), lastActivityAt: new Date(r.last).toISOString(), tier });
    }
    return out.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  }

  const service: SegmentsService = {
    /** The members in a lifecycle segment now, sorted by id (a stable order, so a job over them can resume from a checkpoint). */
    membersIn: async (segment: Segment, now: Date): Promise<string[]> => (await members({ kind: 'lifecycle', segment }, now)).map((m) => m.memberId),
    /** A page of a segment's members by id, after the member `after`. */
    async page(spec: SegmentSpec, limit: number, after: string | undefined): Promise<{ items: SegmentMember[]; more: boolean }> {
      const all = await members(spec, deps.clock.now());
      const start = after === undefined ? 0 : all.findIndex((m) => m.memberId > after);
      const rest = start < 0 ? [] : all.slice(start);
      return { items: rest.slice(0, limit), more: rest.length > limit };
    },
  };
  return { ...service, routes: segmentsRoutes(service) };
}
