import { codedApi } from '../../components/coded-resource';
import { defined, numberOrText, parseJson } from '../../components/editing';

export type Formula = { kind: 'fixed'; amount: number } | { kind: 'per-unit'; property: string; unit: number; points: number; max?: number };
/** A rule as GET /v1/admin/earning-rules answers it. */
export type RuleView = {
  code: string;
  name: string;
  eventType: string;
  points?: Formula;
  growth?: Formula;
  conditions?: Record<string, unknown>;
  tierMultipliers?: Record<string, number>;
  caps?: Record<string, number>;
  active: boolean;
  pendingDays?: number;
  updatedAt: string;
};

/** GET /v1/admin/earning-rules lists every rule (no cursor); GET and PUT /v1/admin/earning-rules/:code read and save one. */
export const rules = codedApi<RuleView>('/v1/admin/earning-rules', 'rule');

/** The editor's fields as typed: the points formula as a form, the rest of the rule as JSON. */
export type RuleDraft = {
  code: string;
  name: string;
  eventType: string;
  active: boolean;
  pointsKind: 'none' | 'fixed' | 'per-unit';
  amount: string;
  property: string;
  unit: string;
  perUnitPoints: string;
  max: string;
  extra: string;
};

const str = (n: number | undefined) => (n === undefined ? '' : String(n));

export function draftOf(rule: RuleView | undefined): RuleDraft {
  const p = rule?.points;
  const extra = rule
    ? defined({ growth: rule.growth, conditions: rule.conditions ?? {}, tierMultipliers: rule.tierMultipliers, caps: rule.caps ?? {}, pendingDays: rule.pendingDays })
    : { conditions: {}, caps: {} };
  return {
    code: rule?.code ?? '',
    name: rule?.name ?? '',
    eventType: rule?.eventType ?? 'order.paid',
    active: rule?.active ?? true,
    pointsKind: rule ? (p?.kind ?? 'none') : 'per-unit',
    amount: p?.kind === 'fixed' ? String(p.amount) : '',
    property: p?.kind === 'per-unit' ? p.property : 'amount',
    unit: p?.kind === 'per-unit' ? String(p.unit) : '1',
    perUnitPoints: p?.kind === 'per-unit' ? String(p.points) : '1',
    max: p?.kind === 'per-unit' ? str(p.max) : '',
    extra: JSON.stringify(extra, null, 2),
  };
}

/** The body PUT /v1/admin/earning-rules/:code takes; fails only when the JSON part is not a JSON object. */
export function bodyOf(d: RuleDraft, notObject: string): { ok: true; body: Record<string, unknown> } | { ok: false; error: string } {
  const extra = parseJson(d.extra);
  if (!extra.ok) return { ok: false, error: extra.error };
  const rest = extra.value ?? {};
  if (typeof rest !== 'object' || Array.isArray(rest) || rest === null) return { ok: false, error: notObject };
  const points =
    d.pointsKind === 'fixed'
      ? { kind: 'fixed', amount: numberOrText(d.amount) ?? '' }
      : d.pointsKind === 'per-unit'
        ? defined({ kind: 'per-unit', property: d.property.trim(), unit: numberOrText(d.unit) ?? '', points: numberOrText(d.perUnitPoints) ?? '', max: numberOrText(d.max) })
        : undefined;
  return { ok: true, body: defined({ name: d.name, eventType: d.eventType.trim(), active: d.active, ...(rest as Record<string, unknown>), points }) };
}
