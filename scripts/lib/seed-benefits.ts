/**
 * The demo points mall `npm run seed` loads (issue 12): a catalogue of coupons, gifts and vouchers with costs and stock,
 * the tier privileges the seeded ladder names (`free-shipping`, `birthday-gift`, `lounge`), a flash-sale item, and a
 * few redemptions in each state a voucher can be in. Everything goes through the API, like any client.
 */

/** What this file reads of an answer: a redemption, or an error's code. */
export type Answer = { redemption?: { id: string; status: string }; error?: { code: string } } | undefined;
/** Sends a request; answers the status and the parsed body, whatever the status. */
export type Request = (method: string, path: string, token: string, body?: unknown, key?: string) => Promise<{ status: number; body: Answer }>;

/** Sends a request that must answer `ok`; answers its body. */
async function expectStatus(request: Request, ok: number[], ...args: Parameters<Request>): Promise<Answer> {
  const res = await request(...args);
  if (!ok.includes(res.status)) throw new Error(`${args[0]} ${args[1]} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const day = 86_400_000;

/** Benefit definitions by code, as `PUT /v1/admin/benefits/:code` takes them. */
export function catalogue(now: Date): Record<string, Record<string, unknown>> {
  return {
    'coffee-coupon': { name: 'Coffee coupon', kind: 'coupon', costPoints: 200, stock: 500, perMemberLimit: { count: 1, period: 'day' }, voucherValidDays: 30, active: true },
    'tote-bag': { name: 'Canvas tote bag', kind: 'gift', costPoints: 800, stock: 100, perMemberLimit: { count: 2, period: 'month' }, active: true },
    'cinema-voucher': { name: 'Cinema ticket voucher', kind: 'voucher', costPoints: 1500, stock: 50, tiers: ['SILVER', 'GOLD', 'PLATINUM'], voucherValidDays: 90, active: true },
    'gift-card-50': { name: '50-yuan gift card', kind: 'voucher', costPoints: 5000, stock: 20, perMemberLimit: { count: 1, period: 'year' }, voucherValidDays: 365, active: true },
    // Tier privileges: free for the tiers whose benefitCodes name them, bought with points by anyone else it is open to.
    'free-shipping': { name: 'Free shipping coupon', description: 'Monthly for Silver and above', kind: 'coupon', costPoints: 100, stock: null, perMemberLimit: { count: 1, period: 'month' }, voucherValidDays: 31, active: true },
    'birthday-gift': { name: 'Birthday gift', description: 'Once a year for Gold and Platinum', kind: 'gift', costPoints: 0, tiers: ['GOLD', 'PLATINUM'], stock: 1000, perMemberLimit: { count: 1, period: 'year' }, active: true },
    lounge: { name: 'Airport lounge pass', kind: 'privilege', costPoints: 0, tiers: ['PLATINUM'], stock: null, perMemberLimit: { count: 2, period: 'month' }, voucherValidDays: 60, active: true },
    // A flash sale (秒杀): few units, one per member, for a week from the seed.
    'flash-earbuds': {
      name: 'Flash sale: wireless earbuds', kind: 'gift', costPoints: 990, stock: 10, perMemberLimit: { count: 1, period: 'lifetime' },
      validFrom: new Date(now.getTime() - day).toISOString(), validTo: new Date(now.getTime() + 7 * day).toISOString(), active: true,
    },
  };
}

/** Saves every benefit of the catalogue (each save is a new version; a repeat moves nothing: stock is a total). */
export async function seedCatalogue(request: Request, ops: string, now: Date): Promise<number> {
  const items = catalogue(now);
  for (const [code, body] of Object.entries(items)) await expectStatus(request, [200, 201], 'PUT', `/v1/admin/benefits/${code}`, ops, body);
  return Object.keys(items).length;
}

type Plan = { member: string; benefit: string; then?: 'use' | 'cancel' };

/**
 * Redemptions by the first demo members (the top ones reach Platinum, Gold and Silver): vouchers issued, used and
 * cancelled, tier privileges taken free, and flash-sale units. Keys are fixed, so a second seed replays them.
 * Answers how many ended in each status (a refusal, say a tier not reached, is counted as its error code).
 */
export async function seedRedemptions(request: Request, tokens: { service: string; ops: string }, members: string[]): Promise<Record<string, number>> {
  const [first, second, third, fourth] = members;
  const plans: Plan[] = [
    { member: first, benefit: 'tote-bag', then: 'use' },
    { member: first, benefit: 'free-shipping' },
    { member: first, benefit: 'birthday-gift' },
    { member: first, benefit: 'lounge' },
    { member: second, benefit: 'coffee-coupon' },
    { member: second, benefit: 'cinema-voucher', then: 'cancel' },
    { member: second, benefit: 'free-shipping', then: 'use' },
    { member: third, benefit: 'coffee-coupon', then: 'cancel' },
    ...[first, second, third, fourth].map((member) => ({ member, benefit: 'flash-earbuds' })),
  ].filter((p): p is Plan => p.member !== undefined);
  const outcomes: Record<string, number> = {};
  const count = (what: string) => (outcomes[what] = (outcomes[what] ?? 0) + 1);
  for (const p of plans) {
    const key = `seed-redeem-${p.member}-${p.benefit}`;
    const res = await request('POST', `/v1/members/${p.member}/redemptions`, tokens.service, { benefitCode: p.benefit, quantity: 1 }, key);
    // A refusal (a tier the member did not reach, the flash sale sold out, too few points) is a demo outcome too.
    if (res.status === 403 || res.status === 409) {
      count(String(res.body?.error?.code ?? res.status));
      continue;
    }
    if (res.status !== 201) throw new Error(`redeeming ${p.benefit} for ${p.member} → ${res.status} ${JSON.stringify(res.body)}`);
    const id = encodeURIComponent(res.body?.redemption?.id ?? '');
    let view = res.body;
    if (p.then === 'use') view = await expectStatus(request, [200], 'POST', `/v1/redemptions/${id}/use`, tokens.service);
    if (p.then === 'cancel') view = await expectStatus(request, [200], 'POST', `/v1/redemptions/${id}/cancel`, tokens.ops, undefined, `seed-cancel-${p.member}-${p.benefit}`);
    count(view?.redemption?.status ?? 'unknown');
  }
  return outcomes;
}
