import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, startTestApp, type TestApp } from './helpers/app.js';
import { expectError } from './helpers/expect.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});

const register = (memberId: string, contentType: string) =>
  api.request('POST', '/v1/members', { token: service, body: { memberId }, headers: { 'content-type': contentType } });
const memberIds = async () => (await api.db.collection('members').find({}, { projection: { _id: 1 } }).toArray()).map((m) => m._id);

describe('request charset', () => {
  it('when the body declares a charset other than UTF-8, then 415 UNSUPPORTED_MEDIA_TYPE and nothing is written', async () => {
    for (const contentType of [
      'application/json; charset=x-unknown',
      'application/json; charset=utf-16',
      'application/json; charset=UTF-16LE',
      'application/json; charset=iso-8859-1',
      'application/json; charset="latin1"',
      'application/json; charset=',
      'application/merge-patch+json; charset=utf-32',
    ]) {
      expectError(await register('ann', contentType), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await memberIds()).toEqual([]);
  });

  it('when the body declares no charset or UTF-8 in any spelling, then it is read', async () => {
    const accepted = ['application/json', 'application/json; charset=UTF-8', 'application/json; charset=utf8', 'application/json;charset="Utf-8"', 'application/json; CHARSET=UTF8'];
    for (const [i, contentType] of accepted.entries()) {
      const res = await register(`m${i}`, contentType);
      expect(res.status, `${contentType}: ${res.text}`).toBe(201);
    }
    expect(await memberIds()).toEqual(expect.arrayContaining(accepted.map((_, i) => `m${i}`)));
  });

  it('when a body with an unsupported charset is refused on a kept-alive connection, then the next request on it is still answered', async () => {
    const big = `{"memberId":"bob","displayName":"${'x'.repeat(120 * 1024)}"}`;
    for (const framing of [`Content-Length: ${big.length}`, 'Transfer-Encoding: chunked']) {
      const socket = net.connect(Number(new URL(api.url).port), '127.0.0.1');
      await once(socket, 'connect');
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
      try {
        socket.write(`POST /v1/members HTTP/1.1\r\nHost: loyalty\r\nAuthorization: Bearer ${service}\r\nContent-Type: application/json; charset=utf-16\r\n${framing}\r\n\r\n`);
        await sleep(20); // the body arrives after the server has refused it
        socket.write(framing.startsWith('Transfer') ? `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n` : big);
        socket.write('GET /healthz HTTP/1.1\r\nHost: loyalty\r\n\r\n');
        const deadline = Date.now() + 3000;
        while ((received.match(/HTTP\/1\.1 \d{3}/g) ?? []).length < 2 && Date.now() < deadline && !socket.destroyed) await sleep(10);
        expect(received.match(/HTTP\/1\.1 \d{3}/g), framing).toEqual(['HTTP/1.1 415', 'HTTP/1.1 200']);
      } finally {
        socket.destroy();
      }
    }
    expect(await memberIds()).not.toContain('bob');
  });
});
