import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { freshDbName, startTestApp, tokenFor, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, newKey, points, registerMember, service } from '../helpers/ledger.js';

/** Two instances over one database, so a key's requests can arrive at different processes. */
const clock = new ManualClock('2026-03-01T08:00:00Z');
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  const dbName = freshDbName('ledger_idem');
  a = await startTestApp({ dbName, clock });
  b = await startTestApp({ dbName, clock });
});
afterAll(async () => {
  await a?.close({ keepDatabase: true });
  await b?.close();
});

const replayed = (res: { headers: Headers }) => res.headers.get('idempotent-replayed');

/** Sends a keyed POST byte for byte over a socket (for keys no HTTP client will send) and returns the status line. */
async function rawStatusLine(api: TestApp, path: string, key: string, body: string): Promise<string> {
  const socket = net.connect(Number(new URL(api.url).port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const head = `POST ${path} HTTP/1.1\r\nHost: loyalty\r\nAuthorization: Bearer ${service}\r\nContent-Type: application/json\r\n`;
  socket.end(`${head}Idempotency-Key: ${key}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
  await once(socket, 'close');
  return received.split('\r\n')[0] ?? '';
}

describe('idempotency keys on ledger commands', () => {
  it('when a request is repeated with the same key and body, then the original status and body come back, marked replayed, and one entry exists', async () => {
    await registerMember(a, 'replay');
    const key = newKey();
    const first = await points.earn(a, 'replay', { amount: 100, code: 'order', ref: { type: 'order', id: 'SO-1' } }, { key });
    expect(first.status, first.text).toBe(201);
    expect(replayed(first)).toBeNull();

    // The same body with its keys in another order is the same request.
    const again = await points.earn(a, 'replay', { ref: { id: 'SO-1', type: 'order' }, code: 'order', amount: 100 }, { key });
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe('true');
    expect(again.body).toEqual(first.body);

    const elsewhere = await points.earn(b, 'replay', { amount: 100, code: 'order', ref: { type: 'order', id: 'SO-1' } }, { key });
    expect(elsewhere.status).toBe(201);
    expect(replayed(elsewhere)).toBe('true');
    expect(elsewhere.body).toEqual(first.body);

    // Keys live at least 24 hours.
    clock.advance({ hours: 25 });
    const dayLater = await points.earn(a, 'replay', { amount: 100, code: 'order', ref: { type: 'order', id: 'SO-1' } }, { key });
    expect(dayLater.status).toBe(201);
    expect(dayLater.body).toEqual(first.body);

    expect(await historyOf(a, 'replay')).toHaveLength(1);
    expect(await balanceOf(b, 'replay')).toMatchObject({ available: 100, seq: 1 });
    await expectLedgerClean([a, b]);
  });

  it('when a key is reused for a different body or another route, then 409 IDEMPOTENCY_KEY_REUSED and nothing moves', async () => {
    await registerMember(a, 'reuser');
    const key = newKey();
    await earned(a, 'reuser', 100);
    const first = await points.earn(a, 'reuser', { amount: 10, code: 'order' }, { key });
    expect(first.status).toBe(201);

    expectError(await points.earn(a, 'reuser', { amount: 11, code: 'order' }, { key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await points.earn(b, 'reuser', { amount: 10, code: 'share' }, { key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await points.spend(a, 'reuser', { amount: 10, code: 'order' }, { key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    await registerMember(a, 'reuser-2');
    expectError(await points.earn(a, 'reuser-2', { amount: 10, code: 'order' }, { key }), 409, 'IDEMPOTENCY_KEY_REUSED');

    expect(await balanceOf(a, 'reuser')).toMatchObject({ available: 110, seq: 2 });
    expect(await balanceOf(a, 'reuser-2')).toMatchObject({ available: 0, seq: 0 });
  });

  it('when a spend refused for want of points is retried with its key after the member earned more, then the refusal is replayed', async () => {
    await registerMember(a, 'refused');
    await earned(a, 'refused', 20);
    const key = newKey();
    const refused = await points.spend(a, 'refused', { amount: 50, code: 'redemption' }, { key });
    expectError(refused, 409, 'INSUFFICIENT_POINTS');
    expect(refused.body.error.details).toMatchObject({ available: 20, requested: 50 });

    await earned(a, 'refused', 100);
    for (const api of [a, b]) {
      const retried = await points.spend(api, 'refused', { amount: 50, code: 'redemption' }, { key });
      expect(retried.status).toBe(409);
      expect(replayed(retried)).toBe('true');
      expect(retried.body).toEqual(refused.body);
    }
    expect(await balanceOf(a, 'refused')).toMatchObject({ available: 120, seq: 2 });

    const fresh = await points.spend(a, 'refused', { amount: 50, code: 'redemption' });
    expect(fresh.status).toBe(201);
    expect(await balanceOf(b, 'refused')).toMatchObject({ available: 70, seq: 3 });
  });

  it('when 20 requests with one key arrive at once at two instances, then one entry lands and all 20 answers are identical', async () => {
    await registerMember(a, 'stampede');
    const key = newKey();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => points.earn(i % 2 ? b : a, 'stampede', { amount: 25, code: 'order' }, { key })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    for (const r of results) expect(r.body).toEqual(results[0]?.body);
    expect(results.filter((r) => replayed(r) !== 'true')).toHaveLength(1);
    expect(await historyOf(b, 'stampede')).toHaveLength(1);
    expect(await balanceOf(a, 'stampede')).toMatchObject({ available: 25, seq: 1 });
    await expectLedgerClean([a, b]);
  });

  it('when the Idempotency-Key is missing, empty, over 128 characters or not printable, then 400 IDEMPOTENCY_KEY_REQUIRED and nothing is written', async () => {
    await registerMember(a, 'keyless');
    const body = { amount: 10, code: 'order' };
    const path = '/v1/members/keyless/points/earn';
    expectError(await a.request('POST', path, { token: service, body }), 400, 'IDEMPOTENCY_KEY_REQUIRED');
    for (const key of ['', 'k'.repeat(129), 'tab\tkey', 'caf\u00e9']) {
      const res = await a.request('POST', path, { token: service, body, headers: { 'Idempotency-Key': key } });
      expectError(res, 400, 'IDEMPOTENCY_KEY_REQUIRED');
    }
    // fetch refuses to send a DEL in a header, and Node's HTTP parser refuses to read one (a bare 400 before the app).
    expect(await rawStatusLine(a, path, 'bad\x7fkey', JSON.stringify(body))).toBe('HTTP/1.1 400 Bad Request');
    expect(await balanceOf(a, 'keyless')).toMatchObject({ available: 0, seq: 0 });

    const longest = await points.earn(a, 'keyless', body, { key: 'k'.repeat(128) });
    expect(longest.status).toBe(201);
    const printable = await points.earn(a, 'keyless', body, { key: ' ~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}' });
    expect(printable.status).toBe(201);
    expect(await balanceOf(a, 'keyless')).toMatchObject({ available: 20, seq: 2 });
  });

  it('when two callers send the same key, then each gets its own effect: keys are scoped to the caller', async () => {
    await registerMember(a, 'scoped');
    const key = 'order-SO-77-paid';
    const body = { amount: 30, code: 'order' };
    const orders = await points.earn(a, 'scoped', body, { key, token: tokenFor('service', 'orders') });
    const crm = await points.earn(b, 'scoped', body, { key, token: tokenFor('service', 'crm') });
    const opsCall = await points.earn(a, 'scoped', body, { key, token: tokenFor('ops', 'orders') });
    for (const r of [orders, crm, opsCall]) {
      expect(r.status).toBe(201);
      expect(replayed(r)).toBeNull();
    }
    expect(new Set([orders, crm, opsCall].map((r) => r.body.entry.id)).size).toBe(3);
    const repeat = await points.earn(b, 'scoped', body, { key, token: tokenFor('service', 'crm') });
    expect(repeat.body.entry.id).toBe(crm.body.entry.id);
    expect(await balanceOf(a, 'scoped')).toMatchObject({ available: 90, seq: 3 });
  });

  it('when one operation is committed twice without the second knowing (a lease ran out under a slow first attempt), then the unique op id lets it land once', async () => {
    await registerMember(a, 'twice');
    const op = { opId: 'op-twice', fingerprint: 'request-1', actor: { role: 'service', sub: 'orders' } };
    const input = { amount: 40, code: 'order' };
    const first = await a.built.services.ledger.earnPoints('twice', input, op);
    const second = await b.built.services.ledger.earnPoints('twice', input, op);
    const third = await a.built.services.ledger.earnPoints('twice', input, op);
    expect(first.replayed).toBe(false);
    expect([second, third].map((r) => [r.replayed, r.entry._id])).toEqual([
      [true, first.entry._id],
      [true, first.entry._id],
    ]);
    await expect(a.built.services.ledger.earnPoints('twice', { amount: 41, code: 'order' }, { ...op, fingerprint: 'request-2' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await balanceOf(a, 'twice')).toMatchObject({ available: 40, seq: 1 });
    await expectLedgerClean([a, b]);
  });

  it('when a capture is repeated with its key, then it is replayed; another key or amount finds the hold resolved', async () => {
    await registerMember(a, 'capturer');
    await earned(a, 'capturer', 100);
    const hold = await points.hold(a, 'capturer', { amount: 60, code: 'redemption' });
    expect(hold.status).toBe(201);
    const holdId = hold.body.hold.id as string;
    const key = newKey();
    const captured = await points.capture(a, holdId, { amount: 45 }, { key });
    expect(captured.status, captured.text).toBe(201);
    expect(captured.body.hold).toMatchObject({ id: holdId, status: 'captured', captured: 45, amount: 60 });

    const again = await points.capture(b, holdId, { amount: 45 }, { key });
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe('true');
    expect(again.body).toEqual(captured.body);

    expectError(await points.capture(a, holdId, { amount: 40 }, { key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await points.capture(b, holdId, { amount: 45 }), 409, 'HOLD_NOT_ACTIVE');
    expectError(await points.release(a, holdId), 409, 'HOLD_NOT_ACTIVE');
    expect(await balanceOf(a, 'capturer')).toMatchObject({ available: 55, held: 0, seq: 3 });
    await expectLedgerClean([a, b]);
  });
});

describe('retention of idempotency records', () => {
  it('when records pass IDEMPOTENCY_RETENTION_HOURS, then the daily purge removes them, younger ones stay, and a repeated old key still lands nothing twice', async () => {
    const api = await startTestApp({ env: { IDEMPOTENCY_RETENTION_HOURS: '48' }, clock: new ManualClock('2026-03-01T08:00:00Z') });
    try {
      await registerMember(api, 'keeper');
      const old = await points.earn(api, 'keeper', { amount: 100, code: 'order' }, { key: 'old-key' });
      expect(old.status).toBe(201);
      api.clock.advance({ hours: 47 });
      const young = await points.earn(api, 'keeper', { amount: 5, code: 'order' }, { key: 'young-key' });
      api.clock.advance({ hours: 2 }); // old-key is 49 h old, young-key 2 h

      expect(await api.built.purgeIdempotency()).toEqual({ ran: true, result: { claims: 1, results: 1 } });
      expect(await api.built.purgeIdempotency()).toEqual({ ran: false, reason: 'already done' });

      const youngAgain = await points.earn(api, 'keeper', { amount: 5, code: 'order' }, { key: 'young-key' });
      expect(replayed(youngAgain)).toBe('true');
      expect(youngAgain.body).toEqual(young.body);
      // The old key's record is gone: the request runs again, and the ledger answers with the entry it landed then.
      const oldAgain = await points.earn(api, 'keeper', { amount: 100, code: 'order' }, { key: 'old-key' });
      expect(oldAgain.status).toBe(201);
      expect(replayed(oldAgain)).toBe('true');
      expect(oldAgain.body.entry).toEqual(old.body.entry);
      expectError(await points.earn(api, 'keeper', { amount: 999, code: 'order' }, { key: 'old-key' }), 409, 'IDEMPOTENCY_KEY_REUSED');
      expect(await balanceOf(api, 'keeper')).toMatchObject({ available: 105, seq: 2 });
    } finally {
      await api.close();
    }
  });

  it('when the retention is set below 24 hours, then the configuration is refused', async () => {
    await expect(startTestApp({ env: { IDEMPOTENCY_RETENTION_HOURS: '23' } })).rejects.toThrow(/IDEMPOTENCY_RETENTION_HOURS/);
  });
});
