import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Clock } from './clock.js';
import { ensureCollection, insertOnce } from './db/connection.js';
import type { Metrics } from './metrics.js';

/** A run of a job: claimed by one runner per generation, done once `finishedAt` is recorded. */
type RunDoc = { _id: string; owner: string; leaseUntil: Date; startedAt: Date };
type DoneDoc = { _id: string; finishedAt: Date; result: unknown };
type CheckpointDoc = { _id: string; after: string; at: Date };

const LEASE_MS = 10 * 60_000;

export type JobContext = {
  /** Where a previous runner of this run stopped (the last item it finished), if it died part-way. */
  resumeAfter: string | undefined;
  /** Records progress, so a runner that takes over after a crash starts from here. */
  checkpoint(after: string): Promise<void>;
};

/**
 * Runs jobs at most once per run key across every process: a run is claimed by inserting `<job>:<key>#<generation>`
 * (a unique insert, the one atomic step every engine has); a second runner finds it taken and skips. If the owner dies,
 * its lease runs out and the next runner claims the next generation and resumes from the last checkpoint. Jobs must
 * be idempotent per item, since the item in flight at a crash is done again. Runs are counted by outcome on /metrics,
 * with their lag (claimed − due, when the caller says when the run was due) and duration.
 *
 *     const jobs = jobRunner(db, clock, 'api-1', metrics); await jobs.run('tiers.evaluate', '2026-12-31', (ctx) => ..., { dueAt });
 */
export function jobRunner(db: Connection, clock: Clock, owner: string, metrics: Pick<Metrics, 'jobRuns' | 'jobLag' | 'jobDuration'>) {
  const model = (name: string) => db.model(`Job${name}`, new Schema({}, { collection: `job_${name.toLowerCase()}`, strict: false, versionKey: false }));
  const models = { runs: model('Runs'), done: model('Done'), checkpoints: model('Checkpoints') };
  const runs = models.runs.collection as unknown as Collection<RunDoc>;
  const done = models.done.collection as unknown as Collection<DoneDoc>;
  const checkpoints = models.checkpoints.collection as unknown as Collection<CheckpointDoc>;

  async function lastCheckpoint(run: string): Promise<{ n: number; after: string | undefined }> {
    let n = 0;
    let after: string | undefined;
    for (;;) {
      const c = await checkpoints.findOne({ _id: `${run}@${n + 1}` });
      if (!c) return { n, after };
      n++;
      after = c.after;
    }
  }

  return {
    init: async () => {
      for (const m of Object.values(models)) await ensureCollection(m);
    },

    /**
     * Runs `job` for `key` unless it is done or another runner holds it. Answers what happened. `dueAt`: when the run
     * was due (a daily job's day start, a grant's asking), for the lag on /metrics.
     */
    async run<T>(job: string, key: string, work: (ctx: JobContext) => Promise<T>, opts: { dueAt?: Date } = {}): Promise<{ ran: boolean; result?: T; reason?: string }> {
      const run = `${job}:${key}`;
      const finished = await done.findOne({ _id: run });
      if (finished) {
        metrics.jobRuns.inc({ job, outcome: 'already_done' });
        return { ran: false, reason: 'already done' };
      }
      for (let gen = 1; gen <= 50; gen++) {
        const now = clock.now();
        if (!(await insertOnce(runs, { _id: `${run}#${gen}`, owner, startedAt: now, leaseUntil: new Date(now.getTime() + LEASE_MS) }))) {
          const holder = await runs.findOne({ _id: `${run}#${gen}` });
          if (holder && holder.leaseUntil.getTime() > clock.now().getTime()) {
            metrics.jobRuns.inc({ job, outcome: 'held' });
            return { ran: false, reason: `held by ${holder.owner}` };
          }
          continue; // its runner died: claim the next generation
        }
        if (opts.dueAt) metrics.jobLag.observe({ job }, Math.max(0, now.getTime() - opts.dueAt.getTime()) / 1000);
        const stop = metrics.jobDuration.startTimer({ job });
        try {
          let { n, after } = await lastCheckpoint(run);
          const result = await work({
            resumeAfter: after,
            checkpoint: async (item) => {
              n++;
              after = item;
              await insertOnce(checkpoints, { _id: `${run}@${n}`, after: item, at: clock.now() });
            },
          });
          await insertOnce(done, { _id: run, finishedAt: clock.now(), result: result ?? null });
          metrics.jobRuns.inc({ job, outcome: 'done' });
          return { ran: true, result };
        } catch (err) {
          metrics.jobRuns.inc({ job, outcome: 'failed' });
          throw err;
        } finally {
          stop();
        }
      }
      metrics.jobRuns.inc({ job, outcome: 'gave_up' });
      return { ran: false, reason: 'too many generations' };
    },
  };
}
export type JobRunner = ReturnType<typeof jobRunner>;

/**
 * Calls `work` every `intervalMs` (0 turns it off) without keeping the process alive; a failure goes to `onError` and
 * the next tick tries again. Returns the function that stops it.
 *
 *     const stop = every(60_000, () => ledger.sweep(), (err) => logger.warn({ err }, 'sweep failed'));
 */
export function every(intervalMs: number, work: () => Promise<unknown>, onError: (err: unknown) => void): () => void {
  if (intervalMs === 0) return () => {};
  const timer = setInterval(() => {
    work().catch(onError);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
