import { useRef, useState } from 'preact/hooks';
import { Field } from '../../components/ui';
import { ApiError, call, newKey } from '../../lib/api';
import { common } from '../../lib/common.messages';
import { useT } from '../../lib/i18n';
import { useFormat } from '../../lib/session';
import { m } from './messages';
import type { Balance } from './types';

type Intent = { delta: number; reason: string; key: string };

/**
 * An ops adjustment: the form, then a confirm step showing the change, then POST /v1/members/:id/points/adjust. The
 * Idempotency-Key is made when the confirm step opens and sent by every click of that step, so a double click or a
 * retry after a lost answer adjusts once.
 */
export function AdjustPoints({ memberId, balance, onAdjusted }: { memberId: string; balance: Balance; onAdjusted: () => void }) {
  const t = useT(m);
  const c = useT(common);
  const f = useFormat();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string>();
  const [intent, setIntent] = useState<Intent>();
  const [busy, setBusy] = useState(false);
  // The state update that disables the button lands after the event; this guard holds from the first click on.
  const inFlight = useRef(false);
  const [refusal, setRefusal] = useState<Error>();
  const [done, setDone] = useState<string>();

  const review = (e: Event) => {
    e.preventDefault();
    setDone(undefined);
    const delta = Number(amount);
    if (!/^\s*[-+]?\d+\s*$/.test(amount) || !Number.isSafeInteger(delta) || delta === 0) return setProblem(t('amountInvalid'));
    if (reason.trim().length < 3) return setProblem(t('reasonInvalid'));
    setProblem(undefined);
    setRefusal(undefined);
    setIntent({ delta, reason: reason.trim(), key: newKey() });
  };
  const confirm = async () => {
    if (!intent || inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setRefusal(undefined);
    try {
      const answer = await call<{ balance: Balance }>('POST', `/v1/members/${encodeURIComponent(memberId)}/points/adjust`, {
        body: { delta: intent.delta, reason: intent.reason },
        idempotencyKey: intent.key,
      });
      setIntent(undefined);
      setAmount('');
      setReason('');
      setDone(t('adjusted', { available: f.number(answer.balance.available) }));
      onAdjusted();
    } catch (err) {
      setRefusal(err as Error);
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };
  const before = balance.available;
  return (
    <div class="members-adjust">
      <h3>{t('adjust')}</h3>
      <form onSubmit={review}>
        <div class="row">
          <Field label={t('adjustAmount')}>
            <input type="text" inputMode="numeric" name="delta" value={amount} disabled={!!intent} onInput={(e) => setAmount(e.currentTarget.value)} autocomplete="off" />
          </Field>
          <Field label={t('adjustReason')}>
            <input type="text" name="reason" aria-required="true" value={reason} disabled={!!intent} onInput={(e) => setReason(e.currentTarget.value)} maxLength={500} />
          </Field>
          <button type="submit" disabled={!!intent}>
            {t('review')}
          </button>
        </div>
        {problem && (
          <p class="state error" role="alert">
            {problem}
          </p>
        )}
      </form>
      {done && (
        <p class="state ok" role="status">
          {done}
        </p>
      )}
      {intent && (
        <div role="dialog" aria-label={t('confirmAdjust')} class="members-confirm">
          <p>
            {t(intent.delta > 0 ? 'confirmAdd' : 'confirmTake', {
              points: f.number(Math.abs(intent.delta)),
              id: memberId,
              before: f.number(before),
              after: f.number(before + intent.delta),
            })}
          </p>
          <p>{t('confirmReason', { reason: intent.reason })}</p>
          {refusal && (
            <p class="state error" role="alert">
              {t('refused', { message: refusal.message })}
              {refusal instanceof ApiError && <small> [{refusal.code}]</small>}
            </p>
          )}
          <div class="row">
            <button type="button" class="primary" disabled={busy} onClick={confirm}>
              {busy ? t('adjusting') : t('confirmAdjust')}
            </button>
            <button type="button" disabled={busy} onClick={() => setIntent(undefined)}>
              {c('cancel')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
