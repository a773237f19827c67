// k6: the ledger under a realistic mix over many members.
//   earn 40 %, spend 20 %, hold + capture 10 %, balance read 20 %, history read 10 %
// Run it through `npm run load -- --scenario mix`, which provisions the database, starts the service, seeds the
// members (each with an opening earn, so spends can succeed), and checks the ledger's invariants afterwards.
//
// Environment: BASE_URL (loopback only), SERVICE_TOKEN, MEMBERS (200), MEMBER_PREFIX, VUS (16), DURATION (30s).
import { balance, constantVus, earn, history, holdAndCapture, memberId, randomInt, spend } from './lib/ledger.js';

const MEMBERS = Number(__ENV.MEMBERS || 200);

export const options = constantVus('mix', 16);

export default function () {
  const member = memberId(randomInt(1, MEMBERS));
  const roll = Math.random() * 100;
  if (roll < 40) earn(member, randomInt(1, 100));
  else if (roll < 60) spend(member, randomInt(1, 200));
  else if (roll < 70) holdAndCapture(member, randomInt(1, 80));
  else if (roll < 90) balance(member);
  else history(member);
}
