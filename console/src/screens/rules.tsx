import { useState } from 'preact/hooks';
import { ErrorBox, Loading, Empty, Section, Time } from '../components/ui';
import { call } from '../lib/api';
import { common } from '../lib/common.messages';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { href } from '../lib/router';
import { DryRunPanel } from './rules/dry-run';
import { m } from './rules/messages';
import type { Formula, RuleView } from './rules/rule';
import { RuleEditor } from './rules/rule-editor';

/**
 * Earning rules: `#/rules` lists them with a dry-run of the saved rules; `#/rules/new` and `#/rules/<code>` edit one.
 * The API answers every rule at once (GET /v1/admin/earning-rules has no cursor), so the list has no "load more".
 */
export function RulesScreen({ args }: { args: string[] }) {
  const t = useT(m);
  const [code] = args;
  return (
    <>
      <h1>{t('title')}</h1>
      {code === undefined ? <RuleList /> : code === 'new' ? <NewRule /> : <EditRule code={code} />}
    </>
  );
}

function Back() {
  const t = useT(m);
  return (
    <p>
      <a href={href('rules')}>← {t('back')}</a>
    </p>
  );
}

/** Once saved, the new rule stays on screen as an edit of it, and the address becomes the rule's own (no reload). */
function NewRule() {
  const [saved, setSaved] = useState<RuleView>();
  const created = (rule: RuleView) => {
    history.replaceState(null, '', href('rules', rule.code));
    setSaved(rule);
  };
  return (
    <>
      <Back />
      {saved ? <RuleEditor key={saved.code} rule={saved} justSaved onSaved={() => undefined} /> : <RuleEditor rule={undefined} onSaved={created} />}
    </>
  );
}

function EditRule({ code }: { code: string }) {
  const rule = useLoad(() => call<{ rule: RuleView }>('GET', `/v1/admin/earning-rules/${encodeURIComponent(code)}`).then((r) => r.rule), [code]);
  return (
    <>
      <Back />
      {rule.state === 'loading' && <Loading />}
      {rule.state === 'error' && <ErrorBox error={rule.error} retry={rule.reload} />}
      {rule.state === 'ready' && <RuleEditor key={rule.data.code} rule={rule.data} onSaved={() => undefined} />}
    </>
  );
}

function RuleList() {
  const t = useT(m);
  const c = useT(common);
  const rules = useLoad(() => call<{ items: RuleView[] }>('GET', '/v1/admin/earning-rules').then((r) => r.items), []);
  const formula = (f: Formula | undefined) =>
    !f ? c('none') : f.kind === 'fixed' ? t('fixed', { amount: f.amount }) : t('perUnit', { points: f.points, unit: f.unit, property: f.property }) + (f.max ? t('upTo', { max: f.max }) : '');
  return (
    <>
      <Section
        title={t('list')}
        actions={
          <a class="button" href={href('rules', 'new')}>
            {t('newRule')}
          </a>
        }
      >
        {rules.state === 'loading' && <Loading />}
        {rules.state === 'error' && <ErrorBox error={rules.error} retry={rules.reload} />}
        {rules.state === 'ready' && rules.data.length === 0 && <Empty>{t('noRules')}</Empty>}
        {rules.state === 'ready' && rules.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('code')}</th>
                <th scope="col">{t('name')}</th>
                <th scope="col">{t('eventType')}</th>
                <th scope="col">{t('points')}</th>
                <th scope="col">{t('growth')}</th>
                <th scope="col">{t('active')}</th>
                <th scope="col">{t('updated')}</th>
              </tr>
            </thead>
            <tbody>
              {rules.data.map((r) => (
                <tr key={r.code}>
                  <td>
                    <a href={href('rules', r.code)}>{r.code}</a>
                  </td>
                  <td>{r.name}</td>
                  <td>{r.eventType}</td>
                  <td>{formula(r.points)}</td>
                  <td>{formula(r.growth)}</td>
                  <td>{r.active ? c('yes') : c('no')}</td>
                  <td>
                    <Time iso={r.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <DryRunPanel />
    </>
  );
}
