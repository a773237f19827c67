import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { JsonField, Refusal } from '../../components/editing';
import { Field, Section } from '../../components/ui';
import { call } from '../../lib/api';
import { useT } from '../../lib/i18n';
import { m } from './messages';
import { bodyOf, draftOf, type TaskDraft, type TaskView } from './task';

type TextKey = 'name' | 'description' | 'eventType' | 'target' | 'days' | 'points' | 'growth' | 'badgeCode' | 'badgeName';

/** A new task (no `task`) or an edit of one, saved (confirmed) by PUT /v1/admin/tasks/:code. */
export function TaskEditor({ task, onSaved, justSaved }: { task: TaskView | undefined; onSaved: (task: TaskView) => void; justSaved?: boolean }) {
  const t = useT(m);
  const [draft, setDraft] = useState<TaskDraft>(() => draftOf(task));
  const [savedCode, setSavedCode] = useState<string | undefined>(justSaved ? task?.code : undefined);
  const set = <K extends keyof TaskDraft>(key: K, value: TaskDraft[K]) => {
    setDraft({ ...draft, [key]: value });
    setSavedCode(undefined);
  };
  const built = bodyOf(draft);
  const code = draft.code.trim();
  const save = useIntent(
    (asked: { code: string; body: Record<string, unknown> }) =>
      call<{ task: TaskView }>('PUT', `/v1/admin/tasks/${encodeURIComponent(asked.code)}`, { body: asked.body }),
    (saved) => {
      setSavedCode(saved.task.code);
      onSaved(saved.task);
    },
    { closeOnRefusal: true },
  );
  const text = (key: TextKey, label: string) => (
    <Field label={label}>
      <input type="text" value={draft[key]} onInput={(e) => set(key, e.currentTarget.value)} />
    </Field>
  );
  const check = (key: 'active' | 'repeatable', label: string) => (
    <label class="field check">
      <span>
        <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.currentTarget.checked)} /> {label}
      </span>
    </label>
  );
  return (
    <Section title={task ? t('editTitle', { code: task.code }) : t('newTitle')}>
      <div class="program-grid">
        {!task && (
          <Field label={t('code')} hint={t('codeHint')}>
            <input type="text" value={draft.code} onInput={(e) => set('code', e.currentTarget.value)} />
          </Field>
        )}
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
      <Refusal error={save.error} />
      <div class="row program-actions">
        <button type="button" class="primary" disabled={!built.ok || !code || save.busy} onClick={() => built.ok && save.ask({ code, body: built.body })}>
          {t('saveTask')}
        </button>
        {savedCode && (
          <span class="state ok" role="status">
            {t('saved', { code: savedCode })}
          </span>
        )}
      </div>
      <ConfirmStep intent={save} label={t('saveTask')}>
        {t('confirmSave', { code: save.asked?.code ?? code })}
      </ConfirmStep>
    </Section>
  );
}
