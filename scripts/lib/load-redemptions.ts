/**
 * The `redemptions` load scenario's catalogue and its reconciliation (issue 12, item 8): a hot flash-sale item with
 * small stock and a long tail, defined through the API before k6 runs; afterwards, per benefit, the units of the
 * redemptions that hold stock (from GET /v1/admin/redemptions) must equal the stock taken − returned (from the stock's
 * levels in the store), the hot item must not be oversold, and what k6 saw issued and cancelled must add up to them.
 */
import type { Connection } from 'mongoose';
import { benefitStock } from '../../src/modules/benefits/stock.js';
import { pool } from './api.js';

export type Catalogue = { hot: string; hotStock: number; tail: string[]; stocked: string[] };
/** What k6 counted: units issued (each redemption once) and cancelled, and taps whose outcome it never learnt. */
export type K6Units = { redeemed: number; cancelled: number; unknown: number };

/** Statuses whose redemption keeps its units of stock (an expired voucher keeps its unit too). */
const HOLDING = new Set(['issued', 'used', 'expired']);

async function send(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * Defines the scenario's benefits under codes of this run (so a kept database never mixes two runs): the hot item,
 * one unit per member, and `tailSize` long-tail items, every other one with stock, the rest unlimited.
 */
export async function defineCatalogue(baseUrl: string, ops: string, runId: string, opts: { hotStock: number; tailSize: number }): Promise<Catalogue> {
  const hot = `flash-${runId}`;
  const items: Record<string, Record<string, unknown>> = {
    [hot]: { name: 'Flash sale (load)', kind: 'gift', costPoints: 300, stock: opts.hotStock, perMemberLimit: { count: 1, period: 'lifetime' }, active: true },
  };
  const tail: string[] = [];
  const stocked = [hot];
  for (let i = 1; i <= opts.tailSize; i++) {
    const code = `tail-${runId}-${String(i).padStart(2, '0')}`;
    const stock = i % 2 === 1 ? 1000 : null;
    items[code] = { name: `Long-tail item ${i}`, kind: i % 3 === 0 ? 'voucher' : 'coupon', costPoints: 20 + ((i * 37) % 180), stock, voucherValidDays: 30, active: true };
    tail.push(code);
    if (stock !== null) stocked.push(code);
  }
  await pool(Object.entries(items), 4, async ([code, body]) => {
    const res = await send(baseUrl, ops, 'PUT', `/v1/admin/benefits/${code}`, body);
    if (res.status !== 201 && res.status !== 200) throw new Error(`defining ${code}: ${res.status} ${JSON.stringify(res.body)}`);
  });
  return { hot, hotStock: opts.hotStock, tail, stocked };
}

/** Units held by the redemptions of each benefit, as ops list them (every page of GET /v1/admin/redemptions). */
export async function heldUnits(baseUrl: string, ops: string, codes: string[]): Promise<Map<string, number>> {
  const held = new Map<string, number>();
  await pool(codes, 4, async (code) => {
    let units = 0;
    let cursor: string | null = null;
    do {
      const res = await send(baseUrl, ops, 'GET', `/v1/admin/redemptions?benefit=${code}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      if (res.status !== 200) throw new Error(`listing redemptions of ${code}: ${res.status} ${JSON.stringify(res.body)}`);
      const page = res.body as { items: Array<{ status: string; quantity: number }>; nextCursor: string | null };
      for (const r of page.items) if (HOLDING.has(r.status)) units += r.quantity;
      cursor = page.nextCursor;
    } while (cursor);
    held.set(code, units);
  });
  return held;
}

/**
 * Compares, on the stopped service's store, each stocked benefit's units taken − returned with the units its
 * redemptions hold, checks the hot item was not oversold, and k6's own count against the list. Answers the lines to
 * print and the failures.
 */
export async function reconcile(db: Connection, cat: Catalogue, held: Map<string, number>, k6: K6Units): Promise<{ lines: string[]; failures: string[] }> {
  const lines: string[] = [];
  const failures: string[] = [];
  const stock = benefitStock(db);
  const wrong: string[] = [];
  let taken = 0;
  for (const code of cat.stocked) {
    const levels = await stock.levels(code);
    const out = levels.taken - levels.returned;
    taken += out;
    if (out !== (held.get(code) ?? 0)) wrong.push(`${code}: stock taken − returned ${out}, redemptions hold ${held.get(code) ?? 0}`);
    if (code === cat.hot) {
      const line = `${code}: ${out} of ${cat.hotStock} units sold, ${levels.left} left`;
      if (levels.left < 0 || out > cat.hotStock) failures.push(`flash sale oversold: ${line}`);
      else lines.push(`flash sale: ${line}`);
    }
  }
  const all = [...held.values()].reduce((a, b) => a + b, 0);
  const summary = `${cat.stocked.length} stocked benefits, ${taken} units taken and held by issued redemptions; ${all} units held over all ${held.size} benefits`;
  if (wrong.length === 0) lines.push(`redemptions reconcile OK: ${summary}`);
  else failures.push(`redemptions reconcile FAILED: ${wrong.slice(0, 10).join('; ')}`);
  const seen = `k6 saw ${k6.redeemed} units issued − ${k6.cancelled} cancelled = ${k6.redeemed - k6.cancelled}; the admin list holds ${all}`;
  if (k6.unknown > 0) lines.push(`redemption count not decidable: ${seen}; ${k6.unknown} taps got no answer`);
  else if (k6.redeemed - k6.cancelled === all) lines.push(`redemption count OK: ${seen}`);
  else failures.push(`redemption count FAILED: ${seen}`);
  return { lines, failures };
}
