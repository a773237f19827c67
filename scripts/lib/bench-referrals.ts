/**
 * The benchmark's referral phase (issue 13, item 8): binds per second (POST /v1/me/referral/bind) and qualifying events
 * per second (each invitee's first order.paid, which qualifies its referral and pays both sides), at 32 connections,
 * once with the invitees spread over FEW_REFERRERS referrers and once over MANY_REFERRERS. Binds to one referrer
 * share its invitee counter chain (and a qualifying event its points account), so a few referrers show what that
 * contention costs. Every invitee is registered beforehand (not measured) and binds once; the qualifying events are
 * sent by the invitees whose binds were sent, each once. Afterwards the referrers' pending points (the program holds
 * rewards for 14 days) say how many referrals were paid.
 */
import { call, pool } from './api.js';
import { registerFresh, type FreshMembers } from './bench-checkins.js';
import type { HttpRun, HttpStats, Req } from './bench-redemptions.js';
import { REFERRAL_PROGRAM } from './load-referrals.js';

export const REFERRAL_CONNECTIONS = 32;
export const FEW_REFERRERS = 4;
export const MANY_REFERRERS = 256;
/** Points entries a paid referral writes: one earn for the referrer, one for the invitee (the points are pending). */
export const ENTRIES_PER_REFERRAL = 2;

export type ReferralCase = {
  referrers: number;
  binds: HttpStats;
  orders: HttpStats;
  /** Referrals paid, from the referrers' pending points ÷ the referrer's reward. */
  paid: number;
  registered: number;
  /** Bind requests that had to reuse an invitee because the pool ran out (their answers are refusals, not binds). */
  overdrawn: number;
};
export type ReferralFigures = {
  cases: ReferralCase[];
  /** Points entries the orders and the payouts wrote (`sent` counts orders whose answer was lost), for the bench's sanity count. */
  entries: { ok: number; sent: number };
  /** Every bind and order answered 2xx and every order paid its referral. */
  consistent: boolean;
};

async function ok(res: Promise<{ status: number; body: unknown }>, what: string, status = 200): Promise<unknown> {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Registers the referrers (before their invitees: only a member who joined earlier can refer) and reads their codes. */
async function registerReferrers(url: string, service: string, prefix: string, count: number): Promise<Array<{ id: string; code: string }>> {
  const referrers = Array.from({ length: count }, (_, i) => ({ id: `${prefix}${String(i + 1).padStart(6, '0')}`, code: '' }));
  await pool(referrers, 16, async (r) => {
    await ok(call(url, service, 'POST', '/v1/members', { memberId: r.id }), `registering ${r.id}`, 201);
    r.code = ((await ok(call(url, service, 'GET', `/v1/members/${r.id}/referral?limit=1`), `the code of ${r.id}`)) as { code: string }).code;
  });
  return referrers;
}

/** Σ pending points of the referrers: only referral rewards are pending here. */
async function pendingOf(url: string, service: string, ids: string[]): Promise<number> {
  let sum = 0;
  await pool(ids, 16, async (id) => {
    const { pending } = (await ok(call(url, service, 'GET', `/v1/members/${id}/points`), `the balance of ${id}`)) as { pending: number };
    sum += pending; // after the await: `sum += await …` would add to a stale sum
  });
  return sum;
}

/** An order.paid of 600 in apparel, as the bench's other events (with its rules set, they fire on it too). */
const orderOf = (memberId: string): Req => {
  const orderId = `ref-${memberId}`;
  return { method: 'POST', path: '/v1/events', body: { eventId: `paid-${orderId}`, memberId, type: 'order.paid', occurredAt: new Date().toISOString(), properties: { orderId, amount: 600, category: 'apparel' } } };
};

/**
 * Saves the scenario's referral program (scripts/lib/load-referrals.ts), registers the referrers and `poolSize` fresh
 * invitees per case, then measures, for each case, binds for `seconds` and the bound invitees' first orders. `httpRun`
 * is the bench's, settling after each run; `entriesPerOrder`: points entries an order.paid writes besides the
 * referral's (1 with the bench's order rules set, 0 without rules).
 */
export async function benchReferrals(
  url: string,
  tokens: { service: string; ops: string; secret: string },
  opts: { seconds: number; poolSize: number; entriesPerOrder: number; runId: string },
  httpRun: HttpRun,
): Promise<ReferralFigures> {
  await ok(call(url, tokens.ops, 'PUT', '/v1/admin/referral-program', REFERRAL_PROGRAM), 'saving the referral program');
  const setups = [];
  for (const [label, count] of [['few', FEW_REFERRERS], ['many', MANY_REFERRERS]] as const) {
    const referrers = await registerReferrers(url, tokens.service, `bref-${opts.runId}-${label}-`, count);
    setups.push({ referrers, count, invitees: (await registerFresh(url, tokens.service, tokens.secret, `bref-${opts.runId}-${label}-i-`, opts.poolSize)).pool });
  }
  const cases: ReferralCase[] = [];
  const entries = { ok: 0, sent: 0 };
  let consistent = true;
  for (const { referrers, count, invitees } of setups) {
    const built: Array<{ memberId: string; token: string }> = [];
    const bindOf = (members: FreshMembers) => (): Req => {
      const m = members.next();
      const code = (referrers[built.length % referrers.length] as { code: string }).code;
      built.push(m);
      return { method: 'POST', path: '/v1/me/referral/bind', token: m.token, body: { code } };
    };
    const pendingBefore = await pendingOf(url, tokens.service, referrers.map((r) => r.id));
    const binds = await httpRun(url, REFERRAL_CONNECTIONS, bindOf(invitees), { seconds: opts.seconds });
    // Requests are built in the order they are sent: the first `sent` invitees are the ones whose binds went out.
    const bound = built.slice(0, Math.min(binds.sent, invitees.size));
    if (bound.length === 0) throw new Error(`no bind was sent in ${opts.seconds} s`);
    let next = 0;
    const orders = await httpRun(url, REFERRAL_CONNECTIONS, () => orderOf((bound[next++ % bound.length] as { memberId: string }).memberId), { amount: bound.length });
    const paid = ((await pendingOf(url, tokens.service, referrers.map((r) => r.id))) - pendingBefore) / REFERRAL_PROGRAM.rewards.referrer.points;
    entries.ok += opts.entriesPerOrder * orders.ok + ENTRIES_PER_REFERRAL * paid;
    entries.sent += opts.entriesPerOrder * orders.sent + ENTRIES_PER_REFERRAL * paid;
    // Binds still in flight at the deadline land before the orders (the run settles), so every order answered pays.
    consistent &&= binds.bad === 0 && orders.bad === 0 && invitees.overdrawn === 0 && paid === orders.ok;
    cases.push({ referrers: count, binds, orders, paid, registered: invitees.size, overdrawn: invitees.overdrawn });
  }
  return { cases, entries, consistent };
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const others = (s: HttpStats, expected: string) => Object.entries(s.statuses).filter(([k]) => k !== expected).map(([k, v]) => `${k} × ${v}`).join(', ') || 'none';

/** The phase's table for the bench's results, against the many-member earns and order.paid events of the same run (no target yet). */
export function referralsTable(f: ReferralFigures, earnRps: number, eventsRps: number): string[] {
  const ratio = (a: number, b: number) => (a && b ? a / b : NaN);
  const lines = [
    `\n### referrals (issue 13), against earn and order.paid events in this run (${REFERRAL_CONNECTIONS} connections; no target yet)\n`,
    '| measurement | referrers | /s | p50 ms | p99 ms | ÷ earn /s | ÷ events /s | answers other than 2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const c of f.cases) {
    lines.push(`| binds (POST /v1/me/referral/bind) | ${c.referrers} | ${f0(c.binds.rps)} | ${f1(c.binds.p50)} | ${f1(c.binds.p99)} | ${f2(ratio(c.binds.rps, earnRps))} | ${f2(ratio(c.binds.rps, eventsRps))} | ${others(c.binds, '201')} |`);
  }
  for (const c of f.cases) {
    lines.push(`| qualifying events (first order.paid) | ${c.referrers} | ${f0(c.orders.rps)} | ${f1(c.orders.p50)} | ${f1(c.orders.p99)} | ${f2(ratio(c.orders.rps, earnRps))} | ${f2(ratio(c.orders.rps, eventsRps))} | ${others(c.orders, '201')} |`);
  }
  for (const c of f.cases) {
    const overdrawn = c.overdrawn ? `; THE POOL RAN OUT: ${c.overdrawn} binds reused an invitee` : '';
    lines.push(`- ${c.referrers} referrers: ${c.registered} invitees registered (not measured), ${c.binds.statuses['201'] ?? 0} binds answered 201 (${c.binds.sent} sent), ${c.orders.ok} first orders answered 201, ${c.paid} referrals paid${overdrawn}`);
  }
  lines.push(`- every bind and order answered and every order paid its referral: ${f.consistent ? 'yes' : 'NO'}`);
  return lines;
}
