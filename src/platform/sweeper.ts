import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Clock } from './clock.js';
import { ensureCollection, insertOnce } from './db/connection.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * Work owed from a time on: a lot that comes due, a hold that times out, a flow of several steps (a make-up, a task
 * payout) that its request may not live to finish. Written before the step that creates the work, so a crash at any
 * later point leaves the record behind; removed once the work is done. The `_id` embeds the member id, so it stays
 * unique on a cluster sharded by `memberId` (docs/SCALING.md).
 */
export type DueRecord = { _id: string; kind: string; memberId: string; dueAt: Date; data: Record<string, unknown>; createdAt: Date };
/** Finishes or undoes the work a record stands for; must be safe to run again (a sweep that dies is re-run). */
export type DueHandler = (record: DueRecord) => Promise<void>;

/** Records read per query of a sweep, and handled at once. */
const BATCH = 200;
const PARALLEL = 8;
/** Sweep run claims kept (older ones are deleted by the run that claims a new one). */
const RUNS_KEPT = 10;

/**
 * The one sweeper of the service. Every instance runs a timer, but each tick is claimed by a unique insert, so one
 * process sweeps per interval, and a run stops taking new work at 80 % of the interval, so runs do not overlap. What a
 * run does not finish (it died, it ran out of time, a handler failed) stays recorded and is taken by the next run.
 * Runs, records done and failed, and durations are counted on /metrics (sweep_*).
 *
 *     const sweeper = createSweeper(db, clock, logger, metrics); sweeper.on('points.due', settle); const stop = sweeper.start(60_000);
 */
export function createSweeper(db: Connection, clock: Clock, logger: Logger, metrics: Pick<Metrics, 'sweepRuns' | 'sweepRecords' | 'sweepDuration'>) {
  const recordsModel = db.model('DueWork', new Schema({ dueAt: { type: Date, index: true } }, { collection: 'due_work', strict: false, versionKey: false }));
  const runsModel = db.model('SweepRun', new Schema({}, { collection: 'sweep_runs', strict: false, versionKey: false }));
  const records = recordsModel.collection as unknown as Collection<DueRecord>;
  const runs = runsModel.collection as unknown as Collection<{ _id: string; at: Date }>;
  const handlers = new Map<string, DueHandler>();
  /** Deletes under way (off the request path), so shutdown and tests can wait for them. */
  const discharging = new Set<Promise<void>>();

  async function handle(record: DueRecord): Promise<boolean> {
    const handler = handlers.get(record.kind);
    if (!handler) {
      metrics.sweepRecords.inc({ kind: record.kind, outcome: 'unhandled' });
      return false; // a kind this version does not know: leave it for one that does
    }
    try {
      await handler(record);
      await records.deleteOne({ _id: record._id });
      metrics.sweepRecords.inc({ kind: record.kind, outcome: 'done' });
      return true;
    } catch (err) {
      metrics.sweepRecords.inc({ kind: record.kind, outcome: 'failed' });
      logger.warn({ err, record: record._id }, 'due work failed; the next sweep takes it again');
      return false;
    }
  }

  /** Handles due records, oldest first, until none is left, the deadline passes or a whole batch failed. */
  async function sweep(opts: { kinds?: string[]; deadline?: number } = {}): Promise<{ done: number; failed: number }> {
    const stop = metrics.sweepDuration.startTimer();
    try {
      const result = await sweepDue(opts);
      metrics.sweepRuns.inc({ outcome: 'done' });
      return result;
    } catch (err) {
      metrics.sweepRuns.inc({ outcome: 'failed' });
      throw err;
    } finally {
      stop();
    }
  }

  async function sweepDue(opts: { kinds?: string[]; deadline?: number }): Promise<{ done: number; failed: number }> {
    const now = clock.now();
    const failed = new Set<string>();
    let done = 0;
    for (;;) {
      if (opts.deadline !== undefined && Date.now() >= opts.deadline) break;
      const filter = { dueAt: { $lte: now }, ...(opts.kinds ? { kind: { $in: opts.kinds } } : {}) };
      const batch = (await records.find(filter).sort({ dueAt: 1 }).limit(BATCH + failed.size).toArray()).filter((r) => !failed.has(r._id));
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i += PARALLEL) {
        const slice = batch.slice(i, i + PARALLEL);
        const results = await Promise.all(slice.map(handle));
        results.forEach((ok, j) => (ok ? done++ : failed.add((slice[j] as DueRecord)._id)));
        if (opts.deadline !== undefined && Date.now() >= opts.deadline) break;
      }
      if (batch.length < BATCH) break;
    }
    return { done, failed: failed.size };
  }

  /** One claimed tick of the timer: answers whether this process ran it. */
  async function tick(intervalMs: number): Promise<{ ran: boolean; done: number; failed: number }> {
    const n = Math.floor(clock.now().getTime() / intervalMs);
    if (!(await insertOnce(runs, { _id: `tick:${intervalMs}:${n}`, at: clock.now() }))) {
      metrics.sweepRuns.inc({ outcome: 'not_claimed' });
      return { ran: false, done: 0, failed: 0 };
    }
    void runs.deleteOne({ _id: `tick:${intervalMs}:${n - RUNS_KEPT}` }).catch(() => undefined);
    return { ran: true, ...(await sweep({ deadline: Date.now() + intervalMs * 0.8 })) };
  }

  return {
    init: async () => {
      await ensureCollection(recordsModel);
      await ensureCollection(runsModel);
    },

    /** Registers what finishes (or undoes) the work of a kind. */
    on(kind: string, handler: DueHandler): void {
      handlers.set(kind, handler);
    },

    /** Records work owed; awaited before the step that creates it. A record already there is fine. */
    async owe(owed: Array<Omit<DueRecord, 'createdAt'>>): Promise<void> {
      const createdAt = clock.now();
      await Promise.all(owed.map((r) => insertOnce(records, { ...r, createdAt })));
    },

    /** One record, if it is still owed: for a later step that finishes what an earlier one recorded. */
    get: (id: string): Promise<DueRecord | null> => records.findOne({ _id: id }),

    /**
     * Forgets a record whose work is done, without waiting: a record left behind (the delete failed, the process died)
     * only makes a sweep check the work again, which every handler does safely.
     */
    discharge(id: string): void {
      const p = records
        .deleteOne({ _id: id })
        .then(() => undefined, () => undefined)
        .finally(() => discharging.delete(p));
      discharging.add(p);
    },

    sweep,
    tick,

    /** Runs a claimed tick every `intervalMs` (0: never); the returned stop waits for a tick under way. */
    start(intervalMs: number): () => Promise<void> {
      if (intervalMs === 0) return async () => {};
      let running: Promise<unknown> | undefined;
      const timer = setInterval(() => {
        if (running) return;
        running = tick(intervalMs)
          .catch((err: unknown) => logger.warn({ err }, 'sweep failed; the next one resumes it'))
          .finally(() => (running = undefined));
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },

    /** Waits for the deletes under way (shutdown and tests). */
    flush: async () => {
      await Promise.all([...discharging]);
    },
  };
}
export type Sweeper = ReturnType<typeof createSweeper>;
