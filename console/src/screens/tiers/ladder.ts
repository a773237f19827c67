import { defined, numberOrText, parseJson } from '../../components/editing';

/** A ladder as GET /v1/tiers answers it. */
export type Ladder = {
  version: number;
  tiers: Array<{ code: string; name: string; threshold: number; keepThreshold?: number; earnMultiplier?: number; benefitCodes?: string[]; welcomeBenefit?: string }>;
  policy: { mode?: string; window?: string; graceDays?: number; buckets?: unknown };
  updatedAt: string;
};
export type Preview = { members: number; counts: Record<string, number> };

/** One row of the editor: every field as the operator typed it. */
export type TierRow = { code: string; name: string; threshold: string; keepThreshold: string; earnMultiplier: string; benefitCodes: string; welcomeBenefit: string };
export type Draft = { tiers: TierRow[]; mode: string; window: string; graceDays: string; buckets: string };

export const emptyRow = (): TierRow => ({ code: '', name: '', threshold: '', keepThreshold: '', earnMultiplier: '1', benefitCodes: '', welcomeBenefit: '' });

export function draftOf(ladder: Ladder): Draft {
  const rows = ladder.tiers.map((t) => ({
    code: t.code,
    name: t.name,
    threshold: String(t.threshold),
    keepThreshold: t.keepThreshold === undefined ? '' : String(t.keepThreshold),
    earnMultiplier: String(t.earnMultiplier ?? 1),
    benefitCodes: (t.benefitCodes ?? []).join(', '),
    welcomeBenefit: t.welcomeBenefit ?? '',
  }));
  return {
    tiers: rows.length ? rows : [{ ...emptyRow(), code: 'BASE', threshold: '0' }],
    mode: ladder.policy.mode ?? 'threshold',
    window: ladder.policy.window ?? 'rolling-365d',
    graceDays: String(ladder.policy.graceDays ?? 0),
    buckets: ladder.policy.buckets ? JSON.stringify(ladder.policy.buckets) : '',
  };
}

/**
 * The body PUT /v1/admin/tiers and the preview take, built from the draft. Blank optional fields are left out; what is
 * not a number is sent as typed, so the service's validation names the field. Fails only on buckets that are not JSON.
 */
export function bodyOf(draft: Draft): { ok: true; body: unknown } | { ok: false; error: string } {
  const buckets = draft.mode === 'percentile' ? parseJson(draft.buckets) : { ok: true as const, value: undefined };
  if (!buckets.ok) return { ok: false, error: buckets.error };
  const tiers = draft.tiers.map((r) =>
    defined({
      code: r.code.trim(),
      name: r.name.trim(),
      threshold: numberOrText(r.threshold) ?? '',
      keepThreshold: numberOrText(r.keepThreshold),
      earnMultiplier: numberOrText(r.earnMultiplier),
      benefitCodes: r.benefitCodes.split(',').map((s) => s.trim()).filter(Boolean),
      welcomeBenefit: r.welcomeBenefit.trim() || undefined,
    }),
  );
  const policy = defined({ mode: draft.mode, window: draft.window, graceDays: numberOrText(draft.graceDays), buckets: buckets.value });
  return { ok: true, body: { tiers, policy } };
}
