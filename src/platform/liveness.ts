import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection } from './db/connection.js';
import type { Logger } from './logger.js';

/** A process's heartbeat: `beat` grows every BEAT_MS while it lives; `stopped` once it shut down cleanly. */
type HeartbeatDoc = { _id: string; beat: number; at: Date; stopped: boolean };

const BEAT_MS = 1000;
/** A process whose beat this one has watched stand still this long is taken for dead (3 missed beats). */
const SILENCE_MS = 3000;
/**
 * A heartbeat older than this by the wall clock is dead at once, without watching it: a waiter meeting a chain of dead
 * claim owners does not pay SILENCE_MS for each. Clocks that disagree by more only make a live owner's work run twice,
 * which every layer below the claim makes harmless (op ids); within it, a live owner is never misjudged.
 */
const STALE_MS = 5000;
/** How often a waiter re-reads one owner's heartbeat. */
const RECHECK_MS = 250;

/**
 * Tells whether the process that owns something (an idempotency claim) is still alive, so work left by a dead one is
 * taken over within seconds instead of after a long lease, while a live one's slow work is never run twice. Each
 * process writes its own heartbeat document every second (a plain write: it decides nothing, only its writer writes
 * it); a watcher judges silence by its own monotonic clock, so clocks that disagree between machines do not matter.
 *
 *     const live = createLiveness(db, logger); await live.start(); ... await live.isGone(claim.owner); await live.stop();
 */
export function createLiveness(db: Connection, logger: Logger) {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const model = db.model('ProcessHeartbeat', new Schema({}, { collection: 'process_heartbeats', strict: false, versionKey: false }));
  const beats = model.collection as unknown as Collection<HeartbeatDoc>;
  let beat = 0;
  let timer: NodeJS.Timeout | undefined;
  /** What this process last saw of each other owner's beat, and since when (monotonic), to judge silence. */
  const seen = new Map<string, { beat: number; since: number; checked: number; gone: boolean }>();

  const write = (stopped = false) => beats.replaceOne({ _id: owner }, { beat: ++beat, at: new Date(), stopped }, { upsert: true });

  return {
    /** This process's name as an owner. */
    owner,
    init: () => ensureCollection(model),

    /** Writes the first beat (awaited: nothing is owned before it lands), then one every second. */
    async start(): Promise<void> {
      await write();
      timer = setInterval(() => {
        write().catch((err: unknown) => logger.debug({ err }, 'heartbeat write failed'));
      }, BEAT_MS);
      timer.unref();
    },

    /** Stops beating and says so, so waiters take over what this process leaves at once. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await write(true).catch(() => undefined);
    },

    /** Whether `other` is gone: stopped, unknown, stale, or silent for SILENCE_MS as watched from here. */
    async isGone(other: string): Promise<boolean> {
      if (other === owner) return false;
      const now = performance.now();
      const known = seen.get(other);
      if (known && (known.gone || now - known.checked < RECHECK_MS)) return known.gone;
      const doc = await beats.findOne({ _id: other });
      let gone: boolean;
      if (!doc || doc.stopped || Date.now() - doc.at.getTime() > STALE_MS) gone = true;
      else if (!known || known.beat !== doc.beat) {
        seen.set(other, { beat: doc.beat, since: now, checked: now, gone: false });
        return false;
      } else gone = now - known.since > SILENCE_MS;
      seen.set(other, { beat: doc?.beat ?? 0, since: known?.since ?? now, checked: now, gone });
      return gone;
    },
  };
}
export type Liveness = ReturnType<typeof createLiveness>;
