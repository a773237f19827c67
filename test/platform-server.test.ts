import { inject, describe, expect, it } from 'vitest';
import { ArmedFaults } from '../src/platform/faults.js';
import { connectDatabase } from '../src/platform/db/connection.js';
import { startServer } from '../src/server.js';
import { freshDbName, ops, service, testConfig } from './helpers/app.js';

describe('startServer', () => {
  it('when startServer is given faults, then an armed crash point fires in its requests, once', async () => {
    const dbName = freshDbName('server_faults');
    const faults = new ArmedFaults();
    const server = await startServer(testConfig({ MONGODB_URI: inject('mongoUri'), PORT: '0', MONGODB_DB_NAME: dbName }), { faults });
    const send = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(server.url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    try {
      expect((await send('/v1/members', ops, { memberId: 'ann' })).status).toBe(201);
      faults.arm('idempotency:before-record');
      const earn = { amount: 10, code: 'order' };
      expect((await send('/v1/members/ann/points/earn', service, earn, { 'Idempotency-Key': 'crash-1' })).status).toBe(500);
      expect((await send('/v1/members/ann/points/earn', service, earn, { 'Idempotency-Key': 'crash-2' })).status).toBe(201);
    } finally {
      await server.close();
      const db = await connectDatabase(inject('mongoUri'), dbName, 1500);
      await db.dropDatabase();
      await db.close();
    }
  });
});
