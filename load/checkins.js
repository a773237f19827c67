// k6: members checking in for the day (PRODUCT.md §7), many at once, the way a phone app taps: each iteration takes a
// member no iteration used before (a member checks in once a day, and the run is on the real clock) and
//   - taps check-in; a tap that gets no answer (transport error, 5xx) is retried with the same Idempotency-Key;
//   - in 20 % of iterations re-sends the answered tap with the same key: it must replay the answer (201,
//     Idempotent-Replayed: true, the same body);
//   - in 10 % taps again with a new key: it must be 409 ALREADY_CHECKED_IN;
//   - in 10 % of iterations, instead, fires a burst of concurrent taps with distinct keys (http.batch): exactly one
//     may be 201, every other one must be 409 ALREADY_CHECKED_IN.
// The points each member was paid (as its 201 said) are recorded per member (`checkin_points`, tag `member`);
// `npm run load -- --scenario checkins` seeds the members, reads them back from k6's JSON output and checks every
// member's balance against them, then runs the ledger check.
//
// Environment: BASE_URL (loopback only), SERVICE_TOKEN, MEMBER_SECRET (the HS256 secret of the service the runner
// started, fresh per run, to mint member tokens), MEMBERS (how many fresh members were seeded; the run stops early
// when it has used them all), MEMBER_PREFIX, VUS (16), DURATION (30s).
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { BASE_URL, duration, memberId, pointsEarned, summaryTrendStats, thresholds, unexpected } from './lib/ledger.js';
import { memberToken } from './lib/members.js';

const MEMBERS = Number(__ENV.MEMBERS || 200);
const SECRET = __ENV.MEMBER_SECRET;
if (!SECRET) throw new Error('MEMBER_SECRET is required (scripts/load.ts passes the secret of the service it started)');
const REPLAY_RATE = 0.2;
const SECOND_TAP_RATE = 0.1;
const BURST_RATE = 0.1;
const BURST_SIZE = 4;
/** Attempts of a tap that got no answer, all with the same key, as a client that lost its connection would. */
const ATTEMPTS = 3;

/** Points the member's check-in paid as its 201 reported them: the cycle day, milestones, rules and tasks. */
const checkinPoints = new Counter('checkin_points');
/** Members whose tap never got an answer after every attempt: their balance cannot be predicted. */
const checkinUnknown = new Counter('checkin_unknown');
const burstOutcomes = new Counter('checkin_burst_taps');
/** Check-ins answered 201: a run in which none landed (say, every iteration threw) must not pass. */
const checkedIn = new Counter('checkins_ok');

export const options = {
  scenarios: {
    checkins: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 16),
      iterations: MEMBERS,
      maxDuration: duration(__ENV.DURATION, '30s'),
      gracefulStop: '10s',
    },
  },
  thresholds: {
    ...thresholds,
    checkins_ok: ['count>0'],
    // A check-in is about ten database round trips plus the events pipeline; on 2 shared cores at 16 VUs a tap
    // takes a few hundred ms. The bound catches a regression by an order of magnitude, not noise.
    'http_req_duration{name:checkin}': ['p(95)<3000'],
  },
  summaryTrendStats,
};

const tap = (token, key, name) => ({
  method: 'POST',
  url: `${BASE_URL}/v1/me/checkins`,
  body: null,
  params: { headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': key }, tags: { name } },
});
const send = (req) => http.request(req.method, req.url, req.body, req.params);
const answered = (res) => res.status === 201 || res.status === 409;
const errorCode = (res) => {
  try {
    return res.json('error.code');
  } catch {
    return undefined;
  }
};
const alreadyChecked = (res) => res.status === 409 && errorCode(res) === 'ALREADY_CHECKED_IN';
/** What a 201 says it paid into the points ledger. */
function paid(res) {
  const b = res.json();
  const rules = (b.ruleRewards || []).reduce((s, r) => s + r.points, 0);
  const tasks = (b.tasks || []).reduce((s, t) => s + (t.reward ? t.reward.points : 0), 0);
  return b.reward.points + rules + tasks;
}
function credit(member, res) {
  checkedIn.add(1);
  const points = paid(res);
  checkinPoints.add(points, { member });
  pointsEarned.add(points);
}

/**
 * The first tap of a fresh member, retried with its key while it gets no answer. Returns the last answer, or
 * undefined when the outcome is unknown (no attempt answered 201 and at least one got no answer, so the check-in may
 * have landed).
 */
function firstTap(member, token) {
  const req = tap(token, crypto.randomUUID(), 'checkin');
  let res;
  let lost = false;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    res = send(req);
    if (answered(res)) break;
    lost = true;
  }
  const ok = res.status === 201;
  check(res, { 'checkin: 201 for a fresh member': () => ok });
  unexpected.add(!ok);
  if (!ok && lost) {
    checkinUnknown.add(1, { member });
    return undefined;
  }
  return { req, res };
}

function tapAndRetry(member, token) {
  const first = firstTap(member, token);
  if (!first || first.res.status !== 201) return;
  credit(member, first.res);
  if (Math.random() < REPLAY_RATE) {
    const replay = send({ ...first.req, params: { ...first.req.params, tags: { name: 'checkin replay' } } });
    const ok = replay.status === 201 && replay.headers['Idempotent-Replayed'] === 'true' && replay.body === first.res.body;
    check(replay, { 'checkin replay: 201 Idempotent-Replayed, same body': () => ok });
    unexpected.add(!ok);
  }
  if (Math.random() < SECOND_TAP_RATE) {
    const again = send(tap(token, crypto.randomUUID(), 'checkin again'));
    check(again, { 'checkin again: 409 ALREADY_CHECKED_IN': alreadyChecked });
    unexpected.add(!alreadyChecked(again));
  }
}

/** Concurrent taps with distinct keys: the day is paid once, every other tap is told it is already checked. */
function burst(member, token) {
  const taps = Array.from({ length: BURST_SIZE }, () => tap(token, crypto.randomUUID(), 'checkin burst'));
  const answers = http.batch(taps.map((t) => [t.method, t.url, t.body, t.params]));
  const won = answers.filter((r) => r.status === 201);
  const ok = won.length === 1 && answers.every((r) => r.status === 201 || alreadyChecked(r));
  check(answers, { [`checkin burst: one 201, ${BURST_SIZE - 1} × 409 ALREADY_CHECKED_IN`]: () => ok });
  for (const r of answers) {
    unexpected.add(!(r.status === 201 || alreadyChecked(r)));
    burstOutcomes.add(1, { status: String(r.status) });
  }
  // Never more than one winner is credited: a second 201 would be the bug the check reports, not points to expect.
  if (won.length >= 1) credit(member, won[0]);
  else if (!answers.every(answered)) checkinUnknown.add(1, { member });
}

export default function () {
  const member = memberId(exec.scenario.iterationInTest + 1);
  const token = memberToken(SECRET, member);
  if (Math.random() < BURST_RATE) burst(member, token);
  else tapAndRetry(member, token);
}
