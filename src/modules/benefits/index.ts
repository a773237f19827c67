import type { Connection } from 'mongoose';
import type { Route } from '../../platform/http/route.js';
import { benefitsRepository, type Benefit } from './benefits.model.js';
import { benefitsRoutes } from './benefits.routes.js';
import { benefitsService, type Availability, type BenefitsDeps, type BenefitsService } from './benefits.service.js';
import { AppError } from '../../platform/errors.js';
import { derivedOpId } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { FactSink, FactSource } from '../../platform/facts.js';
import type { JobRunner } from '../../platform/jobs.js';
import type { Logger } from '../../platform/logger.js';
import type { Sweeper } from '../../platform/sweeper.js';
import type { SegmentsService } from '../segments/index.js';
import type { TiersService } from '../tiers/index.js';
import { benefitGrants, type BenefitGrants } from './grants.js';
import { grantsRoutes } from './grants.routes.js';
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
const KIND_WELCOME = 'benefits.welcome';
const isCode = (err: unknown, code: string) => err instanceof AppError && err.code === code;

export function createBenefitsModule(
  deps: Omit<BenefitsDeps, 'repo' | 'availability' | 'setStock'> &
    Pick<RedemptionsDeps, 'clock' | 'points' | 'expiredPoints' | 'metrics' | 'faults'> & {
      db: Connection;
      members: MembersService;
      sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
      jobs: JobRunner;
      logger: Logger;
      tiers: Pick<TiersService, 'onTierReached' | 'history'>;
      /** Receives each redemption step's rollup fact once it landed (docs/ANALYTICS.md). */
      facts: FactSink;
      /** Who is in a lifecycle segment (grants to a segment). */
      segments: Pick<SegmentsService, 'membersIn'>;
    },
): {
  service: BenefitsService;
  redemptions: RedemptionsService;
  grants: BenefitGrants;
  stock: BenefitStock;
  routes: Route[];
  init: () => Promise<void>;
  factSource: FactSource;
} {
  const faults = deps.faults ? { faults: deps.faults } : {};
  const repo = benefitsRepository(deps.db);
  const stock = benefitStock(deps.db, { clock: deps.clock, ...faults });
  const limits = benefitLimits(deps.db, { clock: deps.clock, ...faults });
  const redemptionsRepo = redemptionsRepository(deps.db, deps.facts);

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

  /** Units left of a stocked benefit; a stock no save has defined yet has all of its units. */
  const stockLeftOf = async (b: Benefit): Promise<number | null> =>
    b.stock === null ? null : stock.levels(b.code).then((l) => l.left, (err: unknown) => (isCode(err, 'NOT_FOUND') ? b.stock : Promise.reject(err)));

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
    metrics: deps.metrics,
    audit: deps.audit,
    ...faults,
  });
  const grants = benefitGrants({ ...deps, redemptions, redemptionsRepo, getBenefit: (code) => service.getBenefit(code, { fresh: true }) });

  // A tier's welcome benefit: recorded as due work before the tier change lands, granted once it did (once per member
  // and tier, whoever runs it); the sweeper grants it if this process died in between, and only if the change landed.
  const welcomeId = (memberId: string, tier: string) => `${KIND_WELCOME}|${memberId}|${tier}`;
  deps.tiers.onTierReached({
    before: (memberId, tier, benefit) =>
      deps.sweeper.owe([{ _id: welcomeId(memberId, tier), kind: KIND_WELCOME, memberId, dueAt: new Date(deps.clock.now().getTime() + 60_000), data: { tier, benefit } }]),
    after: async (memberId, tier, benefit) => {
      await grants.welcome(memberId, tier, benefit).then(
        () => deps.sweeper.discharge(welcomeId(memberId, tier)),
        (err: unknown) => deps.logger.warn({ err, memberId, tier }, 'welcome benefit not granted yet; the sweeper grants it'),
      );
    },
  });
  deps.sweeper.on(KIND_WELCOME, async (record) => {
    const tier = String(record.data.tier);
    const reached = (await deps.tiers.history(record.memberId)).some((c) => c.to === tier);
    if (reached) await grants.welcome(record.memberId, tier, String(record.data.benefit));
  });

  return {
    service,
    redemptions,
    grants,
    stock,
    factSource: redemptionsRepo.factSource,
    routes: [...benefitsRoutes(service, { maxPoints: deps.maxPointsAmount, stockLeft: stockLeftOf }), ...redemptionsRoutes(redemptions), ...grantsRoutes(grants)],
    init: async () => {
      await Promise.all([repo.init(), stock.init(), limits.init(), redemptionsRepo.init(), grants.init()]);
    },
  };
}
