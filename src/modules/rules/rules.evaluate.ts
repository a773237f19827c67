/**
 * Earning-rule evaluation with no I/O (PRODUCT.md §5): does a rule fire for an event and a member, and what does it pay.
 * Both event processing and the dry-run endpoint use it, so a dry run answers exactly what processing would do
 * (caps aside, which depend on what was already paid).
 */
import { DateTime } from 'luxon';
import type { Conditions, Formula, RuleInput } from './rules.schemas.js';

export type Rule = RuleInput & { code: string };
export type RuleEvent = { type: string; occurredAt: Date; properties: Record<string, unknown> };
export type MemberContext = {
  tier: string | null;
  /** The tier's ladder multiplier (1 without a tier). */
  tierMultiplier: number;
  timezone: string;
  birthday: string | null;
};

export type Evaluation =
  /** `pendingDays`: how long the points stay pending after the event (absent when they are available at once). */
  | { rule: string; fired: true; points: number; growth: number; multiplier: number; pendingDays?: number }
  | { rule: string; fired: false; reason: string };

function numberAt(props: Record<string, unknown>, name: string): number | undefined {
  const v = props[name];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** Points of a formula for these properties, rounded down; undefined when the property it reads is missing. */
export function applyFormula(f: Formula, props: Record<string, unknown>): number | undefined {
  if (f.kind === 'fixed') return f.amount;
  const value = numberAt(props, f.property);
  if (value === undefined) return undefined;
  // Integer maths where possible: floor(value / unit) units, each worth `points`.
  const units = Math.floor(value / f.unit + 1e-9);
  const raw = units * f.points;
  return f.max !== undefined ? Math.min(raw, f.max) : raw;
}

/** Why the conditions do not hold, or undefined when they do. */
export function failedCondition(c: Conditions, event: RuleEvent, member: MemberContext, programTimezone: string): string | undefined {
  const at = event.occurredAt.getTime();
  if (c.from && at < Date.parse(c.from)) return 'before the rule window';
  if (c.to && at >= Date.parse(c.to)) return 'after the rule window';
  const programDay = DateTime.fromJSDate(event.occurredAt, { zone: programTimezone });
  if (c.weekdays && !c.weekdays.includes(programDay.weekday)) return 'not on one of the rule weekdays';
  if (c.monthDays && !c.monthDays.includes(programDay.day)) return 'not on one of the rule days of the month';
  if (c.tiers && (!member.tier || !c.tiers.includes(member.tier))) return 'the member tier is not eligible';
  if (c.birthdayMonth) {
    const month = DateTime.fromJSDate(event.occurredAt, { zone: member.timezone }).month;
    if (!member.birthday || Number(member.birthday.slice(0, 2)) !== month) return 'not the member birthday month';
  }
  if (c.minAmount !== undefined) {
    const prop = c.amountProperty ?? 'amount';
    const value = numberAt(event.properties, prop);
    if (value === undefined) return `the event has no numeric ${prop}`;
    if (value < c.minAmount) return `${prop} is below the minimum ${c.minAmount}`;
  }
  if (c.categories) {
    const category = event.properties.category;
    if (typeof category !== 'string' || !c.categories.includes(category)) return 'the category is not eligible';
  }
  return undefined;
}

/** Evaluates one rule (of the event's type) for an event and a member. */
export function evaluateRule(rule: Rule, event: RuleEvent, member: MemberContext, programTimezone: string): Evaluation {
  if (!rule.active) return { rule: rule.code, fired: false, reason: 'the rule is inactive' };
  if (rule.eventType !== event.type) return { rule: rule.code, fired: false, reason: 'another event type' };
  const failed = failedCondition(rule.conditions, event, member, programTimezone);
  if (failed) return { rule: rule.code, fired: false, reason: failed };
  const base = rule.points ? applyFormula(rule.points, event.properties) : 0;
  const growth = rule.growth ? applyFormula(rule.growth, event.properties) : 0;
  if (base === undefined || growth === undefined) return { rule: rule.code, fired: false, reason: 'the event lacks the property the formula reads' };
  const multiplier = (member.tier ? rule.tierMultipliers?.[member.tier] : undefined) ?? member.tierMultiplier;
  const points = Math.floor(base * multiplier + 1e-9);
  if (points === 0 && growth === 0) return { rule: rule.code, fired: false, reason: 'the formula pays nothing for this event' };
  const pending = points > 0 && rule.pendingDays ? { pendingDays: rule.pendingDays } : {};
  return { rule: rule.code, fired: true, points, growth, multiplier, ...pending };
}
