import type { Connection } from 'mongoose';
import { counterChains } from '../../platform/db/counter-chain.js';
import { AppError, conflict } from '../../platform/errors.js';
import type { Faults } from '../../platform/faults.js';
import type { Clock } from '../../platform/clock.js';
import type { LimitPort } from './redemptions.service.js';

/**
 * Per-member limits (PRODUCT.md §8): one counter chain per member, benefit and calendar period (its key in the member's
 * zone, periods.ts), whose value is the units in use. A take is refused once the value would pass the limit, decided
 * on the chain's fresh head and committed by the unique insert of its next seq, so two racing redemptions of the last
 * unit of a limit get one each only if the limit has room for both. Cancelling gives the units back (an entry too).
 */
export function benefitLimits(db: Connection, opts: { clock?: Clock; faults?: Faults } = {}) {
  const chains = counterChains<{ memberId: string }>(db, 'benefit_limits', { shardKey: 'memberId', ...opts });
  const chainOf = (memberId: string, benefit: string, key: string) => `${memberId}|${benefit}|${key}`;

  const port: LimitPort = {
    async take(memberId, benefit, key, count, opId, qty) {
      try {
        await chains.apply({
          chain: chainOf(memberId, benefit, key),
          shard: memberId,
          opId,
          kind: 'take',
          decide: (head) => {
            if (head.value + qty > count) throw conflict('LIMIT_REACHED', `the member may redeem this benefit ${count} times per period`, { left: Math.max(0, count - head.value) });
            return qty;
          },
        });
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'LIMIT_REACHED')) throw err;
        // A retry of a take that landed (its request died after it) finds the limit full of its own units: the refusal
        // is recorded under the op id, which either seals the op (nothing lands under it later) or meets that landing.
        const sealed = await chains.recordRefusal(memberId, opId, err);
        if ('refusal' in sealed) throw sealed.refusal;
      }
    },
    async giveBack(memberId, benefit, key, opId) {
      // Close the take first: a take still under way elsewhere can no longer land after this looked for it.
      const outcome = await chains.recordRefusal(memberId, opId, conflict('TAKE_CLOSED', 'the redemption was undone'));
      if (!('entry' in outcome)) return;
      const took = outcome.entry.delta;
      const back = `${opId}#back`;
      try {
        await chains.apply({
          chain: chainOf(memberId, benefit, key),
          shard: memberId,
          opId: back,
          kind: 'back',
          decide: (head) => {
            // Fewer units in use than this take holds: its give-back landed already (a repeat: a second cancel, the sweeper).
            if (head.value < took) throw conflict('GIVEN_BACK', 'the units of this take were given back already');
            return -took;
          },
        });
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'GIVEN_BACK') || !(await chains.findByOpId(memberId, back))) throw err;
      }
    },
  };

  return {
    ...port,
    init: () => chains.init(),
    /** Units the member has in use in the period (a fresh read of the chain's head). */
    used: async (memberId: string, benefit: string, key: string) => (await chains.head(chainOf(memberId, benefit, key))).value,
  };
}
export type BenefitLimits = ReturnType<typeof benefitLimits>;
