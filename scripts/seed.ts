/**
 * Seeds a realistic demo program into a running service through its own API, so it is explorable right after
 * `npm start`: a 4-tier ladder, earning rules (orders, registration, shares, a member-day campaign, a birthday bonus),
 * a check-in calendar, the new-member task pack with badges, a points mall (coupons, gifts, vouchers, tier privileges
 * and a flash sale: scripts/lib/seed-benefits.ts), members with order, refund, redemption and check-in history, and a
 * referral program with invited friends in most of its states.
 *
 *     JWT_SECRET=<the service's> npm run seed [-- --url http://127.0.0.1:3000] [--members 20]
 *
 * Run it once per database: every write has a fixed idempotency key or event id, so running it again changes nothing.
 */
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { seedCatalogue, seedRedemptions, type Answer, type Request } from './lib/seed-benefits.js';

const { values } = parseArgs({
  options: { url: { type: 'string', default: 'http://127.0.0.1:3000' }, members: { type: 'string', default: '20' } },
  strict: true,
});
const secret = process.env.JWT_SECRET;
if (!secret) {
  process.stderr.write('set JWT_SECRET to the secret the service uses (npm start logs it when it generates one)\n');
  process.exit(2);
}
const sign = (role: string, sub: string) => jwt.sign({ role, sub }, secret, { algorithm: 'HS256', expiresIn: '10m' });
const ops = sign('ops', 'seed');
const service = sign('service', 'seed-shop');

const request: Request = async (method, path, token, body, key) => {
  const res = await fetch(`${values.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer) : undefined };
};

async function call(method: string, path: string, token: string, body?: unknown, key?: string): Promise<unknown> {
  const res = await request(method, path, token, body, key);
  if (res.status >= 400 && res.status !== 409) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as unknown;
}

await call('PUT', '/v1/admin/tiers', ops, {
  tiers: [
    { code: 'BASE', name: 'Member', threshold: 0 },
    { code: 'SILVER', name: 'Silver', threshold: 500, keepThreshold: 400, earnMultiplier: 1.2, benefitCodes: ['free-shipping'] },
    { code: 'GOLD', name: 'Gold', threshold: 2000, keepThreshold: 1600, earnMultiplier: 1.5, benefitCodes: ['free-shipping', 'birthday-gift'] },
    { code: 'PLATINUM', name: 'Platinum', threshold: 8000, keepThreshold: 6000, earnMultiplier: 2, benefitCodes: ['free-shipping', 'birthday-gift', 'lounge'] },
  ],
  policy: { mode: 'threshold', window: 'rolling-365d', graceDays: 30 },
});
// The points mall: the benefits the ladder's privileges name must exist before members can redeem them.
const benefits = await seedCatalogue(request, ops, new Date());
const rules: Record<string, unknown> = {
  'order-points': { name: '1 point per yuan, 1 growth per 10 yuan', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, growth: { kind: 'per-unit', property: 'amount', unit: 10, points: 1 } },
  'big-basket': { name: '100 bonus points on orders of 500 or more', eventType: 'order.paid', points: { kind: 'fixed', amount: 100 }, conditions: { minAmount: 500 } },
  'member-day': { name: 'Member day: double points on the 8th, 18th and 28th', eventType: 'order.paid', points: { kind: 'per-unit', property: 'amount', unit: 1, points: 1 }, conditions: { monthDays: [8, 18, 28] } },
  'birthday-month': { name: 'Birthday month: 200 bonus on the first orders', eventType: 'order.paid', points: { kind: 'fixed', amount: 200 }, conditions: { birthdayMonth: true }, caps: { perMonth: 1 } },
  welcome: { name: 'Welcome: 200 points and 50 growth', eventType: 'member.registered', points: { kind: 'fixed', amount: 200 }, growth: { kind: 'fixed', amount: 50 } },
  share: { name: 'Share: 5 points, 3 times a day', eventType: 'content.shared', points: { kind: 'fixed', amount: 5 }, growth: { kind: 'fixed', amount: 1 }, caps: { perDay: 3 } },
  review: { name: 'Review: 20 points, 10 a month', eventType: 'review.posted', points: { kind: 'fixed', amount: 20 }, caps: { perMonth: 10 } },
};
for (const [code, rule] of Object.entries(rules)) await call('PUT', `/v1/admin/earning-rules/${code}`, ops, rule);
// A 7-day reward cycle with a bigger seventh day, streak milestones, and two paid make-ups a month.
await call('PUT', '/v1/admin/checkin-config', ops, {
  cycle: [5, 5, 10, 5, 5, 10, 30],
  milestones: [{ streak: 7, points: 50, growth: 5 }, { streak: 30, points: 300, growth: 30 }],
  growthPerCheckin: 1,
  makeup: { cost: 20, perMonth: 2 },
});
// The new-member pack (register, first order, first share within 7 days), a streak badge and a weekly repeatable task.
// Set before the members register, so their registration counts.
const newMember = { type: 'from-registration', days: 7 };
const tasks: Record<string, unknown> = {
  'welcome-register': { name: 'Join the club', eventType: 'member.registered', target: 1, window: newMember, reward: { points: 50, badge: { code: 'newcomer', name: 'Newcomer' } } },
  'welcome-first-order': { name: 'Place your first order within 7 days', eventType: 'order.paid', target: 1, window: newMember, reward: { points: 100, growth: 20, badge: { code: 'first-order', name: 'First order' } } },
  'welcome-first-share': { name: 'Share something within 7 days', eventType: 'content.shared', target: 1, window: newMember, reward: { points: 30 } },
  'streak-7': { name: 'Check in 7 days in a row', eventType: 'member.checked_in', condition: { property: 'streak', min: 7 }, target: 1, window: { type: 'lifetime' }, reward: { badge: { code: 'week-streak', name: 'Seven in a row' } } },
  'weekly-orders': { name: '3 orders this week', eventType: 'order.paid', target: 3, window: { type: 'calendar', period: 'week' }, repeatable: true, reward: { points: 50 } },
};
for (const [code, task] of Object.entries(tasks)) await call('PUT', `/v1/admin/tasks/${code}`, ops, task);

const names = ['Ann', 'Bo', 'Chen', 'Dana', 'Eli', 'Fang', 'Gus', 'Hana', 'Ivo', 'Jin', 'Kai', 'Lea', 'Min', 'Noor', 'Oli', 'Pei', 'Quin', 'Ravi', 'Su', 'Tao'];
const zones = ['Asia/Shanghai', 'Asia/Tokyo', 'Europe/Berlin', 'America/New_York', 'UTC'];
const count = Math.min(Number(values.members), 200);
let orders = 0;
const memberIds: string[] = [];
for (let i = 0; i < count; i++) {
  const memberId = `demo-${String(i + 1).padStart(3, '0')}`;
  memberIds.push(memberId);
  await call('POST', '/v1/members', service, {
    memberId,
    displayName: names[i % names.length],
    timezone: zones[i % zones.length],
    birthday: `${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}`,
  });
  // A few orders each, bigger for the first members, so the ladder shows every tier.
  const n = 4 - (i % 4);
  for (let k = 0; k < n; k++) {
    const orderId = `SO-${memberId}-${k + 1}`;
    const amount = Math.round((30000 / (i + 1) ** 1.5 + 40 * (k + 1)) * 100) / 100;
    await call('POST', '/v1/events', service, { eventId: `paid-${orderId}`, memberId, type: 'order.paid', occurredAt: new Date().toISOString(), properties: { orderId, amount, category: k % 2 ? 'grocery' : 'apparel' } });
    orders++;
  }
  if (i % 3 === 0) {
    await call('POST', '/v1/events', service, { eventId: `share-${memberId}`, memberId, type: 'content.shared', occurredAt: new Date().toISOString(), properties: {} });
  }
  if (i % 5 === 1) {
    const orderId = `SO-${memberId}-1`;
    await call('POST', '/v1/events', service, { eventId: `refund-${orderId}`, memberId, type: 'order.refunded', occurredAt: new Date().toISOString(), properties: { orderId, amount: 20 } });
  }
  if (i % 4 === 2) {
    const hold = (await call('POST', `/v1/members/${memberId}/points/holds`, service, { amount: 50, code: 'redemption' }, `seed-hold-${memberId}`)) as { hold?: { id: string } };
    if (hold.hold) await call('POST', `/v1/points/holds/${hold.hold.id}/capture`, service, { amount: 50 }, `seed-capture-${memberId}`);
  }
  // Most members check in today, in their own time zone (days before registration cannot be made up, so no history).
  if (i % 5 !== 4) await call('POST', '/v1/me/checkins', sign('member', memberId), undefined, `seed-checkin-${memberId}`);
}
// After the orders, so the first members have the points and the tiers their redemptions need.
const redeemed = await seedRedemptions(request, { service, ops }, memberIds);
const outcomes = Object.entries(redeemed).map(([status, n]) => `${n} ${status}`).join(', ');

// Invite a friend: demo-001 invites seven friends, who end up in each state a seed run can reach at once (expired needs
// the 30-day window to pass): bound, rewarded (held 14 days), reversed, review (one device for several friends),
// rejected and approved by ops.
await call('PUT', '/v1/admin/referral-program', ops, {
  qualifying: { eventType: 'order.paid', minAmount: 100, withinDays: 30 },
  rewards: { referrer: { points: 300 }, invitee: { points: 100 } },
  monthlyCap: 20,
  milestones: [{ count: 5, points: 500 }, { count: 10, points: 1500 }],
  holdDays: 14,
  fraud: { maxInviteesPerDevice: 1, maxBindsPerIpPerDay: 10 },
});
const { code } = (await call('GET', '/v1/me/referral', sign('member', 'demo-001'))) as { code: string };
const friends: Array<{ id: string; name: string; device: string; order?: number; then?: 'refund' | 'reject' | 'approve' }> = [
  { id: 'friend-01', name: 'Uma', device: 'phone-u' },
  { id: 'friend-02', name: 'Vic', device: 'phone-v', order: 260 },
  { id: 'friend-03', name: 'Wen', device: 'phone-w', order: 180, then: 'refund' },
  { id: 'friend-04', name: 'Xia', device: 'shared-tablet', order: 120 },
  { id: 'friend-05', name: 'Yan', device: 'shared-tablet', order: 150 },
  { id: 'friend-06', name: 'Zoe', device: 'shared-tablet', order: 140, then: 'reject' },
  { id: 'friend-07', name: 'Abe', device: 'shared-tablet', order: 300, then: 'approve' },
];
for (const [i, f] of friends.entries()) {
  await call('POST', '/v1/members', service, { memberId: f.id, displayName: f.name, referralCode: code, device: { id: f.device, ip: `198.51.100.${20 + i}` } });
  if (!f.order) continue;
  const orderId = `SO-${f.id}-1`;
  await call('POST', '/v1/events', service, { eventId: `paid-${orderId}`, memberId: f.id, type: 'order.paid', occurredAt: new Date().toISOString(), properties: { orderId, amount: f.order } });
  if (f.then === 'refund') {
    await call('POST', '/v1/events', service, { eventId: `refund-${orderId}`, memberId: f.id, type: 'order.refunded', occurredAt: new Date().toISOString(), properties: { orderId, amount: f.order } });
  }
  if (f.then === 'reject' || f.then === 'approve') {
    await call('POST', `/v1/admin/referrals/${f.id}/${f.then}`, ops, { note: f.then === 'approve' ? 'family, checked by phone' : 'same tablet as two other friends' }, `seed-${f.then}-${f.id}`);
  }
}

process.stdout.write(
  `seeded a 4-tier ladder, ${Object.keys(rules).length} earning rules, a check-in calendar, ${Object.keys(tasks).length} tasks, ${benefits} benefits, ${count} members, ${orders} orders and redemptions (${outcomes}) and a referral program with ${friends.length} invited friends into ${values.url}\n`,
);
