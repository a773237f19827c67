import Koa from 'koa';
import type { Connection } from 'mongoose';
import type { Config } from './config.js';
import { createAuditModule } from './modules/audit/index.js';
import { createBenefitsModule } from './modules/benefits/index.js';
import { createCheckinsModule } from './modules/checkins/index.js';
import { createEventsModule } from './modules/events/index.js';
import { createGrowthLedger, createLedgerModule } from './modules/ledger/index.js';
import { createMembersModule } from './modules/members/index.js';
import { createReferralsModule } from './modules/referrals/index.js';
import { createRulesModule } from './modules/rules/index.js';
import { createSegments } from './modules/segments/index.js';
import { createRollupStore, createStatsModule } from './modules/stats/index.js';
import { createTasksModule } from './modules/tasks/index.js';
import { createTiersModule } from './modules/tiers/index.js';
import { calendar } from './platform/calendar.js';
import type { Clock } from './platform/clock.js';
import { factStore } from './platform/facts.js';
import { AppError } from './platform/errors.js';
import type { Faults } from './platform/faults.js';
import { idempotencyWrapper } from './platform/http/idempotency.js';
import { every, jobRunner } from './platform/jobs.js';
import { errorHandler } from './platform/http/error-handler.js';
import { requestContext } from './platform/http/request-context.js';
import type { Route } from './platform/http/route.js';
import { buildRouter } from './platform/http/router.js';
import { configureGroupCommit } from './platform/db/group-insert.js';
import { watchPool } from './platform/db/pool-metrics.js';
import { createRateLimits } from './platform/http/rate-limit.js';
import { serveConsole } from './platform/http/console.js';
import { systemRoutes } from './platform/http/system.routes.js';
import type { Logger } from './platform/logger.js';
import { createMetrics, httpMetrics } from './platform/metrics.js';
import { createLiveness } from './platform/liveness.js';
import { createSweeper } from './platform/sweeper.js';
import { buildOpenApiDocument } from './platform/openapi.js';

export type AppDeps = {
  config: Config;
  db: Connection;
  clock: Clock;
  logger: Logger;
  engine: { name: string; description: string };
  /** Crash injection points for tests; production passes none. */
  faults?: Faults;
};

/**
 * Builds the Koa application and its modules; never listens (server.ts and the tests do).
 *
 *     const { app, ready } = createApp(deps); await ready; http.createServer(app.callback()).listen(0);
 */
export function createApp(deps: AppDeps) {
  const { config, db, clock, logger } = deps;
  configureGroupCommit(config.groupCommit);
  /** Crash injection points for the modules that have them (tests only). */
  const faults = deps.faults ? { faults: deps.faults } : {};
  const metrics = createMetrics({ defaults: config.metricsEnabled });
  if (config.metricsEnabled) watchPool(db.getClient(), metrics);
  const sweeper = createSweeper(db, clock, logger, metrics);
  const audit = createAuditModule({ db, clock, sweeper, faults: deps.faults });
  // Ops figures count on the program's calendar; each module writes its records' rollup facts (docs/ANALYTICS.md).
  const programCalendar = calendar(config.ledger.programTimezone);
  const facts = factStore(db, { calendar: programCalendar, logger, ...faults });
  const rollups = createRollupStore({ db, facts, calendar: programCalendar });
  const members = createMembersModule({ db, clock, defaultTimezone: config.defaultTimezone, audit: audit.trail, facts });
  const ledger = createLedgerModule({ db, clock, config, logger, metrics, members: members.service, sweeper, audit: audit.trail, facts, ...faults });
  const growth = createGrowthLedger({ db, clock, config, logger, metrics, members: members.service, sweeper, ...faults });
  const rules = createRulesModule({ db, clock, audit: audit.trail, programTimezone: config.ledger.programTimezone });
  const liveness = createLiveness(db, logger);
  const jobs = jobRunner(db, clock, liveness.owner, metrics);
  const tiers = createTiersModule({
    db,
    clock,
    audit: audit.trail,
    growth: growth.service,
    members: members.service,
    programTimezone: config.ledger.programTimezone,
    jobs,
    logger,
    facts,
  });
  const ladderTiers = async () => (await tiers.service.getLadder())?.tiers.map((t) => t.code) ?? [];
  const baseTier = async () => (await ladderTiers())[0] ?? null;
  const segments = createSegments({ rowsNow: rollups.reader.rowsNow, calendar: programCalendar, clock, activeDays: config.stats.activeDays, baseTier });
  const tasks = createTasksModule({
    db,
    clock,
    audit: audit.trail,
    points: ledger.service,
    growth: growth.service,
    members: members.service,
    programTimezone: config.ledger.programTimezone,
    sweeper,
    ...faults,
  });
  const benefits = createBenefitsModule({
    db,
    clock,
    audit: audit.trail,
    members: members.service,
    points: ledger.service,
    tierOf: async (memberId) => (await tiers.service.tierContext(memberId)).tier,
    privilegesOf: (memberId) => tiers.service.privilegesOf(memberId),
    maxPointsAmount: config.maxPointsAmount,
    sweeper,
    jobs,
    logger,
    tiers: tiers.service,
    expiredPoints: config.benefits.expiredVoucherPoints,
    metrics,
    facts,
    segments,
    ...faults,
  });
  const referrals = createReferralsModule({
    db,
    clock,
    audit: audit.trail,
    members: members.service,
    points: ledger.service,
    grants: benefits.grants,
    benefitExists: (code) => benefits.service.getBenefit(code, { fresh: true }).then(() => true, () => false),
    sweeper,
    config: config.referrals,
    programTimezone: config.ledger.programTimezone,
    facts,
    ...faults,
  });
  const events = createEventsModule({
    db,
    clock,
    members: members.service,
    rules: rules.service,
    points: ledger.service,
    growth: growth.service,
    tierContext: (memberId) => tiers.service.tierContext(memberId),
    onGrowth: (memberId) => tiers.service.onGrowth(memberId),
    tasks: tasks.service.progressFromEvent,
    referrals: referrals.service.progressFromEvent,
    maxPointsAmount: config.maxPointsAmount,
    ...faults,
  });
  members.service.onRegistered(async (member) => {
    await events.service.memberRegistered(member);
  });
  const checkins = createCheckinsModule({
    db,
    clock,
    audit: audit.trail,
    members: members.service,
    points: ledger.service,
    growth: growth.service,
    // A check-in is reported as a member.checked_in event keyed by member and day, so tasks and rules see it once.
    report: (event, retry) => events.service.processEvent({ role: 'service', sub: 'checkins' }, event, { scope: event.eventId, retry }),
    onGrowth: (memberId) => tiers.service.onGrowth(memberId),
    metrics,
    sweeper,
    facts,
    ...faults,
  });
  const stats = createStatsModule({
    rollups,
    facts,
    sources: [members.factSource, ledger.factSource, checkins.factSource, tiers.factSource, referrals.factSource, benefits.factSource],
    calendar: programCalendar,
    clock,
    logger,
    jobs,
    activeDays: config.stats.activeDays,
    ladderTiers,
    catalogue: {
      benefits: async () => {
        const all = [];
        for (let after: string | undefined, page; (page = await benefits.service.listBenefits({ limit: 100, ...(after ? { after } : {}) })); after = page.next) {
          all.push(...page.items);
          if (!page.next) break;
        }
        return all;
      },
      stockLeft: async (code) => (await benefits.stock.levels(code)).left,
    },
    ...faults,
  });
  const idempotency = idempotencyWrapper(db, clock, liveness, deps.faults);

  const businessRoutes: Route[] = [...members.routes, ...ledger.routes, ...events.routes, ...checkins.routes, ...rules.routes, ...tiers.routes, ...tasks.routes, ...benefits.routes, ...referrals.routes, ...audit.routes, ...stats.routes, ...segments.routes];
  let document: object | undefined;
  const openapi = (): object => (document ??= buildOpenApiDocument(routes));
  const routes: Route[] = [...systemRoutes({ db, engine: deps.engine, metrics: config.metricsEnabled ? metrics : undefined, timeoutMs: config.db.timeoutMs, openapi }), ...businessRoutes];

  /** Deletes Idempotency-Key records older than IDEMPOTENCY_RETENTION_HOURS; once per UTC day across processes. */
  const purgeIdempotency = () => {
    const now = clock.now();
    const before = new Date(now.getTime() - config.idempotencyRetentionHours * 3_600_000);
    const day = now.toISOString().slice(0, 10);
    return jobs.run('idempotency.purge', day, () => idempotency.purge(before), { dueAt: new Date(`${day}T00:00:00Z`) });
  };
  const startPurges = () =>
    every(config.ledger.sweepIntervalMs, purgeIdempotency, (err) => logger.warn({ err }, 'idempotency purge failed; the next check resumes it'));

  const rateLimits = createRateLimits({ config: config.rateLimit, redisUrl: config.redisUrl, metrics, logger });
  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true; // errors are answered and logged by errorHandler
  const router = buildRouter(routes, { config, wrap: idempotency.wrap, limit: rateLimits.limit });
  app.use(requestContext(logger));
  if (config.metricsEnabled) app.use(httpMetrics(metrics));
  app.use(errorHandler(logger));
  app.use(async (ctx, next) => {
    await next();
    // allowedMethods answers 405 (with Allow) and 501 bare; nothing answering at all is an unknown route.
    if (ctx.status === 405) throw new AppError(405, 'METHOD_NOT_ALLOWED', 'this route does not take that method');
    if (ctx.status === 501) throw new AppError(501, 'NOT_IMPLEMENTED', 'method not implemented');
    if (ctx.status === 404 && ctx.body == null) throw new AppError(404, 'NOT_FOUND', 'route not found');
  });
  app.use(serveConsole(config.consoleDir));
  app.use(router.routes());
  app.use(router.allowedMethods());

  const ready = Promise.all([facts.init(), rollups.init(), sweeper.init(), members.init(), ledger.init(), growth.init(), rules.init(), tiers.init(), tasks.init(), benefits.init(), referrals.init(), jobs.init(), events.init(), checkins.init(), audit.init(), idempotency.init(), liveness.init(), rateLimits.ready]).then(
    () => liveness.start(),
  );
  return {
    app,
    ready,
    metrics,
    services: { segments, members: members.service, ledger: ledger.service, growth: growth.service, rules: rules.service, tiers: tiers.service, tasks: tasks.service, benefits: benefits.service, redemptions: benefits.redemptions, grants: benefits.grants, stock: benefits.stock, referrals: referrals.service, events: events.service, checkins: checkins.service },
    openapi,
    /** Starts the background jobs (the sweeper, tier evaluation, purges, the stats rollup); the returned stop waits for a sweep or rollup under way. */
    startJobs: () => {
      const stopSweeps = sweeper.start(config.ledger.sweepIntervalMs);
      const stopRollups = stats.startJobs(config.stats.rollupIntervalMs);
      const stops = [tiers.startJobs(config.ledger.sweepIntervalMs), startPurges()];
      return async () => {
        stops.forEach((stop) => stop());
        await Promise.all([stopSweeps(), stopRollups()]);
      };
    },
    /** Does all due work now (lots, holds, interrupted flows), unclaimed: tests and operator commands. */
    sweep: () => sweeper.sweep(),
    /** One rollup run now (docs/ANALYTICS.md): closes the days past their grace and rebuilds missing facts; tests and operator commands. */
    rollup: () => stats.rollup(),
    /** One claimed tick of the sweeper's timer, as each process runs it every LEDGER_SWEEP_INTERVAL_MS. */
    sweepTick: (intervalMs: number) => sweeper.tick(intervalMs),
    purgeIdempotency,
    /** This process's name as the owner of idempotency claims (its heartbeat tells others it is alive). */
    owner: liveness.owner,
    /**
     * Stops the heartbeat and says so, so other processes take over what this one leaves at once, and disconnects the
     * rate limits' Redis. Call before closing the db.
     */
    stop: async () => {
      try {
        await liveness.stop();
      } finally {
        rateLimits.close();
      }
    },
    /** Writes pending records (answers under idempotency keys, ledger account caches, check-in head hints); on shutdown and by tests. */
    flush: () => Promise.all([idempotency.flush(), ledger.service.flush(), growth.service.flush(), checkins.service.flush(), sweeper.flush(), facts.flush()]).then(() => undefined),
  };
}
export type App = ReturnType<typeof createApp>;
