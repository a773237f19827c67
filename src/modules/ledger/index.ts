import type { Connection } from 'mongoose';
import type { Config } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import type { Faults } from '../../platform/faults.js';
import type { Route } from '../../platform/http/route.js';
import type { FactSink, FactSource } from '../../platform/facts.js';
import type { Logger } from '../../platform/logger.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Sweeper } from '../../platform/sweeper.js';
import type { AuditTrail } from '../audit/index.js';
import type { MembersService } from '../members/index.js';
import { pointsFact, pointsFactSource, unspentByExpiry } from './ledger.facts.js';
import { ledgerStore } from './ledger.model.js';
import { entryAudit, ledgerRoutes } from './ledger.routes.js';
import { toBalanceView } from './ledger.schemas.js';
import { ledgerService } from './ledger.service.js';

export type { LedgerService, Operation } from './ledger.service.js';
export { COMMIT_ATTEMPTS, derivedOpId, ignoreCode, keyedOperation, landed, raceBackoff } from './ledger.commit.js';
export type { EntryDoc } from './ledger.model.js';
export { checkLedger, repairLedger } from './ledger.check.js';
export { spendable } from './ledger.state.js';
export { pointsFact, unspentByExpiry } from './ledger.facts.js';

/**
 * Growth value counts over the tier window (PRODUCT.md §6): growth lots expire when they leave a rolling 365-day
 * window, on the day boundary of the program's calendar.
 */
export const GROWTH_EXPIRY = 'rolling:365:day-end';

type LedgerModuleDeps = {
  db: Connection;
  clock: Clock;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  members: MembersService;
  /** Records due lots and holds, and sweeps them when they come due. */
  sweeper: Sweeper;
  faults?: Faults;
};

/** One ledger over the shared write path: points, or growth (the same primitive, another collection and policy). */
function buildLedger(deps: LedgerModuleDeps, name: 'points' | 'growth', expiry: string, facts?: FactSink) {
  const store = ledgerStore(deps.db, name, deps.logger, deps.faults);
  const service = ledgerService({
    store,
    clock: deps.clock,
    metrics: deps.metrics,
    ...(deps.faults ? { faults: deps.faults } : {}),
    assertActive: (memberId) => deps.members.assertActive(memberId),
    memberExists: (memberId) => deps.members.getMember(memberId).then(() => true, () => false),
    policy: { ...deps.config.ledger, expiry, maxAmount: deps.config.maxPointsAmount },
    name,
    due: deps.sweeper,
    ...(facts ? { onCommitted: (before, entry) => facts.record(pointsFact(unspentByExpiry(before), entry)) } : {}),
  });
  return { service, init: () => store.init(), factSource: pointsFactSource(store.entries) as FactSource };
}

/**
 * The points ledger (PRODUCT.md §4): the only writer of points. Each entry's rollup fact goes to `facts` once it landed
 * (docs/ANALYTICS.md); `factSource` rebuilds them from the entries.
 */
export function createLedgerModule(deps: LedgerModuleDeps & { audit: AuditTrail; facts: FactSink }) {
  const ledger = buildLedger(deps, 'points', deps.config.ledger.expiry, deps.facts);
  // An ops command committed when its op id landed an entry (a refusal lands none).
  for (const kind of ['points.earn', 'points.adjust', 'points.reverse']) {
    deps.audit.check(kind, async ({ hint }) => {
      const found = await ledger.service.findOperation(String(hint.memberId), String(hint.opId));
      // A refusal is recorded under the op id too (so the key answers it again): it changed nothing.
      return found && (found as { kind: string }).kind !== 'refusal' ? { after: entryAudit(found) } : undefined;
    });
  }
  deps.members.addSummaryProvider(async (member) => {
    const { head, now } = await ledger.service.getBalance(member.memberId);
    const b = toBalanceView(member.memberId, head.seq, head.state, now);
    return {
      points: {
        available: b.available,
        held: b.held,
        pending: b.pending,
        nextAvailableAt: b.becomingAvailable[0]?.availableAt ?? null,
        expiringIn30Days: b.expiringIn30Days,
      },
    };
  });
  return { ...ledger, routes: ledgerRoutes(ledger.service, { clock: deps.clock, maxAmount: deps.config.maxPointsAmount, audit: deps.audit }) as Route[] };
}

/** The growth ledger (PRODUCT.md §6): non-spendable, fed by rules, check-ins and tasks; the tiers module reads it. */
export function createGrowthLedger(deps: LedgerModuleDeps) {
  const { service, init } = buildLedger(deps, 'growth', GROWTH_EXPIRY);
  return { service, init };
}
