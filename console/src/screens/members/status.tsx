import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { call } from '../../lib/api';
import { common } from '../../lib/common.messages';
import { useT } from '../../lib/i18n';
import { m } from './messages';
import type { Member } from './types';

/** Freeze or unfreeze, confirmed first: PATCH /v1/members/:id {status} (audited by the service; it takes no Idempotency-Key). */
export function StatusControl({ member, onChanged }: { member: Member; onChanged: (m: Member) => void }) {
  const t = useT(m);
  const c = useT(common);
  const [done, setDone] = useState<string>();
  const next = member.status === 'active' ? 'frozen' : 'active';
  const change = useIntent(
    () => call<{ member: Member }>('PATCH', `/v1/members/${encodeURIComponent(member.memberId)}`, { body: { status: next } }),
    (answer) => {
      setDone(t('statusChanged', { status: t(answer.member.status) }));
      onChanged(answer.member);
    },
  );
  const verb = next === 'frozen' ? t('freeze') : t('unfreeze');
  return (
    <div class="members-status-control">
      {!change.asking && (
        <button
          type="button"
          class={next === 'frozen' ? 'danger' : ''}
          onClick={() => {
            setDone(undefined);
            change.ask();
          }}
        >
          {verb}
        </button>
      )}
      {done && !change.asking && (
        <p class="state ok" role="status">
          {done}
        </p>
      )}
      <ConfirmStep intent={change} label={c('confirm')} name={verb} danger={next === 'frozen'}>
        {next === 'frozen' ? t('confirmFreeze', { id: member.memberId }) : t('confirmUnfreeze', { id: member.memberId })}
      </ConfirmStep>
    </div>
  );
}
