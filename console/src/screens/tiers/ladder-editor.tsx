import { Field } from '../../components/ui';
import { JsonField } from '../../components/editing';
import { useT } from '../../lib/i18n';
import { emptyRow, type Draft, type TierRow } from './ladder';
import { m, type Key } from './messages';

const COLUMNS: { field: keyof TierRow; label: Key; kind: 'text' | 'number' }[] = [
  { field: 'code', label: 'code', kind: 'text' },
  { field: 'name', label: 'name', kind: 'text' },
  { field: 'threshold', label: 'threshold', kind: 'number' },
  { field: 'keepThreshold', label: 'keepThreshold', kind: 'number' },
  { field: 'earnMultiplier', label: 'earnMultiplier', kind: 'number' },
  { field: 'benefitCodes', label: 'benefitCodes', kind: 'text' },
  { field: 'welcomeBenefit', label: 'welcomeBenefit', kind: 'text' },
];

/** The ladder as a table (one row per tier, bottom tier first) and its policy, edited in place. */
export function LadderEditor({ draft, onChange }: { draft: Draft; onChange: (d: Draft) => void }) {
  const t = useT(m);
  const setRow = (i: number, field: keyof TierRow, value: string) =>
    onChange({ ...draft, tiers: draft.tiers.map((r, j) => (j === i ? { ...r, [field]: value } : r)) });
  const remove = (i: number) => onChange({ ...draft, tiers: draft.tiers.filter((_, j) => j !== i) });
  const add = () => onChange({ ...draft, tiers: [...draft.tiers, emptyRow()] });
  return (
    <>
      <p class="state">{t('editorHint')}</p>
      <div class="tiers-scroll">
        <table class="tiers-editor">
          <thead>
            <tr>
              <th scope="col">#</th>
              {COLUMNS.map((c) => (
                <th key={c.field} scope="col">
                  {t(c.label)}
                </th>
              ))}
              <th scope="col">
                <span class="sr-only">{t('remove')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {draft.tiers.map((row, i) => (
              <tr key={i}>
                <td>{i + 1}</td>
                {COLUMNS.map((c) => (
                  <td key={c.field}>
                    <input
                      type="text"
                      inputMode={c.kind === 'number' ? 'decimal' : undefined}
                      aria-label={t('fieldOf', { field: t(c.label), n: i + 1 })}
                      title={c.field === 'benefitCodes' ? t('benefitsHint') : undefined}
                      value={row[c.field]}
                      onInput={(e) => setRow(i, c.field, e.currentTarget.value)}
                    />
                  </td>
                ))}
                <td>
                  <button type="button" class="danger" aria-label={t('removeTier', { n: i + 1 })} disabled={draft.tiers.length === 1} onClick={() => remove(i)}>
                    {t('remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        <button type="button" onClick={add}>
          {t('addTier')}
        </button>
      </p>
      <h3>{t('policy')}</h3>
      <div class="row">
        <Field label={t('mode')}>
          <select aria-label={t('mode')} value={draft.mode} onChange={(e) => onChange({ ...draft, mode: e.currentTarget.value })}>
            <option value="threshold">{t('modeThreshold')}</option>
            <option value="percentile">{t('modePercentile')}</option>
          </select>
        </Field>
        <Field label={t('window')}>
          <select aria-label={t('window')} value={draft.window} onChange={(e) => onChange({ ...draft, window: e.currentTarget.value })}>
            <option value="rolling-365d">{t('rolling')}</option>
            <option value="calendar-year">{t('calendarYear')}</option>
          </select>
        </Field>
        <Field label={t('graceDays')} hint={t('graceHint')}>
          <input type="text" inputMode="numeric" value={draft.graceDays} onInput={(e) => onChange({ ...draft, graceDays: e.currentTarget.value })} />
        </Field>
      </div>
      {draft.mode === 'percentile' && (
        <JsonField label={t('buckets')} hint={t('bucketsHint')} rows={4} value={draft.buckets} onInput={(buckets) => onChange({ ...draft, buckets })} />
      )}
    </>
  );
}
