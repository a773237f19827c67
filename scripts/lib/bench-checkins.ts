/**
 * What the benchmark's check-in phase needs: members who have not checked in today, each with its member token.
 * A member checks in once a day (a second tap is 409 ALREADY_CHECKED_IN, which would measure the refusal, not the
 * check-in), so every measured request takes a member of its own, registered beforehand.
 */
import jwt from 'jsonwebtoken';
import { seedMembers } from './api.js';

/** A `member` token (sub = the member), signed as scripts/token.ts would. */
export const memberToken = (secret: string, memberId: string) => jwt.sign({ role: 'member', sub: memberId }, secret, { algorithm: 'HS256', expiresIn: '4h' });

export type FreshMembers = {
  /** The next member not handed out yet; once all are used, the last one again (its check-in will be a 409). */
  next(): { memberId: string; token: string };
  /** Requests that had to reuse a member because the pool ran out. */
  readonly overdrawn: number;
  readonly size: number;
};

/**
 * Registers `count` members named `<prefix>000001…` through the API, `concurrency` at a time, and mints their tokens;
 * answers the pool and how long registering took (seconds), so the caller can leave it out of its measurements.
 */
export async function registerFresh(
  url: string,
  serviceToken: string,
  secret: string,
  prefix: string,
  count: number,
  concurrency = 32,
): Promise<{ pool: FreshMembers; seconds: number }> {
  const started = performance.now();
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(6, '0')}`);
  await seedMembers(url, serviceToken, ids, { concurrency });
  const members = ids.map((memberId) => ({ memberId, token: memberToken(secret, memberId) }));
  let used = 0;
  let overdrawn = 0;
  const pool: FreshMembers = {
    next() {
      if (used < members.length) return members[used++] as { memberId: string; token: string };
      overdrawn++;
      return members[members.length - 1] as { memberId: string; token: string };
    },
    get overdrawn() {
      return overdrawn;
    },
    size: members.length,
  };
  return { pool, seconds: (performance.now() - started) / 1000 };
}
