import { createHash } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Clock } from '../../platform/clock.js';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import { AppError, conflict, notFound } from '../../platform/errors.js';
import type { Caller } from '../../platform/http/route.js';
import type { IdempotencyInfo } from '../../platform/http/router.js';
import type { JobRunner } from '../../platform/jobs.js';
import type { Logger } from '../../platform/logger.js';
import type { DueRecord, Sweeper } from '../../platform/sweeper.js';
import type { AuditTrail } from '../audit/index.js';
import { derivedOpId } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { Segment, SegmentsService } from '../segments/index.js';
import type { Benefit } from './benefits.model.js';
import { redemptionId, statusOf, type RedemptionDoc, type RedemptionsRepository } from './redemptions.model.js';
import type { RedemptionsService } from './redemptions.service.js';

/** A grant of a benefit to a fixed list of members, resolved when it was asked (a segment is resolved then too). */
export type GrantDoc = {
  _id: string;
  benefit: string;
  segment: Segment | null;
  total: number;
  chunks: number;
  note: string | null;
  fingerprint: string;
  actor: { role: string; sub: string };
  createdAt: Date;
};
type ChunkDoc = { _id: string; members: string[] };

const CHUNK = 500;
/** Members granted at once within a chunk; a checkpoint follows each batch. */
const BATCH = 8;
const KIND_GRANT = 'benefits.grant';
const JOB = 'benefits.grant';
/** When the sweeper looks at a grant whose runner may have died (the job's own lease decides who runs it). */
const RESUME_AFTER_MS = 60_000;

export type GrantsDeps = {
  db: Connection;
  clock: Clock;
  logger: Logger;
  members: MembersService;
  jobs: JobRunner;
  sweeper: Pick<Sweeper, 'owe' | 'on'>;
  redemptions: RedemptionsService;
  redemptionsRepo: RedemptionsRepository;
  getBenefit: (code: string) => Promise<Benefit>;
  audit: AuditTrail;
  /** Who is in a lifecycle segment now (src/modules/segments). */
  segments: Pick<SegmentsService, 'membersIn'>;
};

/**
 * Ops grants (PRODUCT.md §8) and tier welcome benefits: a benefit given free to members, as a redemption whose id
 * derives from the grant and the member, so each member gets it at most once per grant whatever the retries, crashes
 * and resumptions. A grant to many members is a resumable job (jobs.ts) over a member list fixed when it was asked.
 */
export function benefitGrants(deps: GrantsDeps) {
  const { clock } = deps;
  const grantsModel = deps.db.model('BenefitGrant', new Schema({}, { collection: 'benefit_grants', strict: false, versionKey: false }));
  const chunksModel = deps.db.model('BenefitGrantChunk', new Schema({}, { collection: 'benefit_grant_members', strict: false, versionKey: false }));
  const grants = grantsModel.collection as unknown as Collection<GrantDoc>;
  const chunks = chunksModel.collection as unknown as Collection<ChunkDoc>;
  /** Grants this process is running, so a status read here knows and tests can wait. */
  const running = new Map<string, Promise<unknown>>();

  /** Gives one member the benefit under `grantId`, once. Answers the redemption's status ('skipped': no such member). */
  async function grantTo(memberId: string, benefit: Benefit, grantId: string, actor: Caller): Promise<string> {
    const member = await deps.members.getMember(memberId).catch((err: unknown) => (err instanceof AppError && err.status === 404 ? null : Promise.reject(err)));
    if (!member || member.status === 'frozen') return 'skipped'; // a frozen member can neither earn nor spend (§3)
    const doc: RedemptionDoc = {
      _id: grantRedemptionId(memberId, grantId),
      memberId,
      benefit: benefit.code,
      benefitName: benefit.name,
      kind: benefit.kind,
      quantity: 1,
      unitCost: 0,
      points: 0,
      fingerprint: `grant:${grantId}`,
      stocked: benefit.stock !== null,
      limit: null,
      voucherValidDays: benefit.voucherValidDays,
      grant: grantId,
      actor: { role: actor.role, sub: actor.sub },
      createdAt: clock.now(),
    };
    try {
      return statusOf(await deps.redemptions.start(doc, actor));
    } catch (err) {
      if (err instanceof AppError && err.status === 409) return 'failed'; // out of stock, member frozen: recorded as failed
      throw err;
    }
  }

  /** A grant as its audit record shows what it came to. */
  const grantAudit = (g: GrantDoc) => ({ id: g._id, benefitCode: g.benefit, segment: g.segment, total: g.total });
  deps.audit.check('benefit-grant.create', async (intent) => {
    const grant = await grants.findOne({ _id: intent.target.id });
    return grant ? { after: grantAudit(grant) } : undefined;
  });

  /** Runs (or resumes) a grant's job: members in list order, a checkpoint after each batch. */
  function run(grant: GrantDoc, actor: Caller): Promise<unknown> {
    const known = running.get(grant._id);
    if (known) return known;
    const p = deps.jobs
      .run(JOB, grant._id, async (ctx) => {
        const benefit = await deps.getBenefit(grant.benefit);
        let start = ctx.resumeAfter ? Number(ctx.resumeAfter) + 1 : 0;
        for (let c = Math.floor(start / CHUNK); c < grant.chunks; c++) {
          const chunk = await chunks.findOne({ _id: `${grant._id}#${c}` });
          if (!chunk) throw new Error(`grant ${grant._id} lost its member chunk ${c}`);
          for (let i = start - c * CHUNK; i < chunk.members.length; i += BATCH) {
            await Promise.all(chunk.members.slice(i, i + BATCH).map((m) => grantTo(m, benefit, grant._id, actor)));
            await ctx.checkpoint(String(c * CHUNK + Math.min(i + BATCH, chunk.members.length) - 1));
          }
          start = (c + 1) * CHUNK;
        }
        return { total: grant.total };
      }, { dueAt: grant.createdAt })
      .finally(() => running.delete(grant._id));
    running.set(grant._id, p);
    return p;
  }

  // The sweeper resumes a grant whose runner died; while another runner holds it, the record stays for the next sweep.
  deps.sweeper.on(KIND_GRANT, async (record: DueRecord) => {
    const grant = await grants.findOne({ _id: String(record.data.id) });
    if (!grant) return;
    const outcome = (await run(grant, { role: 'ops', sub: grant.actor.sub })) as { ran: boolean; reason?: string };
    if (!outcome.ran && outcome.reason !== 'already done') throw new Error(`grant ${grant._id} is ${outcome.reason ?? 'not finished'}; the next sweep looks again`);
  });

  async function progress(grant: GrantDoc) {
    const [done, last, given] = await Promise.all([
      deps.db.collection('job_done').findOne({ _id: `${JOB}:${grant._id}` } as never),
      lastCheckpoint(grant._id),
      deps.redemptionsRepo.list({ grant: grant._id } as never, grant.total + 1),
    ]);
    const count = (s: string) => given.filter((r) => statusOf(r) === s).length;
    return {
      id: grant._id,
      benefitCode: grant.benefit,
      segment: grant.segment,
      note: grant.note,
      status: done ? ('done' as const) : ('running' as const),
      total: grant.total,
      processed: done ? grant.total : last,
      issued: given.length - count('failed') - count('pending'),
      failed: count('failed'),
      createdAt: grant.createdAt.toISOString(),
    };
  }

  /** How many members the grant's runners have checkpointed (a doubling then halving search over checkpoint ids would do; grants are few). */
  async function lastCheckpoint(id: string): Promise<number> {
    const docs = await deps.db.collection('job_checkpoints').find({ _id: { $regex: `^${escape(`${JOB}:${id}`)}@` } } as never).toArray();
    return docs.reduce((n, d) => Math.max(n, Number((d as { after?: string }).after ?? -1) + 1), 0);
  }

  return {
    init: async () => {
      await Promise.all([ensureCollection(grantsModel), ensureCollection(chunksModel)]);
    },

    /**
     * Grants a benefit to listed members or to a lifecycle segment, once per member; answers at once with the grant's
     * progress while it runs in the background (resumed by the sweeper if this process dies).
     * Errors: 404 (benefit), 409 IDEMPOTENCY_KEY_REUSED.
     */
    async create(
      caller: Caller,
      input: { benefitCode: string; memberIds?: string[] | undefined; segment?: Segment | undefined; note?: string | undefined },
      idem: IdempotencyInfo | undefined,
      requestId?: string,
    ) {
      if (!idem) throw new AppError(500, 'INTERNAL', 'idempotency info missing', undefined, false);
      const id = `g_${createHash('sha256').update(idem.scope).digest('base64url').slice(0, 22)}`;
      const change = {
        kind: 'benefit-grant.create', key: id, actor: caller, action: 'benefit-grant.create', target: { type: 'benefit-grant', id },
        before: input, reason: input.note, requestId, outcome: (g: GrantDoc) => ({ after: grantAudit(g) }),
      };
      const grant = await deps.audit.audited(change, async () => {
        const found = await grants.findOne({ _id: id });
        if (found && found.fingerprint !== idem.fingerprint) throw conflict('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
        if (found) return found;
        await deps.getBenefit(input.benefitCode);
        const now = clock.now();
        const members = input.segment ? await deps.segments.membersIn(input.segment, now) : [...new Set(input.memberIds ?? [])].sort();
        const count = Math.ceil(members.length / CHUNK);
        for (let c = 0; c < count; c++) await insertOnce(chunks, { _id: `${id}#${c}`, members: members.slice(c * CHUNK, (c + 1) * CHUNK) });
        const doc: GrantDoc = {
          _id: id, benefit: input.benefitCode, segment: input.segment ?? null, total: members.length, chunks: count, note: input.note ?? null,
          fingerprint: idem.fingerprint, actor: { role: caller.role, sub: caller.sub }, createdAt: now,
        };
        await deps.sweeper.owe([{ _id: `${KIND_GRANT}|${id}`, kind: KIND_GRANT, memberId: `grant:${id}`, dueAt: new Date(now.getTime() + RESUME_AFTER_MS), data: { id } }]);
        const created = (await insertOnce(grants, doc)) ? doc : await grants.findOne({ _id: id });
        if (!created) throw new Error(`grant ${id} was recorded but cannot be read`);
        if (created.fingerprint !== idem.fingerprint) throw conflict('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for a different request');
        return created;
      });
      void run(grant, caller).catch((err: unknown) => deps.logger.warn({ err, grant: id }, 'grant stopped; the sweeper resumes it'));
      return progress(grant);
    },

    async get(id: string) {
      const grant = await grants.findOne({ _id: id });
      if (!grant) throw notFound('grant');
      return progress(grant);
    },

    /** Waits for the grants this process runs (tests, shutdown). */
    settle: async () => {
      await Promise.allSettled([...running.values()]);
    },

    /**
     * Gives a member a benefit once per `grantId`, for another module (a referral reward: its grant id names the
     * referral and the side). Answers the redemption's id and status ('skipped': unknown or frozen member).
     * Errors: 404 NOT_FOUND (benefit).
     */
    async give(memberId: string, benefitCode: string, grantId: string, actor: Caller): Promise<{ redemptionId: string; status: string }> {
      const status = await grantTo(memberId, await deps.getBenefit(benefitCode), grantId, actor);
      return { redemptionId: grantRedemptionId(memberId, grantId), status };
    },

    /**
     * Takes back what `give` gave under `grantId` while its voucher is unused (cancelled: its stock goes back); a used
     * voucher stays used. Answers the status the redemption ends in ('none': nothing was given).
     */
    async revoke(memberId: string, grantId: string, actor: Caller): Promise<string> {
      const id = grantRedemptionId(memberId, grantId);
      const given = await deps.redemptionsRepo.get(id);
      if (!given) return 'none';
      if (statusOf(given) !== 'issued') return statusOf(given);
      try {
        return statusOf(await deps.redemptions.cancel(actor, id));
      } catch (err) {
        if (!(err instanceof AppError && err.status === 409)) throw err;
        const now = await deps.redemptionsRepo.get(id); // used (or cancelled) by someone else meanwhile
        return now ? statusOf(now) : 'none';
      }
    },

    /** A tier's welcome benefit, once per member and tier (`welcome:<tier>` is the grant). */
    welcome: async (memberId: string, tier: string, benefitCode: string) =>
      grantTo(memberId, await deps.getBenefit(benefitCode), `welcome:${tier}`, { role: 'service', sub: 'tiers' }),
  };
}
export type BenefitGrants = ReturnType<typeof benefitGrants>;

/** The redemption a grant gives a member: derived from both, so it is given once whoever runs the grant. */
const grantRedemptionId = (memberId: string, grantId: string) => redemptionId(memberId, derivedOpId('grant', grantId));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
