import { Field } from '../../components/ui';
import { JsonField } from '../../components/editing';
import { RowsEditor } from '../../components/rows-editor';
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
  return (
    <>
      <p class="state">{t('editorHint')}</p>
      <RowsEditor
        class="tiers-editor"
        numbered
        keepOne
        rows={draft.tiers}
        columns={COLUMNS.map((c) => ({
          field: c.field,
          label: t(c.label),
          inputMode: c.kind === 'number' ? 'decimal' : undefined,
          title: c.field === 'benefitCodes' ? t('benefitsHint') : undefined,
        }))}
        onChange={(tiers) => onChange({ ...draft, tiers })}
        newRow={emptyRow}
        cellLabel={(field, n) => t('fieldOf', { field, n })}
        removeLabel={t('remove')}
        removeRowLabel={(n) => t('removeTier', { n })}
        addLabel={t('addTier')}
      />
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
