import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { ErrorBox, Field, Loading, Section, Time } from '../../components/ui';
import { call } from '../../lib/api';
import { useLoad } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { href } from '../../lib/router';
import { m, reasonKey, type Referral } from './messages';

type Decision = { verb: 'approve' | 'reject'; note: string };

/** One referral (GET /v1/admin/referrals/:id): its timeline, the fraud signals that sent it to review, and the decision. */
export function ReferralPage({ id }: { id: string }) {
  const t = useT(m);
  const loaded = useLoad(() => call<{ referral: Referral }>('GET', `/v1/admin/referrals/${encodeURIComponent(id)}`), [id]);
  // A decision answers the referral as decided: shown at once.
  const [decided, setDecided] = useState<Referral>();
  const referral = decided ?? loaded.data?.referral;
  return (
    <>
      <p>
        <a href={href('referrals')}>← {t('back')}</a>
      </p>
      <h1>{t('referralOf', { id })}</h1>
      {loaded.state === 'loading' && !referral && <Loading />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} retry={loaded.reload} />}
      {referral && (
        <>
          <Facts referral={referral} />
          <Signals referral={referral} />
          <Timeline referral={referral} />
          <Decide referral={referral} onDecided={setDecided} />
        </>
      )}
    </>
  );
}

function Facts({ referral: r }: { referral: Referral }) {
  const t = useT(m);
  const side = (s: { points: number; benefitCode: string | null }) =>
    [s.points > 0 ? t('points', { n: s.points }) : null, s.benefitCode ? t('benefit', { code: s.benefitCode }) : null].filter(Boolean).join(' + ') || t('nothing');
  return (
    <Section title={t('facts')}>
      <dl class="facts">
        <dt>{t('state')}</dt>
        <dd data-testid="referral-state">{t(`state.${r.state}`)}</dd>
        <dt>{t('invitee')}</dt>
        <dd>
          <a href={href('members', r.invitee)}>{r.invitee}</a>
        </dd>
        <dt>{t('referrer')}</dt>
        <dd>
          <a href={href('members', r.referrer)}>{r.referrer}</a>
        </dd>
        <dt>{t('code')}</dt>
        <dd>
          <code>{r.code}</code>
        </dd>
        <dt>{t('via')}</dt>
        <dd>{t(`via.${r.via}`)}</dd>
        <dt>{t('orderId')}</dt>
        <dd>{r.orderId ?? '—'}</dd>
        <dt>{t('programVersion')}</dt>
        <dd>{r.programVersion}</dd>
        {r.rewards && (
          <>
            <dt>{t('rewards')}</dt>
            <dd>
              {t('referrer')}: {side(r.rewards.referrer)}; {t('invitee')}: {side(r.rewards.invitee)}
            </dd>
          </>
        )}
        {r.decision && (
          <>
            <dt>{t('decision')}</dt>
            <dd>
              {t('decided', { outcome: t(`outcome.${r.decision.outcome}`), by: r.decision.by })}
              {r.decision.note && <> — “{r.decision.note}”</>}
            </dd>
          </>
        )}
      </dl>
    </Section>
  );
}

function Signals({ referral: r }: { referral: Referral }) {
  const t = useT(m);
  return (
    <Section title={t('signals')}>
      {r.reviewReasons.length === 0 ? (
        <p class="state">{t('noSignals')}</p>
      ) : (
        <ul>
          {r.reviewReasons.map((reason) => (
            <li key={reason}>
              <code>{reason}</code>: {reasonKey(reason) ? t(reasonKey(reason)!) : reason}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/** The steps as the referral records them; review has no time of its own: it follows the qualifying order. */
function Timeline({ referral: r }: { referral: Referral }) {
  const t = useT(m);
  const steps: { label: string; at: string | null }[] = [{ label: t('step.bound', { referrer: r.referrer }), at: r.boundAt }];
  if (!r.qualifiedAt) steps.push({ label: t('step.qualifyBy'), at: r.qualifyBy });
  else steps.push({ label: t('step.qualified'), at: r.qualifiedAt });
  if (r.reviewReasons.length > 0) steps.push({ label: t('step.review'), at: r.qualifiedAt });
  if (r.decision) steps.push({ label: t(r.decision.outcome === 'approved' ? 'step.approved' : 'step.rejected', { by: r.decision.by }), at: r.decision.at });
  if (r.rewards) steps.push({ label: t('step.paid'), at: r.rewards.availableAt });
  return (
    <Section title={t('timeline')}>
      <ol class="referrals-timeline">
        {steps.map((s) => (
          <li key={s.label}>
            <Time iso={s.at} /> — {s.label}
          </li>
        ))}
      </ol>
    </Section>
  );
}

/** Approve or reject a referral in review, with a note; one Idempotency-Key per confirmed decision. */
function Decide({ referral, onDecided }: { referral: Referral; onDecided: (r: Referral) => void }) {
  const t = useT(m);
  const [note, setNote] = useState('');
  const decision = useIntent(({ verb, note: text }: Decision, key) =>
    call<{ referral: Referral }>('POST', `/v1/admin/referrals/${encodeURIComponent(referral.invitee)}/${verb}`, {
      body: text.trim() ? { note: text.trim() } : {},
      idempotencyKey: key,
    }).then((r) => onDecided(r.referral)),
  );
  const asked = decision.asked;
  if (referral.state !== 'review' && !decision.asking) return null;
  return (
    <Section title={t('decision')}>
      <Field label={t('note')} hint={t('noteHint')}>
        <textarea rows={2} maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} disabled={decision.asking} />
      </Field>
      <div class="row">
        <button type="button" class="primary" disabled={decision.asking} onClick={() => decision.ask({ verb: 'approve', note })}>
          {t('approve')}
        </button>
        <button type="button" class="danger" disabled={decision.asking} onClick={() => decision.ask({ verb: 'reject', note })}>
          {t('reject')}
        </button>
      </div>
      <ConfirmStep intent={decision} label={asked?.verb === 'reject' ? t('confirmReject') : t('confirmApprove')} danger={asked?.verb === 'reject'} role="group">
        {asked?.verb === 'reject'
          ? t('rejectAsk', { invitee: referral.invitee })
          : t('approveAsk', { invitee: referral.invitee, referrer: referral.referrer })}
      </ConfirmStep>
    </Section>
  );
}
