import { useState } from 'preact/hooks';
import { Field, PagedTable, Section, Time } from '../../components/ui';
import { call, type Page } from '../../lib/api';
import { usePages } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { href } from '../../lib/router';
import { m, SEGMENTS } from './messages';

type SegmentMember = { memberId: string; registeredAt: string | null; lastActivityAt: string | null; tier: string | null };

/** Who a segment holds now (GET /v1/admin/segments/:segment/members), page by page, before granting to it. */
export function SegmentPreview() {
  const t = useT(m);
  const [typed, setTyped] = useState('silent');
  const [segment, setSegment] = useState('silent');
  const pages = usePages(
    (cursor) => call<Page<SegmentMember>>('GET', `/v1/admin/segments/${encodeURIComponent(segment)}/members`, { query: { cursor, limit: 20 } }),
    [segment],
  );
  return (
    <Section title={t('preview')}>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setSegment(typed.trim());
        }}
      >
        <Field label={t('segmentName')} hint={t('segmentHint')}>
          <input list="grant-segments" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
        <datalist id="grant-segments">
          {SEGMENTS.map((s) => (
            <option key={s} value={s}>
              {t(`seg.${s}`)}
            </option>
          ))}
        </datalist>
        <button type="submit">{t('show')}</button>
      </form>
      <PagedTable
        pages={pages}
        head={
          <>
            <th>{t('member')}</th>
            <th>{t('registered')}</th>
            <th>{t('lastActivity')}</th>
            <th>{t('tier')}</th>
          </>
        }
        row={(s) => (
          <tr key={s.memberId}>
            <td>
              <a href={href('members', s.memberId)}>{s.memberId}</a>
            </td>
            <td>
              <Time iso={s.registeredAt} />
            </td>
            <td>
              <Time iso={s.lastActivityAt} />
            </td>
            <td>{s.tier ?? '—'}</td>
          </tr>
        )}
        emptyText={t('noMembersInSegment')}
      />
    </Section>
  );
}
