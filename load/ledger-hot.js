// k6: one hot account. Many VUs earn and spend on the same member at once, the case where writers race for the
// account's next seq (PRODUCT.md §4). Spends may be refused with 409 INSUFFICIENT_POINTS; that is an answer.
// Run it through `npm run load -- --scenario hot`, which seeds the member and checks the invariants afterwards.
//
// Environment: BASE_URL (loopback only), SERVICE_TOKEN, HOT_MEMBER, VUS (64), DURATION (30s).
import { constantVus, earn, randomInt, spend } from './lib/ledger.js';

const MEMBER = __ENV.HOT_MEMBER || 'load-hot';

export const options = constantVus('hot', 64);

export default function () {
  if (Math.random() < 0.6) earn(MEMBER, randomInt(1, 100));
  else spend(MEMBER, randomInt(1, 120));
}
