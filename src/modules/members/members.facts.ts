import type { Collection } from 'mongodb';
import type { Fact, FactSource } from '../../platform/facts.js';
import type { MemberDoc } from './members.model.js';

/** A registration's rollup fact: one new member on its day (docs/ANALYTICS.md). */
export const memberFact = (m: Pick<MemberDoc, '_id' | 'createdAt'>): Fact => ({
  id: `member|${m._id}`,
  at: m.createdAt,
  member: m._id,
  registered: true,
  c: { 'members.registered': 1 },
});

/** The registrations since `from`, for the rollup (a scan). */
export const membersFactSource = (members: Collection<MemberDoc>): FactSource => ({
  name: 'members',
  async *since(from) {
    for await (const m of members.find({ createdAt: { $gte: from } }, { projection: { _id: 1, createdAt: 1 } })) yield memberFact(m);
  },
});
