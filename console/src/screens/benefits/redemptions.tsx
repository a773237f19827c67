import { useState } from 'preact/hooks';
import { Field, PagedTable, Section, Time } from '../../components/ui';
import { call, type Page } from '../../lib/api';
import { usePages } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { href } from '../../lib/router';
import { useFormat } from '../../lib/session';
import { m, STATUSES, type Redemption } from './messages';

/** A benefit's redemptions, newest first (GET /v1/admin/redemptions?benefit=), by status. */
export function Redemptions({ code }: { code: string }) {
  const t = useT(m);
  const f = useFormat();
  const [status, setStatus] = useState('');
  const pages = usePages(
    (cursor) => call<Page<Redemption>>('GET', '/v1/admin/redemptions', { query: { benefit: code, status, cursor, limit: 20 } }),
    [code, status],
  );
  const filter = (
    <Field label={t('status')}>
      <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
        <option value="">{t('allStatuses')}</option>
        {STATUSES.map((s) => (
          <option key={s} value={s}>
            {t(`status.${s}`)}
          </option>
        ))}
      </select>
    </Field>
  );
  return (
    <Section title={t('redemptions')} actions={filter}>
      <PagedTable
        pages={pages}
        head={
          <>
            <th>{t('created')}</th>
            <th>{t('member')}</th>
            <th class="num">{t('quantity')}</th>
            <th>{t('status')}</th>
            <th class="num">{t('points')}</th>
            <th>{t('voucher')}</th>
            <th>{t('expires')}</th>
            <th>{t('closed')}</th>
          </>
        }
        row={(r) => (
          <tr key={r.id}>
            <td>
              <Time iso={r.createdAt} />
            </td>
            <td>
              <a href={href('members', r.memberId)}>{r.memberId}</a>
            </td>
            <td class="num">{f.number(r.quantity)}</td>
            <td>
              {t(`status.${r.status}`)}
              {r.failure && <small> ({r.failure})</small>}
            </td>
            <td class="num">{f.number(r.pointsSpent)}</td>
            <td>
              <code>{r.voucherCode ?? '—'}</code>
            </td>
            <td>
              <Time iso={r.expiresAt} />
            </td>
            <td>
              <Time iso={r.usedAt ?? r.cancelledAt} />
            </td>
          </tr>
        )}
        emptyText={t('noRedemptions')}
      />
    </Section>
  );
}
