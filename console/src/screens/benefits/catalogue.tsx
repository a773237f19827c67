import { useState } from 'preact/hooks';
import { Field, PagedTable, Problem, Section, Time } from '../../components/ui';
import { call, type Page } from '../../lib/api';
import { common } from '../../lib/common.messages';
import { usePages } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { href, navigate } from '../../lib/router';
import { useFormat } from '../../lib/session';
import { m, type Benefit } from './messages';

const CODE = /^[a-z0-9][a-z0-9_-]{1,47}$/;

/** The catalogue, every benefit active or not, with its stock left; a new code opens the editor to create one. */
export function Catalogue() {
  const t = useT(m);
  const tc = useT(common);
  const f = useFormat();
  const pages = usePages((cursor) => call<Page<Benefit>>('GET', '/v1/admin/benefits', { query: { cursor, limit: 50 } }), []);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string>();
  const create = (e: Event) => {
    e.preventDefault();
    if (!CODE.test(code)) return setProblem(t('badCode'));
    navigate('benefits', code);
  };
  return (
    <>
      <h1>{t('title')}</h1>
      <Section title={t('catalogue')}>
        <form class="row" onSubmit={create}>
          <Field label={t('newCode')} hint={t('newHint')}>
            <input value={code} onInput={(e) => setCode(e.currentTarget.value.trim())} />
          </Field>
          <button type="submit">{t('create')}</button>
        </form>
        <Problem text={problem} />
        <PagedTable
          pages={pages}
          head={
            <>
              <th>{t('code')}</th>
              <th>{t('name')}</th>
              <th>{t('kind')}</th>
              <th class="num">{t('cost')}</th>
              <th class="num">{t('stock')}</th>
              <th class="num">{t('stockLeft')}</th>
              <th>{t('active')}</th>
              <th>{t('updated')}</th>
            </>
          }
          row={(b) => (
            <tr key={b.code}>
              <td>
                <a href={href('benefits', b.code)}>{b.code}</a>
              </td>
              <td>{b.name}</td>
              <td>{t(`kind.${b.kind}`)}</td>
              <td class="num">{f.number(b.costPoints)}</td>
              <td class="num">{b.stock === null ? t('unlimited') : f.number(b.stock)}</td>
              <td class="num">{b.stockLeft === null ? t('unlimited') : f.number(b.stockLeft)}</td>
              <td>{b.active ? tc('yes') : tc('no')}</td>
              <td>
                <Time iso={b.updatedAt} />
              </td>
            </tr>
          )}
          emptyText={t('noCatalogue')}
        />
      </Section>
    </>
  );
}
