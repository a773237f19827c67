import type { Fact, FactSource } from '../../platform/facts.js';
import type { LadderDoc, TierChangeDoc } from './tiers.model.js';

/**
 * How a change moved a member on the ladder it was decided with: `up`, `down`, `renewed` (kept at period end), or
 * `placed` (from no tier, or from a tier that ladder no longer has).
 */
export function moveOf(change: Pick<TierChangeDoc, 'from' | 'to'>, ladder: Pick<LadderDoc, 'tiers'> | null): 'up' | 'down' | 'renewed' | 'placed' {
  if (change.from === change.to) return 'renewed';
  const rank = (code: string | null) => (ladder && code !== null ? ladder.tiers.findIndex((t) => t.code === code) : -1);
  const [from, to] = [rank(change.from), rank(change.to)];
  if (from < 0 || to < 0) return 'placed';
  return to > from ? 'up' : 'down';
}

const MOVES = { up: 'members.tierUp', down: 'members.tierDown', renewed: 'members.tierRenewed', placed: 'members.tierPlaced' } as const;

/** A tier change's rollup fact: its move, and the member's tier from then on (docs/ANALYTICS.md). */
export const tierFact = (change: TierChangeDoc, ladder: Pick<LadderDoc, 'tiers'> | null): Fact => ({
  id: `tier|${change._id}`,
  at: change.at,
  member: change.memberId,
  tier: { to: change.to, seq: change.seq },
  c: { [MOVES[moveOf(change, ladder)]]: 1 },
});

/** The tier changes since `from`, for the rollup (a scan; each ladder version is read once). */
export const tiersFactSource = (repo: { changesSince(from: Date): AsyncIterable<TierChangeDoc>; ladderVersion(v: number): Promise<LadderDoc | null> }): FactSource => ({
  name: 'tiers',
  async *since(from) {
    const ladders = new Map<number, LadderDoc | null>();
    for await (const change of repo.changesSince(from)) {
      if (!ladders.has(change.ladderVersion)) ladders.set(change.ladderVersion, await repo.ladderVersion(change.ladderVersion));
      yield tierFact(change, ladders.get(change.ladderVersion) ?? null);
    }
  },
});
