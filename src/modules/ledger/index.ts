import type { Connection } from 'mongoose';
import type { Config } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import type { Faults } from '../../platform/faults.js';
import type { Route } from '../../platform/http/route.js';
import type { Logger } from '../../platform/logger.js';
import type { Metrics } from '../../platform/metrics.js';
import type { RecordAudit } from '../audit/index.js';
import type { MembersService } from '../members/index.js';
import { ledgerStore } from './ledger.model.js';
import { ledgerRoutes } from './ledger.routes.js';
import { toBalanceView } from './ledger.schemas.js';
import { ledgerService, type LedgerService } from './ledger.service.js';

export type { LedgerService, Operation } from './ledger.service.js';
export { derivedOpId } from './ledger.service.js';
export type { EntryDoc } from './ledger.model.js';
export { checkLedger, repairLedger } from './ledger.check.js';

/** The points ledger (PRODUCT.md §4): the only writer of points. */
export function createLedgerModule(deps: {
  db: Connection;
  clock: Clock;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  members: MembersService;
  audit: RecordAudit;
  faults?: Faults;
}): { service: LedgerService; routes: Route[]; init: () => Promise<void>; startSweeps: () => () => void } {
  const store = ledgerStore(deps.db, 'points', deps.logger);
  const service = ledgerService({
    store,
    clock: deps.clock,
    metrics: deps.metrics,
    ...(deps.faults ? { faults: deps.faults } : {}),
    assertActive: (memberId) => deps.members.assertActive(memberId),
    memberExists: (memberId) => deps.members.getMember(memberId).then(() => true, () => false),
    policy: deps.config.ledger,
    name: 'points',
  });
  deps.members.addSummaryProvider(async (member) => {
    const { head, now } = await service.getBalance(member.memberId);
    const b = toBalanceView(member.memberId, head.seq, head.state, now);
    return { points: { available: b.available, held: b.held, expiringIn30Days: b.expiringIn30Days } };
  });
  return {
    service,
    routes: ledgerRoutes(service, { clock: deps.clock, maxAmount: deps.config.maxPointsAmount, audit: deps.audit }),
    init: () => store.init(),
    /** Expires due lots and times out holds on a timer (LEDGER_SWEEP_INTERVAL_MS); returns the stop function. */
    startSweeps: () => {
      if (deps.config.ledger.sweepIntervalMs === 0) return () => {};
      const timer = setInterval(() => {
        service.sweep().catch((err: unknown) => deps.logger.warn({ err }, 'ledger sweep failed; the next one resumes it'));
      }, deps.config.ledger.sweepIntervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
