import { useState } from 'preact/hooks';
import { Field, PagedTable, Problem, Section, Time } from '../components/ui';
import { call, type Page } from '../lib/api';
import { usePages } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { useSession } from '../lib/session';
import { Diff } from './audit/diff';
import { ACTIONS, m } from './audit/messages';
import { zonedInstant } from './audit/zone';

type Record_ = {
  id: string;
  actor: { role: string; sub: string };
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
  at: string;
};
type Filters = { actor: string; action: string; targetType: string; targetId: string; from: string; to: string };
const NONE: Filters = { actor: '', action: '', targetType: '', targetId: '', from: '', to: '' };

/** `#/audit`: GET /v1/admin/audit by actor, action, target and a time range typed in the program's zone. */
export function AuditScreen(_: { args: string[] }) {
  const t = useT(m);
  const { calendar } = useSession();
  const [form, setForm] = useState<Filters>(NONE);
  const [query, setQuery] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string>();
  const pages = usePages((cursor) => call<Page<Record_>>('GET', '/v1/admin/audit', { query: { ...query, cursor, limit: 20 } }), [JSON.stringify(query)]);
  const set = (key: keyof Filters, value: string) => setForm((prev) => ({ ...prev, [key]: value }));

  const apply = (e: Event) => {
    e.preventDefault();
    setProblem(undefined);
    const next: Record<string, string> = {};
    for (const key of ['actor', 'action', 'targetType', 'targetId'] as const) if (form[key].trim()) next[key] = form[key].trim();
    for (const key of ['from', 'to'] as const) {
      if (!form[key]) continue;
      const instant = zonedInstant(form[key], calendar.timezone);
      if (!instant) return setProblem(t('badTime', { field: t(key) }));
      next[key] = instant;
    }
    setQuery(next);
  };
  const clear = () => {
    setForm(NONE);
    setQuery({});
  };
  const text = (key: 'actor' | 'action' | 'targetType' | 'targetId', hint?: string, list?: string) => (
    <Field label={t(key)} hint={hint}>
      <input value={form[key]} list={list} onInput={(e) => set(key, e.currentTarget.value)} />
    </Field>
  );
  const when = (key: 'from' | 'to') => (
    <Field label={t(key)} hint={t('zoneHint', { tz: calendar.timezone })}>
      <input type="datetime-local" value={form[key]} onInput={(e) => set(key, e.currentTarget.value)} />
    </Field>
  );
  return (
    <>
      <h1>{t('title')}</h1>
      <Section title={t('filters')}>
        <form class="row" onSubmit={apply}>
          {text('actor', t('actorHint'))}
          {text('action', t('actionHint'), 'audit-actions')}
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          {text('targetType')}
          {text('targetId')}
          {when('from')}
          {when('to')}
          <button type="submit" class="primary">
            {t('apply')}
          </button>
          <button type="button" onClick={clear}>
            {t('clear')}
          </button>
        </form>
        <Problem text={problem} />
      </Section>
      <Section title={t('records')}>
        <PagedTable
          pages={pages}
          class="audit-records"
          head={
            <>
              <th>{t('at')}</th>
              <th>{t('actor')}</th>
              <th>{t('action')}</th>
              <th>{t('target')}</th>
              <th>{t('changes')}</th>
            </>
          }
          row={(r) => (
            <tr key={r.id}>
              <td>
                <Time iso={r.at} />
              </td>
              <td>
                {r.actor.role}:{r.actor.sub}
              </td>
              <td>
                <code>{r.action}</code>
              </td>
              <td>
                {r.target.type} <code>{r.target.id}</code>
                {r.reason && (
                  <>
                    <br />
                    <small>
                      {t('reason')}: {r.reason}
                    </small>
                  </>
                )}
                {r.requestId && (
                  <>
                    <br />
                    <small>{t('request', { id: r.requestId })}</small>
                  </>
                )}
              </td>
              <td>
                <Diff before={r.before} after={r.after} />
              </td>
            </tr>
          )}
          emptyText={t('noRecords')}
        />
      </Section>
    </>
  );
}
