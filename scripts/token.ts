/**
 * Mints a signed token for local use with the configured JWT settings.
 *
 *     JWT_SECRET=... npm run token -- --role member --sub m-10001 [--expires-in 1h]
 *     npm run token -- --help
 *
 * For RS256/ES256 set JWT_PRIVATE_KEY (PEM) as well as the service's JWT_ALGORITHM.
 */
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { ConfigError, loadConfig } from '../src/config.js';

const USAGE = `usage: npm run token -- --role ops|service|member [--sub id] [--expires-in 1h]

  --role        ops, service or member: the caller the token speaks for
  --sub         the subject; a member token needs the member's id
  --expires-in  how long the token is good for: a number and a unit, s, m, h or d (default 1h)
  -h, --help    print this and exit

Signs with the service's JWT settings: JWT_SECRET, or JWT_PRIVATE_KEY (PEM) with JWT_ALGORITHM=RS256|ES256.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** A mistake in the arguments: what was wrong, then how to call the command. */
function misuse(message: string): never {
  fail(`${message}\n\n${USAGE}`);
}

function parseArguments() {
  try {
    return parseArgs({
      options: {
        role: { type: 'string' },
        sub: { type: 'string' },
        'expires-in': { type: 'string', default: '1h' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    // parseArgs explains in its first sentence; the rest is a hint about positionals, which this command takes none of.
    return misuse((err as Error).message.split('. ')[0]!);
  }
}

const values = parseArguments();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const role = values.role;
if (role !== 'member' && role !== 'service' && role !== 'ops') misuse('--role must be ops, service or member');
if (role === 'member' && !values.sub) misuse('a member token needs --sub <memberId>');
// jsonwebtoken reads a bare number in a string as milliseconds, so a unit is required.
if (!/^\d+[smhd]$/.test(values['expires-in'])) misuse('--expires-in must be a number and a unit (s, m, h or d), e.g. 30m or 1h');

let config;
try {
  config = loadConfig({ ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' });
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}
if (config.jwt.generated) {
  fail('JWT_SECRET is not set. Use the secret the running service logged at start (JWT_SECRET=... npm run token -- ...) or set one for both.');
}
const key = config.jwt.algorithm === 'HS256' ? config.jwt.key : process.env.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n');
if (!key) fail(`JWT_PRIVATE_KEY (PEM) is required to sign ${config.jwt.algorithm} tokens`);

const token = jwt.sign({ role, ...(values.sub ? { sub: values.sub } : {}) }, key, {
  algorithm: config.jwt.algorithm,
  expiresIn: values['expires-in'] as jwt.SignOptions['expiresIn'],
  ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
  ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
});
process.stdout.write(`${token}\n`);
