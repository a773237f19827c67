import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { Field, Problem, Section } from '../../components/ui';
import { call } from '../../lib/api';
import { useT } from '../../lib/i18n';
import { KINDS, m, otherFieldsOf, type Benefit } from './messages';

type Form = { name: string; description: string; kind: Benefit['kind']; costPoints: string; stock: string; active: boolean; other: string };

const formOf = (b: Benefit | null): Form => ({
  name: b?.name ?? '',
  description: b?.description ?? '',
  kind: b?.kind ?? 'coupon',
  costPoints: String(b?.costPoints ?? 0),
  stock: b?.stock === null || b?.stock === undefined ? '' : String(b.stock),
  active: b?.active ?? true,
  other: JSON.stringify(otherFieldsOf(b), null, 2),
});

const wholeNumber = (s: string): number | null => (/^\d+$/.test(s.trim()) ? Number(s) : null);

/**
 * The editor of PUT /v1/admin/benefits/:code: the common fields as a form, the rest as JSON. The API validates the
 * whole body and names the failing paths; the form only catches what it can say better.
 */
export function Editor({ code, benefit, onSaved }: { code: string; benefit: Benefit | null; onSaved: (b: Benefit) => void }) {
  const t = useT(m);
  const [form, setForm] = useState<Form>(() => formOf(benefit));
  const [problem, setProblem] = useState<string>();
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((prev) => ({ ...prev, [key]: value }));
  const save = useIntent((body: Record<string, unknown>) =>
    call<{ benefit: Benefit }>('PUT', `/v1/admin/benefits/${encodeURIComponent(code)}`, { body }).then((r) => onSaved(r.benefit)),
  );

  const review = (e: Event) => {
    e.preventDefault();
    setProblem(undefined);
    let other: unknown;
    try {
      other = JSON.parse(form.other || '{}');
    } catch (err) {
      return setProblem(t('badJson', { message: (err as Error).message }));
    }
    if (typeof other !== 'object' || other === null || Array.isArray(other)) return setProblem(t('badJson', { message: '{}' }));
    const cost = wholeNumber(form.costPoints);
    if (cost === null) return setProblem(t('badNumber', { field: t('cost') }));
    const stock = form.stock.trim() === '' ? null : wholeNumber(form.stock);
    if (form.stock.trim() !== '' && stock === null) return setProblem(t('badNumber', { field: t('stock') }));
    save.ask({
      ...(other as Record<string, unknown>),
      name: form.name,
      ...(form.description.trim() ? { description: form.description } : {}),
      kind: form.kind,
      costPoints: cost,
      stock,
      active: form.active,
    });
  };

  return (
    <Section title={t('editor')}>
      <form onSubmit={review}>
        <div class="row">
          <Field label={t('name')}>
            <input required maxLength={80} value={form.name} onInput={(e) => set('name', e.currentTarget.value)} />
          </Field>
          <Field label={t('kind')}>
            <select value={form.kind} onChange={(e) => set('kind', e.currentTarget.value as Form['kind'])}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`kind.${k}`)}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t('cost')}>
            <input type="number" min={0} step={1} required value={form.costPoints} onInput={(e) => set('costPoints', e.currentTarget.value)} />
          </Field>
          <Field label={t('stock')} hint={t('stockHint')}>
            <input type="number" min={0} step={1} value={form.stock} onInput={(e) => set('stock', e.currentTarget.value)} />
          </Field>
          <label class="field benefits-check">
            <input type="checkbox" checked={form.active} onChange={(e) => set('active', e.currentTarget.checked)} />
            <span>{t('active')}</span>
          </label>
        </div>
        <Field label={t('description')}>
          <input maxLength={500} value={form.description} onInput={(e) => set('description', e.currentTarget.value)} />
        </Field>
        <Field label={t('otherFields')} hint={t('otherHint')}>
          <textarea rows={6} spellcheck={false} value={form.other} onInput={(e) => set('other', e.currentTarget.value)} />
        </Field>
        <Problem text={problem} />
        <button type="submit" disabled={save.asking}>
          {t('review')}
        </button>
      </form>
      <ConfirmStep intent={save} label={t('confirmSave')} role="group">
        {t('saveConfirm', { name: form.name, version: (benefit?.version ?? 0) + 1 })}
      </ConfirmStep>
    </Section>
  );
}
