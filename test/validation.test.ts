import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ops, service, startTestApp, tokenFor, type ApiResponse, type TestApp } from './helpers/app.js';
import { expectError, expectNoLeak, issuePaths } from './helpers/expect.js';

let api: TestApp;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});

/** Every response in this file is checked for leaks, whatever the test asserts besides. */
async function send(method: string, path: string, opts: Parameters<TestApp['request']>[2] = {}): Promise<ApiResponse> {
  const res = await api.request(method, path, opts);
  expect(res.status, `${method} ${path} answered ${res.status}: ${res.text}`).toBeLessThan(500);
  expectNoLeak(res);
  return res;
}
const register = (body: unknown, headers: Record<string, string> = {}) => send('POST', '/v1/members', { token: service, body, headers });
const memberCount = () => api.db.collection('members').countDocuments();

/** One kept-alive connection written by hand, to see what a rejected body does to the request after it. */
async function rawConnection() {
  const socket = net.connect(Number(new URL(api.url).port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const statusLines = () => received.match(/HTTP\/1\.1 \d{3}/g) ?? [];
  return {
    write: (data: string | Buffer) => socket.write(data),
    /** The status lines of the first `n` responses, or of as many as arrived within `ms`. */
    async responses(n: number, ms = 3000): Promise<string[]> {
      const deadline = Date.now() + ms;
      while (statusLines().length < n && Date.now() < deadline && !socket.destroyed) await sleep(10);
      return statusLines();
    },
    close: () => socket.destroy(),
  };
}

describe('validation: bodies', () => {
  it('when a body has unknown keys, then 400 VALIDATION_FAILED names where they are', async () => {
    const res = await register({ memberId: 'ann', isAdmin: true, device: { id: 'd1', root: true } });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(issuePaths(res)).toEqual(expect.arrayContaining(['body', 'body.device']));
    const messages = res.body.error.details.issues.map((i: { message: string }) => i.message).join(' ');
    expect(messages).toContain('isAdmin');
    expect(messages).toContain('root');
    expect(await memberCount()).toBe(0);
  });

  it('when a body sets __proto__ or constructor.prototype, then 400 and nothing is written', async () => {
    for (const raw of ['{"memberId":"ann","__proto__":{"status":"frozen"}}', '{"memberId":"ann","constructor":{"prototype":{"x":1}}}']) {
      const res = await register(raw);
      // The JSON reader refuses prototype poisoning outright; a schema would refuse the unknown key. Either is a 400.
      expect(['MALFORMED_JSON', 'VALIDATION_FAILED']).toContain(res.body.error.code);
      expectError(res, 400, res.body.error.code);
    }
    expect(await memberCount()).toBe(0);
  });

  it('when a field has the wrong type, then 400 names its path', async () => {
    const asNumber = await register({ memberId: 5 });
    expectError(asNumber, 400, 'VALIDATION_FAILED');
    expect(issuePaths(asNumber)).toEqual(['body.memberId']);

    const stringForObject = await register({ memberId: 'ann', device: '5' });
    expectError(stringForObject, 400, 'VALIDATION_FAILED');
    expect(issuePaths(stringForObject)).toEqual(['body.device']);

    const arrayForString = await register({ memberId: ['ann'] });
    expect(issuePaths(arrayForString)).toEqual(['body.memberId']);

    const boolForString = await send('PATCH', '/v1/members/ann', { token: ops, body: { displayName: true } });
    expectError(boolForString, 400, 'VALIDATION_FAILED');
    expect(issuePaths(boolForString)).toEqual(['body.displayName']);
    expect(await memberCount()).toBe(0);
  });

  it('when an operator object stands where a string is expected, then 400 and no query is run with it', async () => {
    const top = await register({ memberId: { $gt: '' } });
    expectError(top, 400, 'VALIDATION_FAILED');
    expect(issuePaths(top)).toEqual(['body.memberId']);

    const nested = await register('{"memberId":"ann","device":{"id":{"$gt":""},"ip":{"$ne":null}}}');
    expectError(nested, 400, 'VALIDATION_FAILED');
    expect(issuePaths(nested)).toEqual(expect.arrayContaining(['body.device.id', 'body.device.ip']));

    const patch = await send('PATCH', '/v1/members/ann', { token: ops, body: '{"displayName":{"$set":{"status":"frozen"}}}' });
    expectError(patch, 400, 'VALIDATION_FAILED');
    expect(issuePaths(patch)).toEqual(['body.displayName']);

    const where = await register({ memberId: 'ann', displayName: { $where: 'sleep(1000)' } });
    expectError(where, 400, 'VALIDATION_FAILED');
    expect(await memberCount()).toBe(0);
  });

  it('when the body is an array, a string or a number, then 400', async () => {
    const array = await register([{ memberId: 'ann' }]);
    expectError(array, 400, 'VALIDATION_FAILED');
    expect(issuePaths(array)).toEqual(['body']);
    for (const raw of ['"ann"', '5', 'true']) {
      const res = await register(raw);
      expect(res.status).toBe(400);
      expect(['VALIDATION_FAILED', 'MALFORMED_JSON']).toContain(res.body.error.code);
      expectError(res, 400, res.body.error.code);
    }
    expect(await memberCount()).toBe(0);
  });

  it('when the body is JSON null or empty, then 400', async () => {
    const nul = await register('null');
    expect(nul.status).toBe(400);
    expect(['VALIDATION_FAILED', 'MALFORMED_JSON']).toContain(nul.body.error.code);
    expectError(nul, 400, nul.body.error.code);

    const empty = await send('POST', '/v1/members', { token: service, headers: { 'content-type': 'application/json' } });
    expectError(empty, 400, 'VALIDATION_FAILED');
    expect(issuePaths(empty)).toEqual(['body']);
  });

  it('when the body is over BODY_LIMIT_BYTES, then 413 PAYLOAD_TOO_LARGE', async () => {
    expect(api.config.bodyLimitBytes).toBe(65_536);
    const res = await register({ memberId: 'ann', displayName: 'x'.repeat(100 * 1024) });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(await memberCount()).toBe(0);
  });

  it('when an oversized body is streamed without Content-Length, then 413 too', async () => {
    const chunk = new TextEncoder().encode(`{"memberId":"ann","displayName":"${'x'.repeat(16 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const raw = await fetch(`${api.url}/v1/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    const text = await raw.text();
    expectError({ status: raw.status, headers: raw.headers, text, body: JSON.parse(text) }, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('when a body is rejected part-way on a kept-alive connection, then the next request on that connection is still answered', async () => {
    const head = (framing: string, extra = '') =>
      `POST /v1/members HTTP/1.1\r\nHost: loyalty\r\nAuthorization: Bearer ${service}\r\nContent-Type: application/json\r\n${extra}${framing}\r\n\r\n`;
    const chunk = (data: string | Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
    const big = `{"memberId":"ann","displayName":"${'x'.repeat(120 * 1024)}"}`;
    const cases: Array<{ what: string; status: string; send: (write: (d: string | Buffer) => void) => Promise<void> }> = [
      {
        what: 'an oversized body streamed in chunks',
        status: 'HTTP/1.1 413',
        send: async (write) => {
          write(head('Transfer-Encoding: chunked'));
          for (let i = 0; i < big.length; i += 16 * 1024) {
            write(chunk(big.slice(i, i + 16 * 1024)));
            await sleep(10); // the rest arrives after the server has refused the body
          }
          write('0\r\n\r\n');
        },
      },
      {
        what: 'an oversized body with Content-Length',
        status: 'HTTP/1.1 413',
        send: async (write) => {
          write(head(`Content-Length: ${big.length}`));
          await sleep(20);
          write(big);
        },
      },
      {
        what: 'a body that is not gzip though it says so',
        status: 'HTTP/1.1 400',
        send: async (write) => {
          write(head('Transfer-Encoding: chunked', 'Content-Encoding: gzip\r\n'));
          write(chunk('this is not gzip'));
          await sleep(20);
          write(chunk(gzipSync('{}')));
          write('0\r\n\r\n');
        },
      },
    ];
    for (const { what, status, send: sendBody } of cases) {
      const conn = await rawConnection();
      try {
        await sendBody(conn.write);
        conn.write('GET /healthz HTTP/1.1\r\nHost: loyalty\r\n\r\n');
        expect(await conn.responses(2), what).toEqual([status, 'HTTP/1.1 200']);
      } finally {
        conn.close();
      }
    }
    expect(await memberCount()).toBe(0);
  });

  it('when the JSON is malformed, then 400 MALFORMED_JSON', async () => {
    for (const raw of ['{"memberId": ', '{memberId: "ann"}', "{'memberId':'ann'}", '{"memberId":"ann"}}', '\u0000']) {
      expectError(await register(raw), 400, 'MALFORMED_JSON');
    }
  });

  it('when the body is not JSON, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectError(await register('memberId=ann', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await register('memberId=ann', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await register('{"memberId":"ann"}', { 'content-encoding': 'compress' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await register('{"memberId":"ann"}', { 'content-encoding': 'zstd' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await memberCount()).toBe(0);
  });

  it('when the body claims gzip but is not, then 400 rather than 500', async () => {
    const res = await register('{"memberId":"ann"}', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expectError(res, 400, res.body.error.code);
  });
});

describe('validation: paths and routes', () => {
  it('when a path parameter is hostile, then 400 or 404, never 500', async () => {
    const ids = ['%24gt', '%7B%22%24gt%22%3A%22%22%7D', 'a'.repeat(5000), '..%2F', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%00', 'ann%00', '%E0%A4%A', '%', 'ann%20%7C%7C%201', '__proto__', 'constructor'];
    for (const id of ids) {
      for (const method of ['GET', 'PATCH'] as const) {
        const res = await send(method, `/v1/members/${id}`, { token: ops, ...(method === 'PATCH' ? { body: { displayName: 'x' } } : {}) });
        expect([400, 404], `${method} ${id.slice(0, 40)}: ${res.status}`).toContain(res.status);
        expectError(res, res.status, res.status === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
      }
    }
    for (const file of ['..%2F..%2Fpackage.json', '%2e%2e%2f%2e%2e%2fpackage.json', 'swagger-ui-bundle.js%00.png', 'a'.repeat(500)]) {
      const res = await send('GET', `/docs/assets/${file}`);
      expect([400, 404]).toContain(res.status);
      expectError(res, res.status, res.status === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
    }
  });

  it('when a $gt id is looked up, then 400 names params.memberId', async () => {
    const res = await send('GET', '/v1/members/%24gt', { token: ops });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(issuePaths(res)).toEqual(['params.memberId']);
  });

  it('when the route does not exist, then 404 NOT_FOUND in the error shape', async () => {
    for (const path of ['/nope', '/v1', '/v1/member', '/v1/members/ann/extra', '/docs/assets']) {
      expectError(await send('GET', path, { token: ops }), 404, 'NOT_FOUND');
    }
    expectError(await send('POST', '/v2/members', { token: service, body: { memberId: 'ann' } }), 404, 'NOT_FOUND');
  });

  it('when a known route is called with a method it does not take, then 405 METHOD_NOT_ALLOWED in the error shape', async () => {
    expectError(await send('DELETE', '/v1/members', { token: ops }), 405, 'METHOD_NOT_ALLOWED');
    expectError(await send('PUT', '/v1/members/ann', { token: ops, body: { displayName: 'x' } }), 405, 'METHOD_NOT_ALLOWED');
    expectError(await send('POST', '/healthz'), 405, 'METHOD_NOT_ALLOWED');
    expect((await send('DELETE', '/v1/members', { token: ops })).headers.get('allow')).toContain('POST');
  });
});

describe('validation: request ids', () => {
  it('when the caller sends an X-Request-Id, then it is echoed on success and on errors', async () => {
    const ok = await send('GET', '/healthz', { headers: { 'x-request-id': 'req-ok-1' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('req-ok-1');
    const longest = 'r'.repeat(128);
    expect((await send('GET', '/healthz', { headers: { 'x-request-id': longest } })).headers.get('x-request-id')).toBe(longest);

    const bad = await register({ memberId: 5 }, { 'x-request-id': 'req-bad-1' });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(bad.body.requestId).toBe('req-bad-1');

    const unauth = await send('GET', '/v1/me', { headers: { 'x-request-id': 'req-401' } });
    expectError(unauth, 401, 'UNAUTHENTICATED');
    expect(unauth.body.requestId).toBe('req-401');

    const missing = await send('GET', '/nope', { headers: { 'x-request-id': 'req-404' } });
    expect(missing.body.requestId).toBe('req-404');
  });

  it('when the caller sends no X-Request-Id, then each response gets a fresh one', async () => {
    const [a, b] = await Promise.all([send('GET', '/healthz'), send('GET', '/healthz')]);
    expect(a.headers.get('x-request-id')).toMatch(uuid);
    expect(b.headers.get('x-request-id')).toMatch(uuid);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('when the X-Request-Id is too long or has spaces or control characters, then a generated one replaces it', async () => {
    for (const given of ['r'.repeat(129), 'r'.repeat(200), 'has spaces in it', 'tab\there']) {
      const ok = await send('GET', '/healthz', { headers: { 'x-request-id': given } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-request-id')).toMatch(uuid);
      const err = await send('GET', '/v1/me', { headers: { 'x-request-id': given } });
      expectError(err, 401, 'UNAUTHENTICATED');
      expect(err.body.requestId).toMatch(uuid);
    }
  });
});

describe('validation: robustness', () => {
  it('when ~50 hostile requests arrive at once, then each gets a 4xx and the process keeps serving', async () => {
    const member = tokenFor('member', 'ann');
    const hostile: Array<() => Promise<ApiResponse>> = [
      () => register({ memberId: { $gt: '' } }),
      () => register('{"memberId":"ann","device":{"id":{"$gt":""}}}'),
      () => register('{"memberId": '),
      () => register('null'),
      () => register([1, 2, 3]),
      () => register({ memberId: 'ann', displayName: 'x'.repeat(100 * 1024) }),
      () => register('memberId=ann', { 'content-type': 'text/plain' }),
      () => register('{"memberId":"ann"}', { 'content-encoding': 'gzip' }),
      () => register('{"a":'.repeat(5000)),
      () => register(`[${'['.repeat(3000)}${']'.repeat(3000)}]`),
      () => register({ memberId: 'ann', ['x'.repeat(1000)]: 1 }),
      () => register(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]))),
      () => send('GET', '/v1/members/%24gt', { token: ops }),
      () => send('GET', `/v1/members/${'a'.repeat(5000)}`, { token: ops }),
      () => send('GET', '/v1/members/..%2F..%2F', { token: ops }),
      () => send('GET', '/v1/members/ann', { headers: { authorization: 'Bearer a.b.c' } }),
      () => send('GET', '/v1/members/ann', { headers: { authorization: `Bearer ${'A'.repeat(7000)}.e30.x` } }),
      () => send('POST', '/v1/members', { token: member, body: { memberId: 'x' } }),
      () => send('PATCH', '/v1/members/ann', { token: ops, body: { status: { $ne: 'active' } } }),
      () => send('PATCH', '/v1/members/ann', { token: ops, body: {} }),
      () => send('DELETE', '/v1/members', { token: ops }),
      () => send('GET', '/nope/../../etc/passwd'),
      () => send('GET', '/v1/members/nobody?memberId[$gt]=&__proto__[x]=1', { token: ops }),
    ];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => hostile[i % hostile.length]!()));
    for (const res of results) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectError(res, res.status, res.body.error.code);
    }
    const health = await send('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(await memberCount()).toBe(0);
  });
});
