import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.js';
import type { Faults } from '../../platform/faults.js';
import type { Route } from '../../platform/http/route.js';
import type { Sweeper } from '../../platform/sweeper.js';
import { auditRepository } from './audit.model.js';
import { auditRoutes } from './audit.routes.js';
import { auditTrail, type AuditTrail } from './audit.trail.js';

export type { AuditedMutation, AuditIntent, AuditOutcome, AuditTarget, AuditTrail, CommitCheck } from './audit.trail.js';
export { AUDIT_GRACE_MS, stampCheck } from './audit.trail.js';

/**
 * The audit log of ops mutations (PRODUCT.md §10). Modules run each ops mutation through `trail.audited` and register
 * with `trail.check` how to tell, from their own state, whether one committed (docs/DECISIONS.md, "Audit").
 */
export function createAuditModule(deps: { db: Connection; clock: Clock; sweeper: Sweeper; faults?: Faults | undefined }): {
  trail: AuditTrail;
  routes: Route[];
  init: () => Promise<void>;
} {
  const repo = auditRepository(deps.db);
  const trail = auditTrail({ repo, clock: deps.clock, sweeper: deps.sweeper, faults: deps.faults });
  return { trail, routes: auditRoutes(repo), init: () => repo.init() };
}
