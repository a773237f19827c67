import { CodedEditor, useCodedEditor, type EditorProps } from '../../components/coded-resource';
import { JsonField } from '../../components/editing';
import { Field } from '../../components/ui';
import { useT } from '../../lib/i18n';
import { m } from './messages';
import { bodyOf, draftOf, tasks, type TaskDraft, type TaskView } from './task';

/** A new task (no `item`) or an edit of one, saved (confirmed) by PUT /v1/admin/tasks/:code. */
export function TaskEditor(props: EditorProps<TaskView>) {
  const t = useT(m);
  const editor = useCodedEditor({ ...props, draftOf, put: tasks.put });
  const { draft, set, text, check } = editor;
  const built = bodyOf(draft);
  return (
    <CodedEditor editor={editor} words={m} body={built.ok ? built.body : undefined} saveLabel={t('saveTask')}>
      <div class="program-grid">
        {!props.item && text('code', t('code'), t('codeHint'))}
        {text('name', t('name'))}
        {text('eventType', t('eventType'))}
        {text('target', t('target'))}
        {check('active', t('active'))}
      </div>
      {text('description', t('description'))}
      <div class="program-grid">
        <Field label={t('windowType')}>
          <select aria-label={t('windowType')} value={draft.windowType} onChange={(e) => set('windowType', e.currentTarget.value as TaskDraft['windowType'])}>
            <option value="lifetime">{t('lifetimeKind')}</option>
            <option value="from-registration">{t('fromRegistrationKind')}</option>
            <option value="calendar">{t('calendarKind')}</option>
          </select>
        </Field>
        {draft.windowType === 'from-registration' && text('days', t('days'))}
        {draft.windowType === 'calendar' && (
          <>
            <Field label={t('period')}>
              <select aria-label={t('period')} value={draft.period} onChange={(e) => set('period', e.currentTarget.value)}>
                {(['day', 'week', 'month', 'year'] as const).map((p) => (
                  <option key={p} value={p}>
                    {t(p)}
                  </option>
                ))}
              </select>
            </Field>
            {check('repeatable', t('repeatable'))}
          </>
        )}
      </div>
      <div class="program-grid">
        {text('points', t('rewardPoints'))}
        {text('growth', t('rewardGrowth'))}
        {text('badgeCode', t('badgeCode'))}
        {text('badgeName', t('badgeName'))}
      </div>
      <p class="state">
        <small>{t('badgeHint')}</small>
      </p>
      <JsonField label={t('condition')} hint={t('conditionHint')} rows={3} value={draft.condition} onInput={(v) => set('condition', v)} />
    </CodedEditor>
  );
}
