// Shared by the k6 ledger scripts: the target (loopback only), the calls, and how their answers are judged.
//
// Every mutation carries its own Idempotency-Key. A business refusal the scenario expects (409 INSUFFICIENT_POINTS
// on a spend or a hold) is an answer, not an error; anything else that is not the success status counts as an
// unexpected response, and the scripts' thresholds keep those under 1 %.
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:3000';
if (!/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(BASE_URL)) {
  throw new Error(`BASE_URL must be a loopback address (http://127.0.0.1:<port>), got ${BASE_URL}`);
}
const TOKEN = __ENV.SERVICE_TOKEN;
if (!TOKEN) throw new Error('SERVICE_TOKEN is required (scripts/load.ts mints one)');

/** Points moved by successful commands as the client saw them; the runner compares them with the final balances. */
export const pointsEarned = new Counter('points_earned');
export const pointsSpent = new Counter('points_spent');
export const pointsCaptured = new Counter('points_captured');
/** Expected refusals, counted so the summary shows how often the scenario ran an account dry. */
export const insufficient = new Counter('insufficient_points');
/** 5xx, transport errors and any 4xx the scenario does not expect. */
export const unexpected = new Rate('unexpected_responses');

// 409 is an expected status for spends and holds; the check below tells INSUFFICIENT_POINTS from other conflicts.
http.setResponseCallback(http.expectedStatuses(200, 201, 409));

/** A duration from the environment: `30s`, `2m`, or a bare number of seconds. */
export const duration = (value, fallback) => (!value ? fallback : /^\d+$/.test(value) ? `${value}s` : value);

/** The thresholds every scenario holds a run to. */
export const thresholds = {
  unexpected_responses: ['rate<0.01'],
  http_req_failed: ['rate<0.01'],
  checks: ['rate>0.99'],
};

/** The trend statistics every scenario's summary reports (the runner reads p95 and p99 from it). */
export const summaryTrendStats = ['avg', 'med', 'p(95)', 'p(99)', 'max'];

/** The options of a scenario that keeps VUS virtual users (default `vus`) busy for DURATION (default 30 s). */
export const constantVus = (name, vus) => ({
  scenarios: {
    [name]: { executor: 'constant-vus', vus: Number(__ENV.VUS || vus), duration: duration(__ENV.DURATION, '30s'), gracefulStop: '10s' },
  },
  thresholds,
  summaryTrendStats,
});

export const memberId = (i) => `${__ENV.MEMBER_PREFIX || 'load-m-'}${String(i).padStart(6, '0')}`;
export const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));

const headers = (key) => ({
  Authorization: `Bearer ${TOKEN}`,
  'Content-Type': 'application/json',
  ...(key ? { 'Idempotency-Key': key } : {}),
});
const errorCode = (res) => {
  try {
    return res.json('error.code');
  } catch {
    return undefined;
  }
};

/** Records whether `res` is one of the answers the scenario accepts; returns true for the success status. */
function judge(res, name, success, allowedConflicts = []) {
  const ok = res.status === success;
  const refused = res.status === 409 && allowedConflicts.includes(errorCode(res));
  check(res, { [`${name}: ${success}${allowedConflicts.length ? ` or 409 ${allowedConflicts.join('|')}` : ''}`]: () => ok || refused });
  unexpected.add(!ok && !refused);
  if (refused) insufficient.add(1);
  return ok;
}

const post = (path, body, name) =>
  http.post(`${BASE_URL}${path}`, JSON.stringify(body), { headers: headers(crypto.randomUUID()), tags: { name } });

export function earn(member, amount) {
  const res = post(`/v1/members/${member}/points/earn`, { amount, code: 'order', ref: { type: 'order', id: crypto.randomUUID() } }, 'earn');
  if (judge(res, 'earn', 201)) pointsEarned.add(amount);
}

export function spend(member, amount) {
  const res = post(`/v1/members/${member}/points/spend`, { amount, code: 'redemption' }, 'spend');
  if (judge(res, 'spend', 201, ['INSUFFICIENT_POINTS'])) pointsSpent.add(amount);
}

/** Holds `amount` and captures part or all of it (the rest is released). */
export function holdAndCapture(member, amount) {
  const res = post(`/v1/members/${member}/points/holds`, { amount, code: 'redemption', ttlSeconds: 600 }, 'hold');
  if (!judge(res, 'hold', 201, ['INSUFFICIENT_POINTS'])) return;
  const holdId = res.json('hold.id');
  const capture = randomInt(1, amount);
  const captured = post(`/v1/points/holds/${holdId}/capture`, { amount: capture }, 'capture');
  if (judge(captured, 'capture', 201)) pointsCaptured.add(capture);
}

export function balance(member) {
  const res = http.get(`${BASE_URL}/v1/members/${member}/points`, { headers: headers(), tags: { name: 'balance' } });
  judge(res, 'balance', 200);
}

export function history(member) {
  const res = http.get(`${BASE_URL}/v1/members/${member}/points/entries?limit=20`, { headers: headers(), tags: { name: 'history' } });
  judge(res, 'history', 200);
}

/**
 * Reports an order.paid event (PRODUCT.md §5) and counts the points its rules paid; now and then sends the same event
 * again, which must answer the first result and pay nothing more.
 */
export function orderPaid(member, amount) {
  const orderId = crypto.randomUUID();
  const body = JSON.stringify({
    eventId: `paid-${orderId}`,
    memberId: member,
    type: 'order.paid',
    occurredAt: new Date().toISOString(),
    properties: { orderId, amount, category: Math.random() < 0.5 ? 'apparel' : 'grocery' },
  });
  const send = () => http.post(`${BASE_URL}/v1/events`, body, { headers: headers(), tags: { name: 'event' } });
  const res = send();
  if (!judge(res, 'event', 201)) return;
  pointsEarned.add((res.json('effects.points') || []).reduce((sum, p) => sum + p.points, 0));
  if (Math.random() < 0.1) {
    const replay = send();
    check(replay, { 'event replay: 201 Idempotent-Replayed, same effects': (r) => r.status === 201 && r.headers['Idempotent-Replayed'] === 'true' && r.body === res.body });
  }
}
