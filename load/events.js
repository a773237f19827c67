// k6: the business backend reporting paid orders over many members, each event firing 2–3 earning rules (the runner
// configures them), with 10 % of events sent twice. Run it through `npm run load -- --scenario events`, which seeds
// the members, sets the rules and checks the invariants afterwards.
//
// Environment: BASE_URL (loopback only), SERVICE_TOKEN, MEMBERS (200), MEMBER_PREFIX, VUS (16), DURATION (30s).
import { constantVus, memberId, orderPaid, randomInt } from './lib/ledger.js';

const MEMBERS = Number(__ENV.MEMBERS || 200);

export const options = constantVus('events', 16);

export default function () {
  orderPaid(memberId(randomInt(1, MEMBERS)), randomInt(20, 900));
}
