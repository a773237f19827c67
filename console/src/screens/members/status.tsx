import { useState } from 'preact/hooks';
import { ErrorBox } from '../../components/ui';
import { call } from '../../lib/api';
import { common } from '../../lib/common.messages';
import { useT } from '../../lib/i18n';
import { m } from './messages';
import type { Member } from './types';

/** Freeze or unfreeze, confirmed first: PATCH /v1/members/:id {status} (audited by the service). */
export function StatusControl({ member, onChanged }: { member: Member; onChanged: (m: Member) => void }) {
  const t = useT(m);
  const c = useT(common);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const next = member.status === 'active' ? 'frozen' : 'active';
  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await call<{ member: Member }>('PATCH', `/v1/members/${encodeURIComponent(member.memberId)}`, { body: { status: next } });
      setAsking(false);
      setDone(t('statusChanged', { status: t(answer.member.status) }));
      onChanged(answer.member);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="members-status-control">
      {!asking && (
        <button
          type="button"
          class={next === 'frozen' ? 'danger' : ''}
          onClick={() => {
            setDone(undefined);
            setAsking(true);
          }}
        >
          {next === 'frozen' ? t('freeze') : t('unfreeze')}
        </button>
      )}
      {done && !asking && (
        <p class="state ok" role="status">
          {done}
        </p>
      )}
      {asking && (
        <div role="dialog" aria-label={next === 'frozen' ? t('freeze') : t('unfreeze')} class="members-confirm">
          <p>{next === 'frozen' ? t('confirmFreeze', { id: member.memberId }) : t('confirmUnfreeze', { id: member.memberId })}</p>
          {error && <ErrorBox error={error} />}
          <div class="row">
            <button type="button" class={next === 'frozen' ? 'danger' : 'primary'} disabled={busy} onClick={confirm}>
              {c('confirm')}
            </button>
            <button type="button" disabled={busy} onClick={() => setAsking(false)}>
              {c('cancel')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
