import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ArmedFaults } from '../../src/platform/faults.js';
import { fingerprintOf, scopeOf } from '../../src/platform/http/idempotency.js';
import { freshDbName, startTestApp, type ApiResponse, type TestApp } from '../helpers/app.js';
import { expectError } from '../helpers/expect.js';
import { balanceOf, earned, expectLedgerClean, historyOf, newKey, points, registerMember } from '../helpers/ledger.js';

/**
 * A crash is an injected fault: the request dies at a named point, as if the process had (nothing after it runs, and
 * the idempotency claim is left without an answer). The retry then comes from a new instance over the same database,
 * whose clock is past the dead claim's 30 s lease.
 */
const dbName = freshDbName('ledger_crash');
const START = new Date('2026-03-01T08:00:00Z');
const afterLease = () => new ManualClock(new Date(START.getTime() + 31_000));
/** Reads the store from outside the instances under test; dropping the database at the end. */
let observer: TestApp;

beforeAll(async () => {
  observer = await startTestApp({ dbName });
});
afterAll(async () => {
  await observer.close();
});

type Send = (api: TestApp, key: string) => Promise<ApiResponse>;
type Case = {
  point: string;
  /** Seeds what the command needs on the instance about to crash; returns the command. */
  setup: (api: TestApp, memberId: string) => Promise<Send>;
  /** The kind of entry the command writes, and the balance once it has landed exactly once. */
  kind: string;
  balance: { available: number; held: number; seq: number };
};

const earn100 = async (_api: TestApp, memberId: string): Promise<Send> => (api, key) => points.earn(api, memberId, { amount: 100, code: 'order' }, { key });
const cases: Case[] = [
  { point: 'earn:before-insert', setup: earn100, kind: 'earn', balance: { available: 100, held: 0, seq: 1 } },
  { point: 'earn:after-insert', setup: earn100, kind: 'earn', balance: { available: 100, held: 0, seq: 1 } },
  { point: 'idempotency:before-record', setup: earn100, kind: 'earn', balance: { available: 100, held: 0, seq: 1 } },
  {
    point: 'spend:after-insert',
    setup: async (api, memberId) => {
      await earned(api, memberId, 100);
      return (a, key) => points.spend(a, memberId, { amount: 30, code: 'redemption' }, { key });
    },
    kind: 'spend',
    balance: { available: 70, held: 0, seq: 2 },
  },
  {
    point: 'hold:after-insert',
    setup: async (api, memberId) => {
      await earned(api, memberId, 100);
      return (a, key) => points.hold(a, memberId, { amount: 40, code: 'redemption' }, { key });
    },
    kind: 'hold',
    balance: { available: 60, held: 40, seq: 2 },
  },
  {
    point: 'capture:after-insert',
    setup: async (api, memberId) => {
      await earned(api, memberId, 100);
      const hold = await points.hold(api, memberId, { amount: 40, code: 'redemption' });
      expect(hold.status, hold.text).toBe(201);
      return (a, key) => points.capture(a, hold.body.hold.id, { amount: 25 }, { key });
    },
    kind: 'capture',
    balance: { available: 75, held: 0, seq: 3 },
  },
  {
    point: 'release:after-insert',
    setup: async (api, memberId) => {
      await earned(api, memberId, 100);
      const hold = await points.hold(api, memberId, { amount: 40, code: 'redemption' });
      expect(hold.status, hold.text).toBe(201);
      return (a, key) => points.release(a, hold.body.hold.id, { key });
    },
    kind: 'release',
    balance: { available: 100, held: 0, seq: 3 },
  },
  {
    point: 'reverse:after-insert',
    setup: async (api, memberId) => {
      const earn = await earned(api, memberId, 100);
      return (a, key) => points.reverse(a, earn.body.entry.id, { amount: 30, code: 'order_refund' }, { key });
    },
    kind: 'reverse',
    balance: { available: 70, held: 0, seq: 2 },
  },
];

/** Starts an instance with armed faults, seeds the case and sends its command with the fault armed: a 500. */
async function crashOnce(c: Case, memberId: string, key: string): Promise<{ crashed: TestApp; send: Send }> {
  const faults = new ArmedFaults();
  const crashed = await startTestApp({ dbName, faults, clock: new ManualClock(START) });
  await registerMember(crashed, memberId);
  const send = await c.setup(crashed, memberId);
  faults.arm(c.point);
  const failed = await send(crashed, key);
  expectError(failed, 500, 'INTERNAL');
  expect(failed.body.error.message).toBe('internal error');
  expect(failed.body.error.details).toBeUndefined();
  return { crashed, send };
}

/** Exactly one effect of the command: one entry of its kind, the balance it implies, and a clean store. */
async function expectLandedOnce(c: Case, memberId: string, api: TestApp): Promise<void> {
  const history = await historyOf(api, memberId);
  expect(history.filter((e) => e.kind === c.kind)).toHaveLength(1);
  expect(history).toHaveLength(c.balance.seq);
  expect(await balanceOf(api, memberId)).toMatchObject(c.balance);
}

describe('crash recovery: a retry on a new instance after the lease', () => {
  it.each(cases)('when the process dies at $point, then the retry on a new instance lands the command exactly once', async (c) => {
    const memberId = `crash-${c.point.replace(/[^a-z]+/g, '-')}`;
    const key = newKey();
    const { crashed, send } = await crashOnce(c, memberId, key);
    await crashed.close({ keepDatabase: true });

    const restarted = await startTestApp({ dbName, clock: afterLease() });
    try {
      const retried = await send(restarted, key);
      expect(retried.status, retried.text).toBe(201);
      expect(retried.body.entry.kind).toBe(c.kind);
      expect(retried.body.balance).toMatchObject({ available: c.balance.available, held: c.balance.held, seq: c.balance.seq });

      const again = await send(restarted, key);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(retried.body);

      await expectLandedOnce(c, memberId, restarted);
      await expectLedgerClean([restarted]);
    } finally {
      await restarted.close({ keepDatabase: true });
    }
  });

  it('when two new instances retry the same crashed request at once, then both answer with the one entry it landed', async () => {
    const c = cases[1] as Case;
    const memberId = 'crash-twice-retried';
    const key = newKey();
    const { crashed, send } = await crashOnce(c, memberId, key);
    await crashed.close({ keepDatabase: true });

    const a = await startTestApp({ dbName, clock: afterLease() });
    const b = await startTestApp({ dbName, clock: afterLease() });
    try {
      const [ra, rb] = await Promise.all([send(a, key), send(b, key)]);
      expect([ra.status, rb.status]).toEqual([201, 201]);
      expect(ra.body.entry.id).toBe(rb.body.entry.id);
      await expectLandedOnce(c, memberId, a);
      await expectLedgerClean([a, b]);
    } finally {
      await a.close({ keepDatabase: true });
      await b.close({ keepDatabase: true });
    }
  });
});

describe('crash recovery: a claim whose owner is gone is taken over at once, not after a lease', () => {
  it.each(['earn:before-insert', 'earn:after-insert'])(
    'when the caller retries on the same instance after a crash at %s, then the retry takes the dead attempt over at once and the command lands once',
    async (point) => {
      const c = cases.find((x) => x.point === point) as Case;
      const memberId = `same-${point.replace(/[^a-z]+/g, '-')}`;
      const key = newKey();
      const { crashed, send } = await crashOnce(c, memberId, key);
      try {
        // The clock does not move: the dead attempt's claim is within its lease, but this process knows the request
        // that made it is no longer running here.
        const res = await send(crashed, key);
        expect(res.status, res.text).toBe(201);
        expect(res.body.entry.kind).toBe('earn');
        await expectLandedOnce(c, memberId, crashed);
        await expectLedgerClean([crashed]);
      } finally {
        await crashed.close({ keepDatabase: true });
      }
    },
  );

  it('when the process that held the claim has stopped, then another instance takes the request over at once, with no clock advance', { timeout: 20_000 }, async () => {
    const c = cases[1] as Case;
    const memberId = 'stopped-owner';
    const key = newKey();
    const { crashed, send } = await crashOnce(c, memberId, key);
    await crashed.close({ keepDatabase: true });
    const other = await startTestApp({ dbName, clock: new ManualClock(START) });
    try {
      const res = await send(other, key);
      expect(res.status, res.text).toBe(201);
      await expectLandedOnce(c, memberId, other);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });

  it('when the claim is held by a live process whose request is slow, then another instance waits for its answer instead of running it again', async () => {
    const memberId = 'slow-owner';
    const slow = await startTestApp({ dbName, clock: new ManualClock(START) });
    const other = await startTestApp({ dbName, clock: new ManualClock(new Date(START.getTime() + 120_000)) });
    try {
      await registerMember(slow, memberId);
      const key = newKey();
      // A claim of the live instance `slow` with no answer yet, as its request would leave while still running.
      const body = { amount: 5, code: 'order' };
      await slow.db.collection('idempotency_claims').insertOne({
        _id: `${scopeOf({ role: 'service', sub: 'orders' }, key)}#1` as never,
        fingerprint: fingerprintOf('POST', `/v1/members/${memberId}/points/earn`, body),
        owner: slow.built.owner,
        leaseUntil: new Date(START.getTime() + 600_000), // a live owner's claim holds for 10 minutes; the old lease was 30 s
        createdAt: START,
      });
      let answered = false;
      const waiting = points.earn(other, memberId, body, { key }).then((r) => ((answered = true), r));
      await sleep(4000);
      expect(answered).toBe(false);
      expect((await historyOf(observer, memberId)).length).toBe(0);
      await slow.close({ keepDatabase: true }); // its owner stops: the waiter takes over
      const res = await waiting;
      expect(res.status, res.text).toBe(201);
      expect((await historyOf(observer, memberId)).length).toBe(1);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });
});

describe('crash recovery: the expiry sweep', () => {
  it.each(['expire:before-insert', 'expire:after-insert'])(
    'when a sweep dies at %s, then the next sweep finishes the work and nothing expires twice',
    async (point) => {
      const faults = new ArmedFaults();
      const api = await startTestApp({ dbName, faults, clock: new ManualClock(START) });
      const memberId = `sweep-${point.replace(/[^a-z]+/g, '-')}`;
      try {
        await registerMember(api, memberId);
        await earned(api, memberId, 40, { expiresAt: '2026-03-02T00:00:00Z' });
        await earned(api, memberId, 60, { expiresAt: '2026-03-03T00:00:00Z' });
        await earned(api, memberId, 5);
        api.clock.set('2026-03-04T00:00:00Z');

        faults.arm(point);
        await expect(api.built.services.ledger.sweepAccounts([memberId])).rejects.toThrow(`injected crash at ${point}`);
        await api.built.services.ledger.sweep();
        await api.built.services.ledger.sweep();

        const expiries = (await historyOf(api, memberId)).filter((e) => e.kind === 'expire');
        expect(expiries.map((e) => e.points).sort()).toEqual([40, 60]);
        expect(await balanceOf(api, memberId)).toMatchObject({ available: 5, seq: 5 });
        await expectLedgerClean([api]);
      } finally {
        await api.close({ keepDatabase: true });
      }
    },
  );
});

describe('crash recovery: an answer that cannot be recorded', () => {
  const lost = () => Object.assign(new Error('connection lost'), { name: 'MongoNetworkError' });

  it.each([
    ['a step fails after the commit', 'earn:after-insert', 503],
    ['the answer cannot be recorded', 'idempotency:before-record', 201],
  ] as const)(
    'when %s and the database also refuses to record the attempt as abandoned, then a retry on another instance takes the key over once the database answers again',
    { timeout: 30_000 },
    async (_what, point, firstStatus) => {
      const faults = new ArmedFaults();
      const owner = await startTestApp({ dbName, faults, clock: new ManualClock(START) });
      const other = await startTestApp({ dbName, clock: new ManualClock(START) });
      try {
        const memberId = `unrecorded-${point.replace(/[^a-z]+/g, '-')}`;
        await registerMember(owner, memberId);
        const key = newKey();
        faults.arm(point, lost());
        faults.arm('idempotency:before-abandon', lost());
        const first = await points.earn(owner, memberId, { amount: 7, code: 'order' }, { key });
        expect(first.status, first.text).toBe(firstStatus);
        // The owner lives on (its heartbeat beats): the retry must not wait out its claim's 10-minute hold.
        const retried = await points.earn(other, memberId, { amount: 7, code: 'order' }, { key });
        expect(retried.status, retried.text).toBe(201);
        expect(retried.headers.get('idempotent-replayed')).toBe('true');
        expect(await historyOf(observer, memberId)).toHaveLength(1);
      } finally {
        await other.close({ keepDatabase: true });
        await owner.close({ keepDatabase: true });
      }
    },
  );
});
