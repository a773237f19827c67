import { useState } from 'preact/hooks';
import { Field, PagedTable, Section, Time } from '../../components/ui';
import { call, type Page } from '../../lib/api';
import { usePages } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { useFormat } from '../../lib/session';
import { KINDS, kindKey, m } from './messages';
import type { Entry } from './types';

const PAGE = 20;

/** The points history, newest first, by the API's cursors (GET /v1/members/:id/points/entries), filtered by kind. */
export function History({ memberId, version }: { memberId: string; version: number }) {
  const t = useT(m);
  const f = useFormat();
  const [kind, setKind] = useState('');
  const entries = usePages(
    (cursor) => call<Page<Entry>>('GET', `/v1/members/${encodeURIComponent(memberId)}/points/entries`, { query: { cursor, limit: PAGE, kind } }),
    [memberId, kind, version],
  );
  const signed = (n: number) => (n > 0 ? `+${f.number(n)}` : f.number(n));
  return (
    <Section
      title={t('history')}
      actions={
        <Field label={t('kind')}>
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="">{t('allKinds')}</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(kindKey(k))}
              </option>
            ))}
          </select>
        </Field>
      }
    >
      <PagedTable
        pages={entries}
        class="members-history"
        head={
          <>
            <th scope="col">{t('at')}</th>
            <th scope="col">{t('kind')}</th>
            <th scope="col">{t('entryCode')}</th>
            <th scope="col" class="num">
              {t('amount')}
            </th>
            <th scope="col" class="num">
              {t('after')}
            </th>
            <th scope="col">{t('expiresAt')}</th>
          </>
        }
        row={(e) => (
          <tr key={e.id} data-kind={e.kind}>
            <td>
              <Time iso={e.createdAt} />
            </td>
            <td>{(KINDS as readonly string[]).includes(e.kind) ? t(kindKey(e.kind)) : e.kind}</td>
            <td>{e.code}</td>
            <td class="num">{signed(e.amount)}</td>
            <td class="num">{f.number(e.balanceAfter.available)}</td>
            <td>
              <Time iso={e.expiresAt} />
            </td>
          </tr>
        )}
        emptyText={t('noEntries')}
      />
    </Section>
  );
}
