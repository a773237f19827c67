import { useState } from 'preact/hooks';
import { Field, PagedTable, Section, Time } from '../../components/ui';
import { call, type Page } from '../../lib/api';
import { usePages } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { href } from '../../lib/router';
import { m, reasonKey, STATES, type Referral } from './messages';

/** Referrals newest first (GET /v1/admin/referrals); the review queue (state=review) first. */
export function ReferralList() {
  const t = useT(m);
  const [state, setState] = useState<string>('review');
  const [typed, setTyped] = useState('');
  const [referrer, setReferrer] = useState('');
  const pages = usePages(
    (cursor) => call<Page<Referral>>('GET', '/v1/admin/referrals', { query: { state, referrer, cursor, limit: 20 } }),
    [state, referrer],
  );
  const why = (r: Referral) => r.reviewReasons.map((x) => (reasonKey(x) ? t(reasonKey(x)!) : x)).join(' ');
  return (
    <Section title={state === 'review' ? t('reviewQueue') : t('list')}>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setReferrer(typed.trim());
        }}
      >
        <Field label={t('view')}>
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="review">{t('reviewQueue')}</option>
            <option value="">{t('all')}</option>
            {STATES.filter((s) => s !== 'review').map((s) => (
              <option key={s} value={s}>
                {t(`state.${s}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('referrerFilter')}>
          <input value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <button type="submit">{t('apply')}</button>
      </form>
      <PagedTable
        pages={pages}
        head={
          <>
            <th>{t('invitee')}</th>
            <th>{t('referrer')}</th>
            <th>{t('state')}</th>
            <th>{t('bound')}</th>
            <th>{t('reasons')}</th>
          </>
        }
        row={(r) => (
          <tr key={r.invitee}>
            <td>
              <a href={href('referrals', r.invitee)}>{r.invitee}</a>
            </td>
            <td>{r.referrer}</td>
            <td>{t(`state.${r.state}`)}</td>
            <td>
              <Time iso={r.boundAt} />
            </td>
            <td>{why(r)}</td>
          </tr>
        )}
        emptyText={state === 'review' ? t('noReview') : t('noReferrals')}
      />
    </Section>
  );
}
