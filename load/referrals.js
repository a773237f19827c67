// k6: invite a friend under load (issue 13, item 8). A few referrers (registered by the runner, each from a device of
// its own) and many invitees: every iteration is a fresh invitee who
//   - registers with a referrer's code (`referralCode` on POST /v1/members), or registers and then binds the code as
//     the member (POST /v1/me/referral/bind, the code sometimes typed in lower case), each from a device and an IP
//     of its own; a bound invitee sometimes taps bind again (200, the same binding) or tries another referrer's
//     code (409 ALREADY_BOUND), and the referrer sometimes reads its page (GET /v1/me/referral);
//   - then orders, following a fixed deck of plans dealt by iteration number (so even a short run meets every state):
//     one qualifying order.paid (sometimes sent twice with the same eventId: the same answer), two qualifying orders
//     at once (exactly one qualifies), an order below the minimum (not qualified) before a qualifying one, an order
//     below the minimum only, no order, or a qualifying order then its full refund;
//   - in a fifth of the deck, binds from its referrer's own registration device (the `shared_device` guard), so its
//     qualifying order sends the referral to review, and ops approve it, reject it or leave it waiting — or the
//     refund rejects it.
// Each answer is checked against what the plan expects (the event's `effects.referral`, the approval's state and
// rewards); each invitee's expected final state is recorded as a sample of `referral_invitee` (tags invitee, referrer,
// state; `unknown` when a request got no answer). `npm run load -- --scenario referrals` sets the program and the
// referrers up, and afterwards reconciles, through the API, each referral's state with that expectation and each
// member's referral points with what the states say (scripts/lib/load-referrals.ts), then runs the ledger check.
//
// Environment: BASE_URL (loopback only), SERVICE_TOKEN, OPS_TOKEN, MEMBER_SECRET, MEMBER_PREFIX, RUN_ID, REFERRERS
// (JSON: [{id, code, device}]), MIN_AMOUNT, REFERRER_POINTS, INVITEE_POINTS (the program's), VUS (16), DURATION (30s).
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { BASE_URL, constantVus, randomInt, thresholds, unexpected } from './lib/ledger.js';
import { memberToken } from './lib/members.js';

const SERVICE = __ENV.SERVICE_TOKEN;
const OPS = __ENV.OPS_TOKEN;
const SECRET = __ENV.MEMBER_SECRET;
const RUN = __ENV.RUN_ID;
const REFERRERS = JSON.parse(__ENV.REFERRERS || '[]');
const MIN_AMOUNT = Number(__ENV.MIN_AMOUNT);
const REFERRER_POINTS = Number(__ENV.REFERRER_POINTS);
const INVITEE_POINTS = Number(__ENV.INVITEE_POINTS);
if (!OPS || !SECRET || !RUN || REFERRERS.length < 2 || !(MIN_AMOUNT > 1) || !REFERRER_POINTS || !INVITEE_POINTS) {
  throw new Error('OPS_TOKEN, MEMBER_SECRET, RUN_ID, REFERRERS (two or more), MIN_AMOUNT, REFERRER_POINTS and INVITEE_POINTS are required (scripts/load.ts sets them)');
}
const VIA_BIND_RATE = 0.5;
const LOWER_CASE_RATE = 0.2;
const BIND_AGAIN_RATE = 0.2;
const OTHER_CODE_RATE = 0.2;
const PAGE_READ_RATE = 0.1;
const REPLAY_RATE = 0.3;

/**
 * The deck, dealt by iteration number. `orders`: none, below (under the minimum only), one, twice (two at once),
 * below-then-one, refund (one, then refunded in full). `shared`: binds from the referrer's device (review);
 * `decision`: what ops do with it. The rarer plans come early, so a smoke run of a dozen iterations meets each state.
 */
const DECK = [
  { orders: 'one' },
  { orders: 'one', shared: true, decision: 'approve' },
  { orders: 'refund' },
  { orders: 'below' },
  { orders: 'twice' },
  { orders: 'one', shared: true, decision: 'reject' },
  { orders: 'none' },
  { orders: 'one', shared: true },
  { orders: 'below-then-one' },
  { orders: 'refund', shared: true },
  { orders: 'one' },
  { orders: 'twice' },
  { orders: 'one' },
  { orders: 'refund' },
  { orders: 'below' },
  { orders: 'one' },
  { orders: 'below-then-one' },
  { orders: 'one' },
  { orders: 'twice' },
  { orders: 'one' },
];

/** One sample per invitee when it starts (state `started`), one when its plan is done (the state it expects). */
const inviteeSamples = new Counter('referral_invitee');
const binds = new Counter('referral_binds');
const qualified = new Counter('referral_qualified');
const decisions = new Counter('referral_decisions');

const base = constantVus('referrals', 16);
export const options = {
  ...base,
  thresholds: {
    ...thresholds,
    referral_qualified: ['count>0'],
    // Registering with a code, binding and a qualifying event are each a dozen or more writes on 2 shared cores.
    'http_req_duration{name:register}': ['p(95)<3000'],
    'http_req_duration{name:order}': ['p(95)<3000'],
  },
};

/** A request got no answer (transport error, 5xx): the invitee's final state cannot be predicted. */
const LOST = new Error('no answer');
const lost = (res) => res.status === 0 || res.status >= 500;
const errorCode = (res) => {
  try {
    return res.json('error.code');
  } catch {
    return undefined;
  }
};
/** Records whether `res` is what the plan expects; aborts the plan when it got no answer. */
function expect(res, name, ok) {
  const passed = !lost(res) && ok(res);
  check(res, { [name]: () => passed });
  unexpected.add(!passed);
  if (lost(res)) throw LOST;
  return passed;
}

const headers = (token, key) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) });
const request = (method, path, token, body, name, key) => ({
  method,
  url: `${BASE_URL}${path}`,
  body: body === undefined ? null : JSON.stringify(body),
  params: { headers: headers(token, key), tags: { name } },
});
const send = (r) => http.request(r.method, r.url, r.body, r.params);

/** A device and an IP of this invitee's own: the fraud guards count per device and per IP. */
function deviceOf(n) {
  const ip = `fd00:${RUN.slice(0, 4)}:${RUN.slice(4, 8)}::${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  return { id: `${RUN}-d-${n}`, ip };
}

function register(invitee, referrer, device, withCode) {
  const body = { memberId: invitee, displayName: `Friend ${invitee.slice(-6)}`, device, ...(withCode ? { referralCode: referrer.code } : {}) };
  const res = send(request('POST', '/v1/members', SERVICE, body, 'register'));
  expect(res, withCode ? 'register with a code: 201 bound' : 'register: 201', (r) => r.status === 201 && (!withCode || r.json('referral.bound') === true));
}

function bind(token, code, device, name) {
  return send(request('POST', '/v1/me/referral/bind', token, { code, ...(device ? { device } : {}) }, name));
}

/** Registers the invitee and binds it to the referrer, from its own device or (shared) the referrer's. */
function join(n, invitee, token, referrer, shared) {
  const own = deviceOf(n);
  const device = shared ? { id: referrer.device, ip: own.ip } : own;
  if (Math.random() < VIA_BIND_RATE) {
    register(invitee, referrer, own, false);
    const code = Math.random() < LOWER_CASE_RATE ? referrer.code.toLowerCase() : referrer.code;
    const res = bind(token, code, shared ? device : undefined, 'bind');
    expect(res, 'bind: 201 bound to the referrer', (r) => r.status === 201 && r.json('referral.state') === 'bound' && r.json('referral.referrer') === referrer.id);
    if (Math.random() < BIND_AGAIN_RATE) {
      const again = bind(token, referrer.code, undefined, 'bind again');
      expect(again, 'bind again: 200, the same binding', (r) => r.status === 200 && r.json('referral.referrer') === referrer.id && r.json('referral.boundAt') === res.json('referral.boundAt'));
    }
  } else {
    register(invitee, referrer, device, true);
  }
  binds.add(1);
  if (Math.random() < OTHER_CODE_RATE) {
    const other = REFERRERS.find((r) => r.id !== referrer.id);
    const res = bind(token, other.code, undefined, 'bind another');
    expect(res, 'bind another code: 409 ALREADY_BOUND', (r) => r.status === 409 && errorCode(r) === 'ALREADY_BOUND');
  }
  if (Math.random() < PAGE_READ_RATE) {
    const res = send(request('GET', '/v1/me/referral?limit=5', memberToken(SECRET, referrer.id), undefined, 'referrer page'));
    expect(res, 'referrer page: 200 with its code', (r) => r.status === 200 && r.json('code') === referrer.code);
  }
}

const orderEvent = (invitee, amount) => {
  const orderId = crypto.randomUUID();
  return { eventId: `paid-${orderId}`, memberId: invitee, type: 'order.paid', occurredAt: new Date().toISOString(), properties: { orderId, amount, category: 'apparel' } };
};
const orderRequest = (event) => request('POST', '/v1/events', SERVICE, event, 'order');
const effectOf = (res) => {
  try {
    return res.json('effects.referral.0') || {};
  } catch {
    return {};
  }
};
const rewardsPaid = (e) => e.rewards && e.rewards.referrer.points === REFERRER_POINTS && e.rewards.invitee.points === INVITEE_POINTS;

/** What a qualifying event must answer: paid at once, or in review for the shared device. */
function qualifiedAs(res, shared) {
  const e = effectOf(res);
  if (res.status !== 201 || e.outcome !== 'qualified') return false;
  return shared ? e.state === 'review' && e.reviewReasons.includes('shared_device') && e.rewards === null : e.state === 'rewarded' && rewardsPaid(e);
}

function belowMinimum(invitee) {
  const res = send(orderRequest(orderEvent(invitee, randomInt(1, MIN_AMOUNT - 1))));
  expect(res, 'order below the minimum: 201 not-qualified, still bound', (r) => r.status === 201 && effectOf(r).outcome === 'not-qualified' && effectOf(r).state === 'bound');
}

/** The invitee's qualifying order; answers its event. */
function qualifyingOrder(invitee, shared) {
  const event = orderEvent(invitee, randomInt(MIN_AMOUNT, 5 * MIN_AMOUNT));
  const res = send(orderRequest(event));
  expect(res, shared ? 'qualifying order: 201 qualified, review (shared_device)' : 'qualifying order: 201 qualified, rewarded', (r) => qualifiedAs(r, shared));
  qualified.add(1);
  if (Math.random() < REPLAY_RATE) {
    const again = send(orderRequest(event));
    expect(again, 'order replay: 201 Idempotent-Replayed, the same answer', (r) => r.status === 201 && r.headers['Idempotent-Replayed'] === 'true' && r.body === res.body);
  }
  return event;
}

/** Two qualifying orders at once: both answered, exactly one qualifies the referral. */
function twoOrders(invitee, shared) {
  const answers = http.batch([orderEvent(invitee, MIN_AMOUNT), orderEvent(invitee, 2 * MIN_AMOUNT)].map((e) => {
    const r = orderRequest(e);
    return [r.method, r.url, r.body, r.params];
  }));
  answers.forEach((r) => {
    if (lost(r)) expect(r, 'two orders at once: answered', () => false);
  });
  const won = answers.filter((r) => effectOf(r).outcome === 'qualified');
  const other = answers.filter((r) => effectOf(r).outcome === 'not-qualified');
  const ok = won.length === 1 && other.length === 1 && qualifiedAs(won[0], shared);
  check(answers, { 'two orders at once: one qualified, the other not-qualified': () => ok });
  unexpected.add(!ok);
  if (won.length > 0) qualified.add(1);
}

function refund(invitee, event, shared) {
  const body = { eventId: `refund-${event.properties.orderId}`, memberId: invitee, type: 'order.refunded', occurredAt: new Date().toISOString(), properties: { orderId: event.properties.orderId, amount: event.properties.amount } };
  const res = send(request('POST', '/v1/events', SERVICE, body, 'refund'));
  const outcome = shared ? 'rejected' : 'reversed';
  expect(res, `full refund of the qualifying order: 201, ${outcome}`, (r) => r.status === 201 && effectOf(r).outcome === outcome && effectOf(r).state === outcome);
}

function decide(invitee, decision) {
  const path = `/v1/admin/referrals/${encodeURIComponent(invitee)}/${decision}`;
  const res = send(request('POST', path, OPS, { note: `load ${decision}` }, `referral ${decision}`, crypto.randomUUID()));
  const state = decision === 'approve' ? 'rewarded' : 'rejected';
  const paid = (r) => (decision === 'approve' ? r.json('referral.rewards') !== null && r.json('referral.rewards.referrer.points') === REFERRER_POINTS : r.json('referral.rewards') === null);
  expect(res, `${decision}: 200 ${state}`, (r) => r.status === 200 && r.json('referral.state') === state && paid(r));
  decisions.add(1, { decision });
}

/** Plays the plan through; answers the state the referral must end in. */
function play(plan, n, invitee, token, referrer) {
  const shared = plan.shared === true;
  join(n, invitee, token, referrer, shared);
  if (plan.orders === 'none') return 'bound';
  if (plan.orders === 'below' || plan.orders === 'below-then-one') belowMinimum(invitee);
  if (plan.orders === 'below') return 'bound';
  if (plan.orders === 'twice') twoOrders(invitee, shared);
  else {
    const event = qualifyingOrder(invitee, shared);
    if (plan.orders === 'refund') {
      refund(invitee, event, shared);
      return shared ? 'rejected' : 'reversed';
    }
  }
  if (!shared) return 'rewarded';
  if (plan.decision) decide(invitee, plan.decision);
  return plan.decision === 'approve' ? 'rewarded' : plan.decision === 'reject' ? 'rejected' : 'review';
}

export default function () {
  const n = exec.scenario.iterationInTest;
  const plan = DECK[n % DECK.length];
  const referrer = REFERRERS[randomInt(0, REFERRERS.length - 1)];
  const invitee = `${__ENV.MEMBER_PREFIX}i-${String(n + 1).padStart(6, '0')}`;
  const tags = { invitee, referrer: referrer.id };
  inviteeSamples.add(1, { ...tags, state: 'started' });
  let state;
  try {
    state = play(plan, n, invitee, memberToken(SECRET, invitee), referrer);
  } catch (err) {
    if (err !== LOST) throw err;
    state = 'unknown';
  }
  inviteeSamples.add(1, { ...tags, state });
}
