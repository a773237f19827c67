// k6: the points mall under load (issue 12, item 8). Members earn, then redeem as members do from the app, each tap
// with its own Idempotency-Key:
//   - 30 % of redemptions go for the hot item: a flash sale with small stock and one unit per member, so it sells out
//     early and every later tap must be refused 409 OUT_OF_STOCK (or LIMIT_REACHED for a member who has one);
//   - the rest go for a long-tail catalogue (some items stocked, some unlimited), 1–3 units at a time;
//   - a tap that gets no answer (transport error, 5xx) is sent again with the same key, as a client that lost its
//     connection would; 10 % of answered taps are sent again with the same key and must answer the same redemption;
//   - 10 % of issued redemptions are cancelled by the member (points, stock and limit come back).
// 409 OUT_OF_STOCK, LIMIT_REACHED and INSUFFICIENT_POINTS are answers, not errors. `npm run load -- --scenario
// redemptions` defines the catalogue, seeds the members, and afterwards reconciles issued units with the stock taken
// (per benefit, from GET /v1/admin/redemptions and the stock's levels), the points k6 saw move with the balances, and
// runs the ledger and benefits checks.
//
// Environment: BASE_URL (loopback only), SERVICE_TOKEN, MEMBER_SECRET, MEMBERS (200), MEMBER_PREFIX, HOT_BENEFIT,
// TAIL_BENEFITS (comma-separated codes), VUS (16), DURATION (30s).
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { BASE_URL, constantVus, earn, memberId, pointsCaptured, randomInt, thresholds, unexpected } from './lib/ledger.js';
import { memberToken } from './lib/members.js';

const MEMBERS = Number(__ENV.MEMBERS || 200);
const SECRET = __ENV.MEMBER_SECRET;
const HOT = __ENV.HOT_BENEFIT;
const TAIL = (__ENV.TAIL_BENEFITS || '').split(',').filter(Boolean);
if (!SECRET || !HOT || TAIL.length === 0) throw new Error('MEMBER_SECRET, HOT_BENEFIT and TAIL_BENEFITS are required (scripts/load.ts sets them)');
const HOT_RATE = 0.3;
const REPLAY_RATE = 0.1;
const CANCEL_RATE = 0.1;
/** Attempts of a tap that got no answer, all with the same key. */
const ATTEMPTS = 3;
const REFUSALS = ['OUT_OF_STOCK', 'LIMIT_REACHED', 'INSUFFICIENT_POINTS'];

/** Units of issued redemptions as their 201s said (each redemption once), and of those the member cancelled. */
const redeemedUnits = new Counter('redeemed_units');
const cancelledUnits = new Counter('cancelled_units');
/** Points a cancellation gave back: the runner adds them to the balances it expects. */
const pointsRefunded = new Counter('points_refunded');
const refused = new Counter('redemptions_refused');
const hotIssued = new Counter('hot_issued');
/** Taps that never got an answer after every attempt: their outcome is unknown, so the unit counts cannot be compared. */
const unknownOutcome = new Counter('redemption_unknown');

const base = constantVus('redemptions', 16);
export const options = {
  ...base,
  thresholds: {
    ...thresholds,
    redeemed_units: ['count>0'],
    // A redemption is some ten writes (record, hold, stock, limit, voucher, end, capture) on 2 shared cores.
    'http_req_duration{name:redeem}': ['p(95)<3000'],
  },
};

const errorCode = (res) => {
  try {
    return res.json('error.code');
  } catch {
    return undefined;
  }
};
const answered = (res) => res.status !== 0 && res.status < 500;

function send(token, benefitCode, quantity, key, name) {
  return http.post(`${BASE_URL}/v1/me/redemptions`, JSON.stringify({ benefitCode, quantity }), {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    tags: { name },
  });
}

/** Taps "redeem", again with the same key while no answer comes; returns the last answer. */
function tap(token, benefitCode, quantity, key) {
  let res;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    res = send(token, benefitCode, quantity, key, 'redeem');
    if (answered(res)) break;
  }
  return res;
}

function cancel(token, redemption) {
  const res = http.post(`${BASE_URL}/v1/redemptions/${encodeURIComponent(redemption.id)}/cancel`, null, {
    headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': crypto.randomUUID() },
    tags: { name: 'cancel' },
  });
  const ok = res.status === 200 && res.json('redemption.status') === 'cancelled';
  check(res, { 'cancel: 200 cancelled': () => ok });
  unexpected.add(!ok);
  if (!ok) return;
  cancelledUnits.add(redemption.quantity);
  pointsRefunded.add(redemption.pointsSpent);
}

export default function () {
  const member = memberId(randomInt(1, MEMBERS));
  const token = memberToken(SECRET, member);
  earn(member, randomInt(50, 300));
  const hot = Math.random() < HOT_RATE;
  const benefitCode = hot ? HOT : TAIL[randomInt(0, TAIL.length - 1)];
  const quantity = hot ? 1 : randomInt(1, 3);
  const key = crypto.randomUUID();
  const res = tap(token, benefitCode, quantity, key);
  const issued = res.status === 201;
  const refusal = res.status === 409 && REFUSALS.includes(errorCode(res));
  check(res, { 'redeem: 201 or 409 OUT_OF_STOCK|LIMIT_REACHED|INSUFFICIENT_POINTS': () => issued || refusal });
  unexpected.add(!issued && !refusal);
  if (!answered(res)) unknownOutcome.add(1);
  if (refusal) refused.add(1, { code: errorCode(res) });
  if (!issued) return;
  const redemption = res.json('redemption');
  redeemedUnits.add(redemption.quantity);
  pointsCaptured.add(redemption.pointsSpent);
  if (hot) hotIssued.add(1);

  if (Math.random() < REPLAY_RATE) {
    const again = send(token, benefitCode, quantity, key, 'redeem replay');
    const same = again.status === 201 && again.headers['Idempotent-Replayed'] === 'true' && again.json('redemption.id') === redemption.id && again.json('redemption.voucherCode') === redemption.voucherCode;
    check(again, { 'redeem replay: 201 Idempotent-Replayed, the same redemption': () => same });
    unexpected.add(!same);
  }
  if (Math.random() < CANCEL_RATE) cancel(token, redemption);
}
