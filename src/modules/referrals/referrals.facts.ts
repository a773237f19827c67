import type { Collection } from 'mongodb';
import type { Fact, FactSource } from '../../platform/facts.js';
import type { BindingDoc, Step } from './referrals.model.js';

/** A binding's rollup fact: one referral bound, by its referrer (docs/ANALYTICS.md). */
export const bindingFact = (b: Pick<BindingDoc, '_id' | 'referrer' | 'boundAt'>): Fact => ({
  id: `referral|${b._id}`,
  at: b.boundAt,
  c: { 'referrals.bound': 1 },
  k: { 'referrals.referrers': { [b.referrer]: 1 } },
});

/** The funnel counter a step moves, if any (a route to payment is counted when it is paid, as `rewarded`). */
function counterOf(s: Step): string | undefined {
  switch (s.step) {
    case 'first':
      return s.outcome === 'qualified' ? 'referrals.qualified' : 'referrals.expired';
    case 'route':
      return s.to === 'review' ? 'referrals.review' : undefined;
    case 'decision':
      return s.outcome === 'approved' ? 'referrals.approved' : 'referrals.rejected';
    case 'paid':
      return 'referrals.rewarded';
    case 'close':
      return s.outcome === 'reversed' ? 'referrals.reversed' : 'referrals.settled';
  }
}

/** A step's rollup fact, or none for a step no figure counts. */
export function stepFact(s: Step): Fact | undefined {
  const counter = counterOf(s);
  return counter ? { id: `referral|${s._id}`, at: s.at, c: { [counter]: 1 } } : undefined;
}

/** The bindings and steps since `from`, for the rollup (scans). */
export const referralsFactSource = (bindings: Collection<BindingDoc>, steps: Collection<Step>): FactSource => ({
  name: 'referrals',
  async *since(from) {
    for await (const b of bindings.find({ boundAt: { $gte: from } }, { projection: { _id: 1, referrer: 1, boundAt: 1 } })) yield bindingFact(b);
    for await (const s of steps.find({ at: { $gte: from } })) {
      const fact = stepFact(s);
      if (fact) yield fact;
    }
  },
});
