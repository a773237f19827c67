import type { Collection } from 'mongodb';
import type { Fact, FactSource } from '../../platform/facts.js';
import type { RedemptionDoc, RedemptionStep } from './redemptions.model.js';

/** What a step of a redemption counts as, per benefit (docs/ANALYTICS.md); none for a failed saga or a capture record. */
function counterOf(s: RedemptionStep): 'issued' | 'used' | 'cancelled' | 'expired' | undefined {
  if (s.step === 'end') return s.outcome === 'issued' ? 'issued' : undefined;
  if (s.step === 'close') return s.outcome;
  return undefined;
}

/** The redemption a step belongs to: its `_id` is `<redemption id>#<step>`. */
export const redemptionOfStep = (stepId: string) => stepId.slice(0, stepId.lastIndexOf('#'));

/** A step's rollup fact, or none for a step no figure counts. */
export function redemptionStepFact(s: RedemptionStep, benefit: string): Fact | undefined {
  const counter = counterOf(s);
  if (!counter) return undefined;
  return { id: `redemption|${s._id}`, at: s.at, c: { [`benefits.${counter}`]: 1 }, k: { [`benefits.${counter}`]: { [benefit]: 1 } } };
}

export const countedStep = (s: RedemptionStep) => counterOf(s) !== undefined;

/** The redemption steps since `from`, for the rollup (a scan; a step's benefit is read from its redemption once). */
export const redemptionsFactSource = (redemptions: Collection<RedemptionDoc>, steps: Collection<RedemptionStep>): FactSource => ({
  name: 'benefits',
  async *since(from, known) {
    const benefits = new Map<string, string | null>();
    for await (const s of steps.find({ at: { $gte: from } })) {
      if (!countedStep(s)) continue;
      const stored = known(`redemption|${s._id}`);
      if (stored) {
        yield stored;
        continue;
      }
      const id = redemptionOfStep(s._id);
      if (!benefits.has(id)) benefits.set(id, (await redemptions.findOne({ _id: id }, { projection: { benefit: 1 } }))?.benefit ?? null);
      const benefit = benefits.get(id);
      const fact = benefit ? redemptionStepFact(s, benefit) : undefined;
      if (fact) yield fact;
    }
  },
});
