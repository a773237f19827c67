import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { Field, Problem } from '../../components/ui';
import { ApiError, call } from '../../lib/api';
import { useT } from '../../lib/i18n';
import { useFormat } from '../../lib/session';
import { m } from './messages';
import type { Balance } from './types';

type Adjustment = { delta: number; reason: string };

/**
 * An ops adjustment: the form, then a confirm step showing the change, then POST /v1/members/:id/points/adjust. The
 * Idempotency-Key is made when the confirm step opens and sent by every click of that step, so a double click or a
 * retry after a lost answer adjusts once.
 */
export function AdjustPoints({ memberId, balance, onAdjusted }: { memberId: string; balance: Balance; onAdjusted: () => void }) {
  const t = useT(m);
  const f = useFormat();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string>();
  const [done, setDone] = useState<string>();
  const adjust = useIntent(
    (asked: Adjustment, key) =>
      call<{ balance: Balance }>('POST', `/v1/members/${encodeURIComponent(memberId)}/points/adjust`, { body: asked, idempotencyKey: key }),
    (answer) => {
      setAmount('');
      setReason('');
      setDone(t('adjusted', { available: f.number(answer.balance.available) }));
      onAdjusted();
    },
  );

  const review = (e: Event) => {
    e.preventDefault();
    setDone(undefined);
    const delta = Number(amount);
    if (!/^\s*[-+]?\d+\s*$/.test(amount) || !Number.isSafeInteger(delta) || delta === 0) return setProblem(t('amountInvalid'));
    if (reason.trim().length < 3) return setProblem(t('reasonInvalid'));
    setProblem(undefined);
    adjust.ask({ delta, reason: reason.trim() });
  };
  const before = balance.available;
  const asked = adjust.asked;
  return (
    <div class="members-adjust">
      <h3>{t('adjust')}</h3>
      <form onSubmit={review}>
        <div class="row">
          <Field label={t('adjustAmount')}>
            <input type="text" inputMode="numeric" name="delta" value={amount} disabled={adjust.asking} onInput={(e) => setAmount(e.currentTarget.value)} autocomplete="off" />
          </Field>
          <Field label={t('adjustReason')}>
            <input type="text" name="reason" aria-required="true" value={reason} disabled={adjust.asking} onInput={(e) => setReason(e.currentTarget.value)} maxLength={500} />
          </Field>
          <button type="submit" disabled={adjust.asking}>
            {t('review')}
          </button>
        </div>
        <Problem text={problem} />
      </form>
      {done && (
        <p class="state ok" role="status">
          {done}
        </p>
      )}
      <ConfirmStep
        intent={adjust}
        label={t('confirmAdjust')}
        refusal={(refusal) => (
          <p class="state error" role="alert">
            {t('refused', { message: refusal.message })}
            {refusal instanceof ApiError && <small> [{refusal.code}]</small>}
          </p>
        )}
      >
        {asked && (
          <>
            {t(asked.delta > 0 ? 'confirmAdd' : 'confirmTake', {
              points: f.number(Math.abs(asked.delta)),
              id: memberId,
              before: f.number(before),
              after: f.number(before + asked.delta),
            })}
            <br />
            {t('confirmReason', { reason: asked.reason })}
          </>
        )}
      </ConfirmStep>
    </div>
  );
}
