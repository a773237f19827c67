import type { Connection } from 'mongoose';
import type { Route } from '../../platform/http/route.js';
import { benefitsRepository } from './benefits.model.js';
import { benefitsRoutes } from './benefits.routes.js';
import { benefitsService, type Availability, type BenefitsDeps, type BenefitsService } from './benefits.service.js';
import { AppError } from '../../platform/errors.js';
import { derivedOpId } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import { benefitLimits } from './limits.js';
import { redemptionsRepository } from './redemptions.model.js';
import { redemptionsRoutes } from './redemptions.routes.js';
import { redemptionsService, type RedemptionsDeps, type RedemptionsService } from './redemptions.service.js';
import { benefitStock, type BenefitStock } from './stock.js';

export type { Benefit } from './benefits.model.js';
export type { Availability, BenefitsService, Eligibility, Page } from './benefits.service.js';
export type { RedemptionsService } from './redemptions.service.js';
export { toBenefitView } from './benefits.service.js';
export {
  benefitCodeSchema, benefitKinds, eligibilityReasons, redemptionBody, redemptionResponse, redemptionStatuses, redemptionView,
  type EligibilityReason, type RedemptionInput, type RedemptionStatus, type RedemptionView,
} from './benefits.schemas.js';
export { LIFETIME_KEY, limitPeriods, periodEnd, periodKey, type LimitPeriod } from './periods.js';
export { newVoucherCode, VOUCHER_ALPHABET, VOUCHER_LENGTH } from './vouchers.js';

/**
 * Benefits (PRODUCT.md §8): the catalogue ops define and members browse with their eligibility, the stock (sub-account
 * counter chains), per-member limits, and the redemption saga with its vouchers (docs/BENEFITS.md).
 */
const isCode = (err: unknown, code: string) => err instanceof AppError && err.code === code;

export function createBenefitsModule(
  deps: Omit<BenefitsDeps, 'repo' | 'availability' | 'setStock'> &
    Pick<RedemptionsDeps, 'clock' | 'points' | 'sweeper' | 'expiredPoints' | 'faults'> & { db: Connection; members: MembersService },
): { service: BenefitsService; redemptions: RedemptionsService; stock: BenefitStock; routes: Route[]; init: () => Promise<void> } {
  const faults = deps.faults ? { faults: deps.faults } : {};
  const repo = benefitsRepository(deps.db);
  const stock = benefitStock(deps.db, { clock: deps.clock, ...faults });
  const limits = benefitLimits(deps.db, { clock: deps.clock, ...faults });
  const redemptionsRepo = redemptionsRepository(deps.db);

  /** A stock defined at first, then moved to its new total by one adjustment per saved version (stock.ts). */
  async function setStock(code: string, units: number | null, version: number): Promise<void> {
    if (units === null) return; // unlimited: the chains stay as they are, and count again if a number comes back
    const levels = await stock.levels(code).catch((err: unknown) => (isCode(err, 'NOT_FOUND') ? null : Promise.reject(err)));
    if (!levels) {
      // Another save may define it first (with other units): then this one moves it to its own total like any other.
      const defined = await stock.define(code, units).catch((err: unknown) => (isCode(err, 'STOCK_ALREADY_DEFINED') ? null : Promise.reject(err)));
      if (defined) return;
      return setStock(code, units, version);
    }
    const delta = units - (levels.initial + levels.adjusted);
    if (delta !== 0) await stock.adjust(code, delta, derivedOpId('benefit-stock', code, String(version), String(units)));
  }

  const availability: Availability = {
    async stockLeft(code) {
      const b = await service.getBenefit(code);
      return b.stock === null ? null : (await stock.levels(code)).left;
    },
    limitUsed: (memberId, code, key) => limits.used(memberId, code, key),
  };
  const service = benefitsService({ ...deps, repo, availability, setStock });
  const redemptions = redemptionsService({
    repo: redemptionsRepo,
    clock: deps.clock,
    members: deps.members,
    points: deps.points,
    stock,
    limits,
    price: (memberId, code, quantity) => service.quote(memberId, code, quantity, deps.clock.now()),
    sweeper: deps.sweeper,
    expiredPoints: deps.expiredPoints,
    ...faults,
  });
  return {
    service,
    redemptions,
    stock,
    routes: [...benefitsRoutes(service, { maxPoints: deps.maxPointsAmount }), ...redemptionsRoutes(redemptions)],
    init: async () => {
      await Promise.all([repo.init(), stock.init(), limits.init(), redemptionsRepo.init()]);
    },
  };
}
