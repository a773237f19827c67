/**
 * The `referrals` load scenario's set-up and reconciliation (issue 13, item 8). Before k6: the referral program and a
 * few referrers, each registered from a device of its own, with their codes. After k6, through the API while the
 * service still runs: every referral of those referrers (GET /v1/admin/referrals?referrer=) must be in the state k6
 * expected for its invitee (the `referral_invitee` samples of load/referrals.js), and every referrer's and invitee's
 * referral points — the ledger entries with code `referral` and the reversals of those, and the pending balance —
 * must be exactly what those states pay: the program's reward per rewarded referral, paid and taken back once per
 * reversed one, nothing for the others.
 */
import { call, pool } from './api.js';
import { readSamples } from './k6.js';

/**
 * What the scenario runs under: a first order.paid of at least 100 qualifies; both sides are paid points held for 14
 * days (so a refund within the run reverses them, and they stay pending); no cap, no milestones. The fraud thresholds
 * are the defaults, and every invitee binds from a device and an IP of its own, so only the invitees k6 deliberately
 * binds from their referrer's device (`shared_device`) go to review.
 */
export const REFERRAL_PROGRAM = {
  active: true,
  qualifying: { eventType: 'order.paid', minAmount: 100, withinDays: 30 },
  rewards: { referrer: { points: 300 }, invitee: { points: 100 } },
  monthlyCap: null,
  milestones: [],
  holdDays: 14,
  fraud: { maxInviteesPerDevice: 1, maxBindsPerIpPerDay: 3 },
};
const REFERRER_POINTS = REFERRAL_PROGRAM.rewards.referrer.points;
const INVITEE_POINTS = REFERRAL_PROGRAM.rewards.invitee.points;
/** The states the scenario drives referrals to (qualified and expired would be a defect, or a run longer than 30 days). */
const STATES = ['rewarded', 'review', 'bound', 'reversed', 'rejected'] as const;

export type Referrer = { id: string; code: string; device: string };
type Tokens = { service: string; ops: string };
/** What k6 expected of each invitee it finished, and the invitees whose outcome it never learnt. */
export type Expectations = { expected: Map<string, { referrer: string; state: string }>; unknown: Set<string> };
type Listed = { invitee: string; referrer: string; state: string };

async function ok(res: Promise<{ status: number; body: unknown }>, what: string, status = 200): Promise<unknown> {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Saves the program (its next version) and registers `count` referrers named `<prefix>000001…`; answers them with their codes. */
export async function setUpReferrals(baseUrl: string, tokens: Tokens, prefix: string, count: number): Promise<Referrer[]> {
  await ok(call(baseUrl, tokens.ops, 'PUT', '/v1/admin/referral-program', REFERRAL_PROGRAM), 'saving the referral program');
  const referrers = Array.from({ length: count }, (_, i) => ({ id: `${prefix}${String(i + 1).padStart(6, '0')}`, code: '', device: `${prefix}device-${i + 1}` }));
  await pool(referrers, 4, async (r) => {
    await ok(call(baseUrl, tokens.service, 'POST', '/v1/members', { memberId: r.id, displayName: `Referrer ${r.id.slice(-6)}`, device: { id: r.device } }), `registering ${r.id}`, 201);
    r.code = ((await ok(call(baseUrl, tokens.service, 'GET', `/v1/members/${r.id}/referral?limit=1`), `the code of ${r.id}`)) as { code: string }).code;
  });
  return referrers;
}

/** The environment load/referrals.js reads, besides the runner's usual one. */
export const referralsEnv = (referrers: Referrer[], runId: string): Record<string, string> => ({
  REFERRERS: JSON.stringify(referrers),
  RUN_ID: runId,
  MIN_AMOUNT: String(REFERRAL_PROGRAM.qualifying.minAmount),
  REFERRER_POINTS: String(REFERRER_POINTS),
  INVITEE_POINTS: String(INVITEE_POINTS),
});

/** Reads k6's `referral_invitee` samples: an invitee started but never finished (k6 stopped it) is unknown. */
export async function readExpectations(samples: string): Promise<Expectations> {
  const expected = new Map<string, { referrer: string; state: string }>();
  const started = new Set<string>();
  for await (const { tags } of readSamples(samples, 'referral_invitee')) {
    const { invitee, referrer, state } = tags;
    if (!invitee || !referrer || !state) continue;
    if (state === 'started') started.add(invitee);
    else expected.set(invitee, { referrer, state });
  }
  const unknown = new Set([...started].filter((i) => (expected.get(i)?.state ?? 'unknown') === 'unknown'));
  for (const i of unknown) expected.delete(i);
  return { expected, unknown };
}

/** Every referral of the referrer, every page of the ops list. */
async function referralsOf(baseUrl: string, ops: string, referrer: string): Promise<Listed[]> {
  const items: Listed[] = [];
  let cursor: string | null = null;
  do {
    const page = (await ok(call(baseUrl, ops, 'GET', `/v1/admin/referrals?referrer=${referrer}&limit=100${cursor ? `&cursor=${cursor}` : ''}`), `the referrals of ${referrer}`)) as { items: Listed[]; nextCursor: string | null };
    items.push(...page.items.map((r) => ({ invitee: r.invitee, referrer: r.referrer, state: r.state })));
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

type Entry = { id: string; kind: string; points: number; code: string; ref: { type: string } | null; reverses: string | null };
/** A member's referral points in the ledger: paid (entries with code `referral`), taken back (their reversals), and pending. */
async function referralPoints(baseUrl: string, service: string, memberId: string): Promise<{ paid: number; reversed: number; pending: number }> {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  do {
    const page = (await ok(call(baseUrl, service, 'GET', `/v1/members/${memberId}/points/entries?kind=earn,reverse&limit=100${cursor ? `&cursor=${cursor}` : ''}`), `the entries of ${memberId}`)) as { items: Entry[]; nextCursor: string | null };
    entries.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const referral = entries.filter((e) => e.kind === 'earn' && e.code === 'referral' && e.ref?.type === 'referral');
  const ids = new Set(referral.map((e) => e.id));
  const reversed = entries.filter((e) => e.kind === 'reverse' && e.reverses !== null && ids.has(e.reverses)).reduce((s, e) => s + e.points, 0);
  const balance = (await ok(call(baseUrl, service, 'GET', `/v1/members/${memberId}/points`), `the balance of ${memberId}`)) as { pending: number };
  return { paid: referral.reduce((s, e) => s + e.points, 0), reversed, pending: balance.pending };
}

const some = (wrong: string[]) => `${wrong.slice(0, 10).join('; ')}${wrong.length > 10 ? ` and ${wrong.length - 10} more` : ''}`;

/**
 * Reconciles, through the API, the referrals of `referrers` with what k6 expected, and every member's referral points
 * with what the referral states pay. Answers the lines to print and the failures.
 */
export async function reconcileReferrals(baseUrl: string, tokens: Tokens, referrers: Referrer[], k6: Expectations): Promise<{ lines: string[]; failures: string[] }> {
  const listed: Listed[] = [];
  await pool(referrers, 4, async (r) => {
    listed.push(...(await referralsOf(baseUrl, tokens.ops, r.id)));
  });
  const wrongState: string[] = [];
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  for (const r of listed) {
    seen.add(r.invitee);
    counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    if (k6.unknown.has(r.invitee)) continue;
    const want = k6.expected.get(r.invitee);
    if (!want) wrongState.push(`${r.invitee}: listed under ${r.referrer} (${r.state}) but k6 never bound it`);
    else if (want.referrer !== r.referrer || want.state !== r.state) wrongState.push(`${r.invitee}: k6 expected ${want.state} under ${want.referrer}, the list says ${r.state} under ${r.referrer}`);
  }
  for (const [invitee, want] of k6.expected) if (!seen.has(invitee)) wrongState.push(`${invitee}: k6 expected ${want.state} under ${want.referrer}, not listed`);

  // What each member's referral points must be, from the states the list answered.
  const want = new Map<string, { paid: number; net: number }>(referrers.map((r) => [r.id, { paid: 0, net: 0 }]));
  for (const r of listed) {
    const paid = r.state === 'rewarded' || r.state === 'reversed' ? 1 : 0;
    const kept = r.state === 'rewarded' ? 1 : 0;
    const referrer = want.get(r.referrer) as { paid: number; net: number };
    referrer.paid += REFERRER_POINTS * paid;
    referrer.net += REFERRER_POINTS * kept;
    want.set(r.invitee, { paid: INVITEE_POINTS * paid, net: INVITEE_POINTS * kept });
  }
  const wrongPoints: string[] = [];
  const totals = { referrers: { paid: 0, reversed: 0, pending: 0 }, invitees: { paid: 0, reversed: 0, pending: 0 } };
  const referrerIds = new Set(referrers.map((r) => r.id));
  await pool([...want.keys()], 8, async (memberId) => {
    const got = await referralPoints(baseUrl, tokens.service, memberId);
    const w = want.get(memberId) as { paid: number; net: number };
    const side = referrerIds.has(memberId) ? totals.referrers : totals.invitees;
    side.paid += got.paid;
    side.reversed += got.reversed;
    side.pending += got.pending;
    if (got.paid !== w.paid || got.paid - got.reversed !== w.net || got.pending !== w.net) {
      wrongPoints.push(`${memberId}: referral points paid ${got.paid}, taken back ${got.reversed}, pending ${got.pending}; its referrals' states say paid ${w.paid}, kept ${w.net}`);
    }
  });

  const n = (s: string) => counts.get(s) ?? 0;
  const states = `${STATES.map((s) => `${s} ${n(s)}`).join(', ')}${[...counts.keys()].filter((s) => !(STATES as readonly string[]).includes(s)).map((s) => `, ${s} ${n(s)}`).join('')}`;
  const summary = `${listed.length} referrals of ${referrers.length} referrers: ${states}; ${k6.unknown.size} unknown to k6`;
  const lines: string[] = [];
  const failures: string[] = [];
  if (wrongState.length === 0 && listed.length > 0) lines.push(`referrals reconcile OK: ${summary}; every state is what k6 expected`);
  else failures.push(`referrals reconcile FAILED: ${summary}; ${listed.length === 0 ? 'no referral at all' : some(wrongState)}`);
  const side = (name: string, t: { paid: number; reversed: number; pending: number }, reward: number) =>
    `${name} paid ${t.paid} − taken back ${t.reversed} = ${t.paid - t.reversed} pending ${t.pending} (${reward} × ${n('rewarded')} rewarded, ${reward} × ${n('reversed')} reversed)`;
  const pointsLine = `${side('referrers', totals.referrers, REFERRER_POINTS)}; ${side('invitees', totals.invitees, INVITEE_POINTS)}`;
  if (wrongPoints.length === 0) lines.push(`referral points OK: ${pointsLine}`);
  else failures.push(`referral points FAILED: ${pointsLine}; ${some(wrongPoints)}`);
  return { lines, failures };
}
