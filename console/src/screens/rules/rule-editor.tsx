import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { JsonField, Refusal } from '../../components/editing';
import { Field, Section } from '../../components/ui';
import { call } from '../../lib/api';
import { useT } from '../../lib/i18n';
import { DryRunPanel } from './dry-run';
import { m } from './messages';
import { bodyOf, draftOf, type RuleDraft, type RuleView } from './rule';

/**
 * A new rule (no `rule`) or an edit of one: common fields as a form, the rest as JSON; the dry-run panel beside it
 * tries the unsaved edit; saving (confirmed) PUTs the rule.
 */
export function RuleEditor({ rule, onSaved, justSaved }: { rule: RuleView | undefined; onSaved: (rule: RuleView) => void; justSaved?: boolean }) {
  const t = useT(m);
  const [draft, setDraft] = useState<RuleDraft>(() => draftOf(rule));
  const [savedCode, setSavedCode] = useState<string | undefined>(justSaved ? rule?.code : undefined);
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) => {
    setDraft({ ...draft, [key]: value });
    setSavedCode(undefined);
  };
  const built = bodyOf(draft, t('notObject'));
  const code = draft.code.trim();
  const save = useIntent(
    (asked: { code: string; body: Record<string, unknown> }) =>
      call<{ rule: RuleView }>('PUT', `/v1/admin/earning-rules/${encodeURIComponent(asked.code)}`, { body: asked.body }),
    (saved) => {
      setSavedCode(saved.rule.code);
      onSaved(saved.rule);
    },
    { closeOnRefusal: true },
  );
  const text = (key: 'name' | 'eventType' | 'amount' | 'property' | 'unit' | 'perUnitPoints' | 'max', label: string) => (
    <Field label={label}>
      <input type="text" value={draft[key]} onInput={(e) => set(key, e.currentTarget.value)} />
    </Field>
  );
  return (
    <>
      <Section title={rule ? t('editTitle', { code: rule.code }) : t('newTitle')}>
        <div class="program-grid">
          {rule ? null : (
            <Field label={t('code')} hint={t('codeHint')}>
              <input type="text" value={draft.code} onInput={(e) => set('code', e.currentTarget.value)} />
            </Field>
          )}
          {text('name', t('name'))}
          {text('eventType', t('eventType'))}
          <label class="field check">
            <span>
              <input type="checkbox" checked={draft.active} onChange={(e) => set('active', e.currentTarget.checked)} /> {t('active')}
            </span>
          </label>
        </div>
        <h3>{t('pointsFormula')}</h3>
        <div class="program-grid">
          <Field label={t('pointsFormula')}>
            <select aria-label={t('pointsFormula')} value={draft.pointsKind} onChange={(e) => set('pointsKind', e.currentTarget.value as RuleDraft['pointsKind'])}>
              <option value="per-unit">{t('perUnitKind')}</option>
              <option value="fixed">{t('fixedKind')}</option>
              <option value="none">{t('noPoints')}</option>
            </select>
          </Field>
          {draft.pointsKind === 'fixed' && text('amount', t('amount'))}
          {draft.pointsKind === 'per-unit' && (
            <>
              {text('property', t('property'))}
              {text('unit', t('unit'))}
              {text('perUnitPoints', t('perUnitPoints'))}
              {text('max', t('max'))}
            </>
          )}
        </div>
        <JsonField label={t('extra')} hint={t('extraHint')} rows={10} value={draft.extra} onInput={(v) => set('extra', v)} />
        {!built.ok && built.error === t('notObject') && (
          <p class="state error" role="alert">
            {built.error}
          </p>
        )}
        <Refusal error={save.error} />
        <div class="row program-actions">
          <button type="button" class="primary" disabled={!built.ok || !code || save.busy} onClick={() => built.ok && save.ask({ code, body: built.body })}>
            {t('saveRule')}
          </button>
          {savedCode && (
            <span class="state ok" role="status">
              {t('saved', { code: savedCode })}
            </span>
          )}
        </div>
        <ConfirmStep intent={save} label={t('saveRule')}>
          {t('confirmSave', { code: save.asked?.code ?? code })}
        </ConfirmStep>
      </Section>
      <DryRunPanel draft={built.ok ? { code: code || 'new-rule', rule: built.body } : { error: built.error }} eventType={draft.eventType} />
    </>
  );
}
