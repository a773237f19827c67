// Member tokens for the k6 scripts that act as members (check-ins, redemptions): signed in the script with the HS256
// secret of the service the runner started (fresh per run), as scripts/token.ts signs them.
import { hmac } from 'k6/crypto';
import encoding from 'k6/encoding';

const b64 = (value) => encoding.b64encode(JSON.stringify(value), 'rawurl');
const JWT_HEADER = b64({ alg: 'HS256', typ: 'JWT' });

/** A member token (role member, sub the member id), valid for an hour. */
export function memberToken(secret, member) {
  const body = `${JWT_HEADER}.${b64({ role: 'member', sub: member, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${hmac('sha256', secret, body, 'base64rawurl')}`;
}
