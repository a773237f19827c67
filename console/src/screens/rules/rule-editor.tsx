import { CodedEditor, useCodedEditor, type EditorProps } from '../../components/coded-resource';
import { JsonField } from '../../components/editing';
import { Field, Problem } from '../../components/ui';
import { useT } from '../../lib/i18n';
import { DryRunPanel } from './dry-run';
import { m } from './messages';
import { bodyOf, draftOf, rules, type RuleDraft, type RuleView } from './rule';

/**
 * A new rule (no `item`) or an edit of one: common fields as a form, the rest as JSON; the dry-run panel beside it
 * tries the unsaved edit; saving (confirmed) PUTs the rule.
 */
export function RuleEditor(props: EditorProps<RuleView>) {
  const t = useT(m);
  const editor = useCodedEditor({ ...props, draftOf, put: rules.put });
  const { draft, set, code, text } = editor;
  const built = bodyOf(draft, t('notObject'));
  return (
    <>
      <CodedEditor editor={editor} words={m} body={built.ok ? built.body : undefined} saveLabel={t('saveRule')}>
        <div class="program-grid">
          {props.item ? null : text('code', t('code'), t('codeHint'))}
          {text('name', t('name'))}
          {text('eventType', t('eventType'))}
          {editor.check('active', t('active'))}
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
        <Problem text={!built.ok && built.error === t('notObject') ? built.error : undefined} />
      </CodedEditor>
      <DryRunPanel draft={built.ok ? { code: code || 'new-rule', rule: built.body } : { error: built.error }} eventType={draft.eventType} />
    </>
  );
}
