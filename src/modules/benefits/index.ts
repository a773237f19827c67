import type { Connection } from 'mongoose';
import type { Route } from '../../platform/http/route.js';
import { benefitsRepository } from './benefits.model.js';
import { benefitsRoutes } from './benefits.routes.js';
import { benefitsService, type BenefitsDeps, type BenefitsService } from './benefits.service.js';

export type { Benefit } from './benefits.model.js';
export type { Availability, BenefitsService, Eligibility, Page } from './benefits.service.js';
export { toBenefitView } from './benefits.service.js';
export {
  benefitCodeSchema, benefitKinds, eligibilityReasons, redemptionBody, redemptionResponse, redemptionStatuses, redemptionView,
  type EligibilityReason, type RedemptionInput, type RedemptionStatus, type RedemptionView,
} from './benefits.schemas.js';
export { LIFETIME_KEY, limitPeriods, periodEnd, periodKey, type LimitPeriod } from './periods.js';
export { newVoucherCode, VOUCHER_ALPHABET, VOUCHER_LENGTH } from './vouchers.js';

/**
 * Benefits (PRODUCT.md §8): the catalogue ops define and members browse with their eligibility. Stock, limits and
 * redemption build on the service's `getBenefit` and `eligibility`.
 */
export function createBenefitsModule(deps: Omit<BenefitsDeps, 'repo'> & { db: Connection; maxPointsAmount: number }): {
  service: BenefitsService;
  routes: Route[];
  init: () => Promise<void>;
} {
  const repo = benefitsRepository(deps.db);
  const service = benefitsService({ ...deps, repo });
  return { service, routes: benefitsRoutes(service, { maxPoints: deps.maxPointsAmount }), init: () => repo.init() };
}
