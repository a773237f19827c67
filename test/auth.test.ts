import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, TEST_SECRET, tokenFor, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** Builds a token by hand, so a test can send what no well-behaved signer would produce. */
function handMade(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign(input)}`;
}

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
  expect((await api.request('POST', '/v1/members', { token: service, body: { memberId: 'ann' } })).status).toBe(201);
});
afterAll(async () => {
  await api?.close();
});

/** A route every staff role may read, so 200 proves the token was accepted. */
const readAnn = (authorization?: string, on: TestApp = api) =>
  on.request('GET', '/v1/members/ann', { headers: authorization === undefined ? {} : { authorization } });

describe('auth: HS256 (the default)', () => {
  it('when a valid ops, service or member token is sent, then the member is read', async () => {
    for (const token of [ops, service, tokenFor('member', 'ann')]) {
      const res = await readAnn(`Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body.member.memberId).toBe('ann');
    }
  });

  it('when no Authorization header is sent, then 401 UNAUTHENTICATED', async () => {
    expectError(await readAnn(), 401, 'UNAUTHENTICATED');
  });

  it('when the Authorization header is malformed, then 401 UNAUTHENTICATED', async () => {
    const headers = ['Basic x', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `bearer ${ops}`, `Bearer  ${ops}`, ops, 'garbage', 'Bearer a.b', 'Bearer a.b.c', `Bearer ${ops} extra`, `Token ${ops}`, `Bearer ${'x'.repeat(8000)}`];
    for (const header of headers) expectError(await readAnn(header), 401, 'UNAUTHENTICATED');
  });

  it('when the token is signed with another secret, then 401', async () => {
    expectError(await readAnn(`Bearer ${tokenFor('ops', 'ops-1', { secret: 'another-secret-0123456789-abcdefghijk' })}`), 401, 'UNAUTHENTICATED');
  });

  it('when the token says alg none and has no signature, then 401', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const token = handMade({ alg, typ: 'JWT' }, { role: 'ops', sub: 'ops-1', exp: inAnHour() }, () => '');
      expectError(await readAnn(`Bearer ${token}`), 401, 'UNAUTHENTICATED');
    }
  });

  it('when a valid token has its payload swapped, then the signature no longer matches and it is 401', async () => {
    const [header, , signature] = tokenFor('member', 'ann').split('.');
    const forged = `${header}.${b64url({ role: 'ops', sub: 'ann', exp: inAnHour() })}.${signature}`;
    expectError(await readAnn(`Bearer ${forged}`), 401, 'UNAUTHENTICATED');
  });

  it('when the token has expired, then 401 says so', async () => {
    const expired = jwt.sign({ role: 'ops', sub: 'ops-1', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET, { algorithm: 'HS256' });
    const res = await readAnn(`Bearer ${expired}`);
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.body.error.message).toMatch(/expired/);
  });

  it('when the token has no exp, then 401', async () => {
    const forever = jwt.sign({ role: 'ops', sub: 'ops-1' }, TEST_SECRET, { algorithm: 'HS256', noTimestamp: true });
    expect(jwt.decode(forever)).toEqual({ role: 'ops', sub: 'ops-1' });
    expectError(await readAnn(`Bearer ${forever}`), 401, 'UNAUTHENTICATED');
  });

  it('when exp is not a number, then 401', async () => {
    const token = handMade({ alg: 'HS256', typ: 'JWT' }, { role: 'ops', exp: 'tomorrow' }, (input) =>
      createHmac('sha256', TEST_SECRET).update(input).digest('base64url'),
    );
    expectError(await readAnn(`Bearer ${token}`), 401, 'UNAUTHENTICATED');
  });

  it('when the role is unknown or missing, then 401', async () => {
    for (const payload of [{ role: 'admin' }, { role: 'OPS' }, { role: ['ops'] }, {}]) {
      const token = jwt.sign({ sub: 'x', ...payload }, TEST_SECRET, { algorithm: 'HS256', expiresIn: '1h' });
      expectError(await readAnn(`Bearer ${token}`), 401, 'UNAUTHENTICATED');
    }
  });

  it('when a member token has no sub, then 401', async () => {
    expectError(await readAnn(`Bearer ${tokenFor('member')}`), 401, 'UNAUTHENTICATED');
    const me = await api.request('GET', '/v1/me', { token: tokenFor('member') });
    expectError(me, 401, 'UNAUTHENTICATED');
  });

  it('when a member calls a staff route, then 403 FORBIDDEN and nothing is written', async () => {
    const res = await api.request('POST', '/v1/members', { token: tokenFor('member', 'ann'), body: { memberId: 'made-by-member' } });
    expectError(res, 403, 'FORBIDDEN');
    expectError(await api.request('GET', '/v1/members/made-by-member', { token: ops }), 404, 'NOT_FOUND');
  });

  it('when the token is refused, then the request is never validated or run (401 comes before 400)', async () => {
    const res = await api.request('POST', '/v1/members', { body: { memberId: 'bad id!', extra: true } });
    expectError(res, 401, 'UNAUTHENTICATED');
  });
});

describe('auth: issuer and audience', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await startTestApp({ env: { JWT_ISSUER: 'loyalty-auth', JWT_AUDIENCE: 'loyalty-api' } });
    await strict.request('POST', '/v1/members', { token: tokenFor('service', 'orders', { sign: { issuer: 'loyalty-auth', audience: 'loyalty-api' } }), body: { memberId: 'ann' } });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('when iss and aud are the configured ones, then 200', async () => {
    const token = tokenFor('ops', 'ops-1', { sign: { issuer: 'loyalty-auth', audience: 'loyalty-api' } });
    const res = await readAnn(`Bearer ${token}`, strict);
    expect(res.status).toBe(200);
    expect(res.body.member.memberId).toBe('ann');
  });

  it('when the audience is one of several in the token, then 200', async () => {
    const token = tokenFor('ops', 'ops-1', { sign: { issuer: 'loyalty-auth', audience: ['other-api', 'loyalty-api'] } });
    expect((await readAnn(`Bearer ${token}`, strict)).status).toBe(200);
  });

  it('when iss or aud is wrong or missing, then 401', async () => {
    const cases: jwt.SignOptions[] = [
      { issuer: 'someone-else', audience: 'loyalty-api' },
      { audience: 'loyalty-api' },
      { issuer: 'loyalty-auth', audience: 'other-api' },
      { issuer: 'loyalty-auth' },
      {},
    ];
    for (const sign of cases) {
      expectError(await readAnn(`Bearer ${tokenFor('ops', 'ops-1', { sign })}`, strict), 401, 'UNAUTHENTICATED');
    }
  });
});

describe('auth: asymmetric algorithms', () => {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
  const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
  let rs: TestApp;
  let es: TestApp;

  beforeAll(async () => {
    [rs, es] = await Promise.all([
      startTestApp({ env: { JWT_ALGORITHM: 'RS256', JWT_SECRET: '', JWT_PUBLIC_KEY: rsa.publicKey } }),
      startTestApp({ env: { JWT_ALGORITHM: 'ES256', JWT_SECRET: '', JWT_PUBLIC_KEY: ec.publicKey } }),
    ]);
    const rsService = jwt.sign({ role: 'service', sub: 'orders' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '1h' });
    const esService = jwt.sign({ role: 'service', sub: 'orders' }, ec.privateKey, { algorithm: 'ES256', expiresIn: '1h' });
    expect((await rs.request('POST', '/v1/members', { token: rsService, body: { memberId: 'ann' } })).status).toBe(201);
    expect((await es.request('POST', '/v1/members', { token: esService, body: { memberId: 'ann' } })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([rs?.close(), es?.close()]);
  });

  it('when RS256 is configured and the token is signed with the private key, then 200', async () => {
    const token = jwt.sign({ role: 'ops', sub: 'ops-1' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '1h' });
    const res = await readAnn(`Bearer ${token}`, rs);
    expect(res.status).toBe(200);
    expect(res.body.member.memberId).toBe('ann');
  });

  it('when RS256 is configured and an HS256 token is signed with the public key as its secret (algorithm confusion), then 401', async () => {
    const token = handMade({ alg: 'HS256', typ: 'JWT' }, { role: 'ops', sub: 'ops-1', exp: inAnHour() }, (input) =>
      createHmac('sha256', rsa.publicKey).update(input).digest('base64url'),
    );
    expectError(await readAnn(`Bearer ${token}`, rs), 401, 'UNAUTHENTICATED');
  });

  it('when RS256 is configured, then HS256 tokens with the old secret, alg none and other RSA algorithms are 401', async () => {
    const none = handMade({ alg: 'none', typ: 'JWT' }, { role: 'ops', exp: inAnHour() }, () => '');
    const ps256 = jwt.sign({ role: 'ops' }, rsa.privateKey, { algorithm: 'PS256', expiresIn: '1h' });
    const rs512 = jwt.sign({ role: 'ops' }, rsa.privateKey, { algorithm: 'RS512', expiresIn: '1h' });
    for (const token of [ops, none, ps256, rs512]) expectError(await readAnn(`Bearer ${token}`, rs), 401, 'UNAUTHENTICATED');
  });

  it('when ES256 is configured and the token is signed with the P-256 private key, then 200', async () => {
    const token = jwt.sign({ role: 'member', sub: 'ann' }, ec.privateKey, { algorithm: 'ES256', expiresIn: '1h' });
    const res = await es.request('GET', '/v1/me', { token });
    expect(res.status).toBe(200);
    expect(res.body.member.memberId).toBe('ann');
  });

  it('when ES256 is configured, then a token from another key, an HS256 token over the public key or an RS256 token is 401', async () => {
    const otherKey = jwt.sign({ role: 'ops' }, otherEc.privateKey, { algorithm: 'ES256', expiresIn: '1h' });
    const confused = handMade({ alg: 'HS256', typ: 'JWT' }, { role: 'ops', exp: inAnHour() }, (input) =>
      createHmac('sha256', ec.publicKey).update(input).digest('base64url'),
    );
    const rs256 = jwt.sign({ role: 'ops' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '1h' });
    for (const token of [otherKey, confused, rs256]) expectError(await readAnn(`Bearer ${token}`, es), 401, 'UNAUTHENTICATED');
  });

  it('when ES256 is configured and the token has expired, then 401', async () => {
    const expired = jwt.sign({ role: 'ops', exp: Math.floor(Date.now() / 1000) - 5 }, ec.privateKey, { algorithm: 'ES256' });
    expectError(await readAnn(`Bearer ${expired}`, es), 401, 'UNAUTHENTICATED');
  });
});
