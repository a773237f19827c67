/**
 * The benchmark's points-mall phase (issue 12): redemptions of a long-tail catalogue at 32 connections, and a flash
 * sale — one item of FLASH_UNITS units wanted by FLASH_MEMBERS members at once, each asking once. It measures over
 * HTTP like the rest of the bench, then reads the outcome back (GET /v1/admin/redemptions, GET /v1/benefits) to check
 * that the sale sold exactly its stock.
 */
import { randomBytes } from 'node:crypto';
import { memberToken } from './bench-checkins.js';
import { seedMembers } from './api.js';

export type HttpStats = { ok: number; sent: number; bad: number; rps: number; p50: number; p99: number; statuses: Record<string, number> };
export type Req = { method: 'GET' | 'POST'; path: string; body?: unknown; token?: string; idempotent?: boolean };
export type HttpRun = (url: string, connections: number, build: () => Req, limit?: { seconds?: number; amount?: number; timeoutSeconds?: number }) => Promise<HttpStats>;

export const LONG_TAIL = 50;
export const FLASH_UNITS = 1000;
export const FLASH_MEMBERS = 2000;
/** Every request of the flash sale is in flight at once: one connection per member. */
export const FLASH_CONNECTIONS = FLASH_MEMBERS;
/** How long a flash-sale client waits for its answer (the bench's other runs wait 30 s). */
export const FLASH_TIMEOUT_SECONDS = 120;
/** Points entries a redemption of a benefit that costs points writes: its hold, then its capture (or release). */
export const ENTRIES_PER_REDEMPTION = 2;

async function put(url: string, opsToken: string, code: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/v1/admin/benefits/${code}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${opsToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: code, kind: 'coupon', active: true, ...body }),
  });
  if (res.status >= 300) throw new Error(`benefit ${code}: ${res.status} ${await res.text()}`);
}

/** How many redemptions of `code` are issued, read back page by page through the ops list. */
async function issuedOf(url: string, opsToken: string, code: string): Promise<number> {
  let issued = 0;
  let cursor: string | null = null;
  do {
    const res = await fetch(`${url}/v1/admin/redemptions?benefit=${code}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${opsToken}` } });
    const page = (await res.json()) as { items: Array<{ status: string }>; nextCursor: string | null };
    issued += page.items.filter((r) => r.status === 'issued').length;
    cursor = page.nextCursor;
  } while (cursor);
  return issued;
}

export type RedemptionFigures = {
  longTail: HttpStats;
  flash: HttpStats & { seconds: number; unitsPerSecond: number; issued: number; outOfStock: number; issuedListed: number; stockLeft: number | null };
  flashMembersSeeded: number;
};

/**
 * Runs both measurements against the service at `url`; `members` already hold points. The flash sale's members are
 * registered (with points) first, not measured.
 */
export async function benchRedemptions(
  url: string,
  tokens: { service: string; ops: string; secret: string },
  members: () => string,
  seconds: number,
  httpRun: HttpRun,
): Promise<RedemptionFigures> {
  const run = randomBytes(3).toString('hex');
  const tail = Array.from({ length: LONG_TAIL }, (_, i) => `tail-${run}-${i}`);
  for (const code of tail) await put(url, tokens.ops, code, { costPoints: 1, stock: 1_000_000 });
  const flash = `flash-${run}`;
  await put(url, tokens.ops, flash, { costPoints: 10, stock: FLASH_UNITS });

  const pick = () => tail[Math.floor(Math.random() * tail.length)] as string;
  const longTail = await httpRun(url, 32, () => ({ method: 'POST', path: `/v1/members/${members()}/redemptions`, body: { benefitCode: pick(), quantity: 1 } }), { seconds });

  const flashMembers = Array.from({ length: FLASH_MEMBERS }, (_, i) => `flash-${run}-${String(i).padStart(5, '0')}`);
  await seedMembers(url, tokens.service, flashMembers, { openingPoints: 100, concurrency: 16 });
  let next = 0;
  const started = performance.now();
  const sale = await httpRun(
    url,
    FLASH_CONNECTIONS,
    () => {
      const memberId = flashMembers[next++ % flashMembers.length] as string;
      return { method: 'POST', path: '/v1/me/redemptions', token: memberToken(tokens.secret, memberId), body: { benefitCode: flash, quantity: 1 } };
    },
    // 2,000 requests at once queue in one service process: on a slow backend the last wait well over 30 s.
    { amount: FLASH_MEMBERS, timeoutSeconds: FLASH_TIMEOUT_SECONDS },
  );
  const took = (performance.now() - started) / 1000;
  const listed = await issuedOf(url, tokens.ops, flash);
  const catalogue = await fetch(`${url}/v1/benefits?limit=100`, { headers: { authorization: `Bearer ${memberToken(tokens.secret, flashMembers[0] as string)}` } });
  const items = ((await catalogue.json()) as { items: Array<{ code: string; stockLeft: number | null }> }).items;
  return {
    longTail,
    flash: {
      ...sale,
      seconds: took,
      unitsPerSecond: (sale.statuses['201'] ?? 0) / took,
      issued: sale.statuses['201'] ?? 0,
      outOfStock: sale.statuses['409'] ?? 0,
      issuedListed: listed,
      stockLeft: items.find((b) => b.code === flash)?.stockLeft ?? null,
    },
    flashMembersSeeded: FLASH_MEMBERS,
  };
}
