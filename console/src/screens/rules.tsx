import { CodedList, CodedResourceScreen } from '../components/coded-resource';
import { Time } from '../components/ui';
import { common } from '../lib/common.messages';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { DryRunPanel } from './rules/dry-run';
import { m } from './rules/messages';
import { rules, type Formula } from './rules/rule';
import { RuleEditor } from './rules/rule-editor';

/**
 * Earning rules: `#/rules` lists them with a dry-run of the saved rules; `#/rules/new` and `#/rules/<code>` edit one.
 * The API answers every rule at once (GET /v1/admin/earning-rules has no cursor), so the list has no "load more".
 */
export function RulesScreen({ args }: { args: string[] }) {
  return <CodedResourceScreen args={args} route="rules" words={m} load={rules.load} List={RuleList} Editor={RuleEditor} />;
}

function RuleList() {
  const t = useT(m);
  const c = useT(common);
  const list = useLoad(rules.list, []);
  const formula = (f: Formula | undefined) =>
    !f ? c('none') : f.kind === 'fixed' ? t('fixed', { amount: f.amount }) : t('perUnit', { points: f.points, unit: f.unit, property: f.property }) + (f.max ? t('upTo', { max: f.max }) : '');
  return (
    <>
      <CodedList
        route="rules"
        words={m}
        newLabel={t('newRule')}
        emptyText={t('noRules')}
        list={list}
        head={
          <>
            <th scope="col">{t('name')}</th>
            <th scope="col">{t('eventType')}</th>
            <th scope="col">{t('points')}</th>
            <th scope="col">{t('growth')}</th>
            <th scope="col">{t('active')}</th>
            <th scope="col">{t('updated')}</th>
          </>
        }
        row={(r) => (
          <>
            <td>{r.name}</td>
            <td>{r.eventType}</td>
            <td>{formula(r.points)}</td>
            <td>{formula(r.growth)}</td>
            <td>{r.active ? c('yes') : c('no')}</td>
            <td>
              <Time iso={r.updatedAt} />
            </td>
          </>
        )}
      />
      <DryRunPanel />
    </>
  );
}
