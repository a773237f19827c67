/**
 * The store scripts/bench-stats.ts times the stats over: members, their points ledgers, check-ins, tier changes,
 * referrals and redemptions over `days` days up to `end`, written straight through the driver in batches.
 *
 * What is real and what is synthetic (docs/ANALYTICS.md, "The benchmark"):
 * - points entries are made by the ledger's own pure functions (earn, spend, hold and capture, adjustments, and the
 *   expiry of each lot once it is due, as the sweep writes it), each carrying the state after it, with the accounts
 *   cache and the due records of every lot still holding points: `ledger:check` passes on the store;
 * - check-ins are made by the check-in rules (checkins.state.ts) with the default program, and each pays its points
 *   through an earn entry, as a check-in does;
 * - tier changes, referral bindings and steps, and redemptions with their steps are plausible documents of the shapes
 *   the modules write, but not the outcome of running them: tiers are decided on points earned, not growth (no growth
 *   ledger is written), referral rewards are not paid on the ledger, and a redemption's points are the hold and capture
 *   of its member's ledger but its voucher and stock are not kept (the benefits check would flag them).
 * Everything is drawn from a seeded generator, so a size and a seed give the same store.
 */
import { createHash } from 'node:crypto';
import type { Db, Document } from 'mongodb';
import { calendar } from '../../src/platform/calendar.js';
import { checkIn, emptyState as emptyCheckins, type CheckinState } from '../../src/modules/checkins/checkins.state.js';
import { dueKindOf, dueRecordId, entryId, type EntryDoc } from '../../src/modules/ledger/ledger.model.js';
import * as rules from '../../src/modules/ledger/ledger.state.js';

const DAY = 86_400_000;
const CHECKIN_PROGRAM = { cycle: [5, 5, 10, 5, 5, 10, 30], milestones: [{ streak: 30, points: 100, growth: 0 }], growthPerCheckin: 1, makeup: { cost: 20, perMonth: 2 } };
export const BENCH_BENEFITS = ['bench-coffee', 'bench-tote', 'bench-movie', 'bench-lounge', 'bench-shipping'];
const TIERS: Array<[number, string]> = [[1000, 'SILVER'], [3000, 'GOLD']];

/** mulberry32: a small seeded generator, so a seed gives the same store. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** Inserts documents in batches of `size`, one collection each. */
class Batches {
  private readonly pending = new Map<string, Document[]>();
  readonly counts: Record<string, number> = {};
  constructor(private readonly db: Db, private readonly size = 2000) {}
  async add(collection: string, doc: Document): Promise<void> {
    const list = this.pending.get(collection) ?? [];
    list.push(doc);
    this.pending.set(collection, list);
    this.counts[collection] = (this.counts[collection] ?? 0) + 1;
    if (list.length >= this.size) await this.write(collection);
  }
  private async write(collection: string): Promise<void> {
    const list = this.pending.get(collection) ?? [];
    this.pending.set(collection, []);
    if (list.length > 0) await this.db.collection(collection).insertMany(list, { ordered: true });
  }
  async flush(): Promise<void> {
    for (const c of [...this.pending.keys()]) await this.write(c);
  }
}

/** Lots expire at the end of the month 90 days after the earn (so a year of history sees lots come due). */
const expiryAfter = (t: number) => {
  const d = new Date(t + 90 * DAY);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - 1);
};

export type SeedOptions = { members: number; entries: number; days: number; end: Date; seed: number; timezone: string; log: (line: string) => void };

/** Seeds the store; answers how many documents of each collection it wrote. */
export async function seedStatsStore(db: Db, opts: SeedOptions): Promise<Record<string, number>> {
  const rng = generator(opts.seed);
  const cal = calendar(opts.timezone);
  const out = new Batches(db);
  const end = opts.end.getTime();
  const start = end - opts.days * DAY;
  const ids = Array.from({ length: opts.members }, (_, i) => `bench-${String(i).padStart(7, '0')}`);
  const registered = ids.map(() => start + Math.floor(rng.next() * 0.9 * (end - start)));
  await db.collection('tier_ladders').insertOne({
    _id: 1 as never,
    tiers: [{ code: 'BASE', name: 'Member', threshold: 0 }, { code: 'SILVER', name: 'Silver', threshold: 1000 }, { code: 'GOLD', name: 'Gold', threshold: 3000 }],
    policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 },
    updatedAt: new Date(start),
    actor: 'ops:bench',
  });
  let written = 0;
  for (const [i, memberId] of ids.entries()) {
    const reg = registered[i] as number;
    await out.add('members', { _id: memberId, displayName: null, birthday: null, timezone: opts.timezone, status: 'active', createdAt: new Date(reg), updatedAt: new Date(reg) });
    const quota = Math.floor(opts.entries / opts.members) + (i < opts.entries % opts.members ? 1 : 0);
    written += await seedMember(memberId, reg, quota);
    if (i > 0 && i % 10_000 === 0) opts.log(`  ${i} members, ${written} entries`);
    if (i % 20 === 1) await seedReferral(memberId, ids[i - 1] as string, Math.max(reg, registered[i - 1] as number));
  }
  await out.flush();
  return out.counts;

  async function seedMember(memberId: string, reg: number, quota: number): Promise<number> {
    let state = rules.emptyState();
    let seq = 0;
    let checkins: CheckinState = emptyCheckins();
    let checkinSeq = 0;
    let tierSeq = 0;
    let tier = 'BASE';
    let lastAt = reg;
    const put = async (draft: rules.Draft, at: number, code: string) => {
      seq++;
      lastAt = at;
      const doc: EntryDoc = {
        _id: entryId(memberId, seq), memberId, seq, opId: hash('bench', memberId, String(seq)), fingerprint: null, kind: draft.kind, amount: draft.amount, points: draft.points,
        code, ref: null, lots: draft.lots ?? [], holdId: draft.holdId ?? null, reverses: draft.reverses ?? null, expired: draft.expired ?? 0, expiresAt: draft.expiresAt ?? null,
        actor: { role: 'service', sub: 'bench' }, createdAt: new Date(at), state: draft.state,
      };
      state = draft.state;
      await out.add('points_entries', doc);
      for (const [threshold, to] of TIERS) {
        if (state.totals.earned >= threshold && tier !== to && TIERS.findIndex(([, c]) => c === to) > TIERS.findIndex(([, c]) => c === tier)) {
          tierSeq++;
          await out.add('tier_history', {
            _id: `${memberId}:${String(tierSeq).padStart(6, '0')}`, memberId, seq: tierSeq, from: tier, to, reason: `earned ${state.totals.earned}`, growth: state.totals.earned,
            ladderVersion: 1, at: new Date(at), validUntil: new Date(at + 365 * DAY),
          });
          tier = to;
        }
      }
    };
    /** The sweep: every lot due by `t` that still holds points expires a minute after it is due. */
    const expireDue = async (t: number) => {
      for (const lot of rules.dueWork(state, new Date(t)).lots) {
        const due = rules.parseLotId(lot).expiresAt?.getTime() ?? t;
        const draft = rules.expireLot(state, lot, new Date(Math.min(due + 60_000, t)));
        if (draft) await put(draft, Math.min(due + 60_000, t), 'expiry');
      }
    };
    const gap = (end - reg) / (quota + 1);
    let t = reg;
    while (seq < quota) {
      t = Math.min(t + Math.max(1000, Math.floor(gap * (0.2 + 1.6 * rng.next()))), end - 1000);
      await expireDue(t);
      if (seq >= quota) break;
      const roll = rng.next();
      const spendable = rules.spendable(state, new Date(t));
      if (roll < 0.17) {
        const today = cal.dayOf(t);
        if (checkins.lastDay === null || today > checkins.lastDay) {
          const { state: next, plan } = checkIn(checkins, { today, now: new Date(t), timezone: opts.timezone }, CHECKIN_PROGRAM);
          checkins = next;
          checkinSeq++;
          await out.add('checkin_log', {
            _id: `${memberId}#${String(checkinSeq).padStart(10, '0')}`, memberId, seq: checkinSeq, opId: hash('bench-checkin', memberId, today), fingerprint: null,
            kind: 'checkin', day: today, timezone: opts.timezone, plan, cost: 0, at: new Date(t), state: checkins,
          });
          // The day's points and any streak milestone, in one earn (the service writes one per milestone).
          await put(rules.earn(state, plan.points + plan.milestones.reduce((sum, m) => sum + m.points, 0), expiryAfter(t), new Date(t)), t, 'checkin');
          continue;
        }
      }
      if (roll >= 0.17 && roll < 0.42 && spendable >= 20) {
        await put(rules.spend(state, rng.int(10, Math.min(spendable, 300)), new Date(t)), t, 'redemption');
      } else if (roll >= 0.42 && roll < 0.5 && spendable >= 50 && seq + 2 <= quota) {
        const amount = rng.int(20, Math.min(spendable, 200));
        const holdId = entryId(memberId, seq + 1);
        await put(rules.hold(state, holdId, amount, new Date(t + 15 * 60_000), 'redemption', new Date(t)), t, 'redemption');
        await put(rules.resolveHold(state, holdId, amount, new Date(t + 60_000)), t + 60_000, 'redemption');
        await seedRedemption(memberId, holdId, amount, t);
        t += 60_000;
      } else if (roll >= 0.5 && roll < 0.53) {
        await put(rules.adjust(state, rng.int(5, 100), expiryAfter(t), new Date(t)), t, 'goodwill');
      } else {
        await put(rules.earn(state, rng.int(10, 500), expiryAfter(t), new Date(t)), t, 'order');
      }
    }
    await expireDue(end);
    if (seq > 0) {
      const last = entryId(memberId, seq);
      await out.add('points_accounts', { _id: memberId, seq, state, at: new Date(lastAt), updatedAt: new Date(lastAt) });
      for (const d of rules.dueItems(state)) {
        await out.add('due_work', { _id: dueRecordId('points', last, d.item), kind: dueKindOf('points'), memberId, dueAt: d.dueAt, data: {}, createdAt: new Date(lastAt) });
      }
    }
    return seq;
  }

  async function seedRedemption(memberId: string, holdId: string, points: number, t: number): Promise<void> {
    const id = `${memberId}:r:${hash('bench-redemption', holdId).slice(0, 22)}`;
    const benefit = BENCH_BENEFITS[rng.int(0, BENCH_BENEFITS.length - 1)] as string;
    await out.add('redemptions', {
      _id: id, memberId, benefit, benefitName: benefit, kind: 'coupon', quantity: 1, unitCost: points, points, fingerprint: 'bench', stocked: false, limit: null,
      voucherValidDays: 30, grant: null, actor: { role: 'member', sub: memberId }, createdAt: new Date(t),
    });
    await out.add('redemption_steps', { _id: `${id}#end`, memberId, step: 'end', outcome: 'issued', voucherCode: null, expiresAt: new Date(t + 30 * DAY), error: null, at: new Date(t + 60_000) });
    const fate = rng.next();
    const closeAt = fate < 0.6 ? t + rng.int(1, 20) * DAY : t + 30 * DAY + 60_000;
    if (fate < 0.8 && closeAt < end) {
      await out.add('redemption_steps', { _id: `${id}#close`, memberId, step: 'close', outcome: fate < 0.6 ? 'used' : 'expired', actor: { role: 'system', sub: 'bench' }, at: new Date(closeAt) });
    }
  }

  async function seedReferral(invitee: string, referrer: string, boundAt: number): Promise<void> {
    await out.add('referrals', {
      _id: invitee, referrer, code: 'BENCH', via: 'registration', attempt: hash('bench-bind', invitee), programVersion: 1, boundAt: new Date(boundAt),
      qualifyBy: new Date(boundAt + 30 * DAY), flags: [], deviceHash: null, ipHash: null,
    });
    const fate = rng.next();
    const step = async (name: string, at: number, fields: Document) => {
      if (at < end) await out.add('referral_steps', { _id: `${invitee}#${name}`, referral: invitee, step: name, at: new Date(at), ...fields });
    };
    if (fate < 0.3) return step('first', boundAt + 30 * DAY, { outcome: 'expired', scope: null, eventId: null, orderId: null, amount: null, occurredAt: null });
    const qualified = boundAt + rng.int(1, 20) * DAY;
    await step('first', qualified, { outcome: 'qualified', scope: 'bench', eventId: null, orderId: `SO-${invitee}`, amount: 100, occurredAt: new Date(qualified) });
    const review = fate > 0.9;
    await step('route', qualified, { to: review ? 'review' : 'pay', reasons: review ? ['ip_burst'] : [], month: new Date(qualified).toISOString().slice(0, 7) });
    if (review) return;
    await step('paid', qualified + 1000, { availableAt: new Date(qualified + 14 * DAY), referrer: { points: 300, entryId: null, benefitCode: null, redemptionId: null }, invitee: { points: 100, entryId: null, benefitCode: null, redemptionId: null } });
    await step('close', qualified + 14 * DAY, { outcome: 'settled' });
  }
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');
