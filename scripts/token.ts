/**
 * Mints a signed token for local use with the configured JWT settings.
 *
 *     JWT_SECRET=... npm run token -- --role member --sub m-10001 [--expires-in 1h]
 *
 * For RS256/ES256 set JWT_PRIVATE_KEY (PEM) as well as the service's JWT_ALGORITHM.
 */
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { ConfigError, loadConfig } from '../src/config.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    sub: { type: 'string' },
    'expires-in': { type: 'string', default: '1h' },
  },
  strict: true,
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const role = values.role;
if (role !== 'member' && role !== 'service' && role !== 'ops') fail('usage: npm run token -- --role ops|service|member [--sub id] [--expires-in 1h]');
if (role === 'member' && !values.sub) fail('a member token needs --sub <memberId>');

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
