import { useState } from 'preact/hooks';
import { Field, Problem, Section } from '../../components/ui';
import { JsonField, parseJson, Refusal } from '../../components/editing';
import { call } from '../../lib/api';
import { useT } from '../../lib/i18n';
import { useFormat, useSession } from '../../lib/session';
import { m } from './messages';

type DryRunResult = {
  evaluations: Array<{ rule: string; fired: boolean; reason?: string; points?: number; growth?: number; multiplier?: number }>;
  totalPoints: number;
  totalGrowth: number;
};

/** A plausible order for the rules' usual shape: an amount, an order id and a category. */
const sampleEvent = (type: string, now: string) =>
  JSON.stringify({ eventId: 'dry-run-sample', type, occurredAt: now || new Date().toISOString(), properties: { orderId: 'SO-SAMPLE-1', amount: 128, category: 'coffee' } }, null, 2);

/**
 * Evaluates a sample event against the saved rules, and against the editor's unsaved rule when one is given
 * (POST /v1/admin/earning-rules/dry-run with `draft`): nothing is saved or paid.
 */
export function DryRunPanel({ draft, eventType = 'order.paid' }: { draft?: { code: string; rule: unknown } | { error: string } | undefined; eventType?: string }) {
  const t = useT(m);
  const f = useFormat();
  const { calendar } = useSession();
  const [memberId, setMemberId] = useState('');
  const [text, setText] = useState(() => sampleEvent(eventType, calendar.now));
  const [withDraft, setWithDraft] = useState(true);
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<{ value: DryRunResult; draftCode: string | undefined }>();
  const [error, setError] = useState<Error>();
  const parsed = parseJson(text);
  const draftError = draft && 'error' in draft && withDraft ? draft.error : undefined;
  const run = () => {
    if (!parsed.ok || draftError) return;
    const event = { ...(parsed.value as Record<string, unknown>), ...(memberId.trim() ? { memberId: memberId.trim() } : {}) };
    const sent = draft && 'code' in draft && withDraft ? draft : undefined;
    setRunning(true);
    setError(undefined);
    call<DryRunResult>('POST', '/v1/admin/earning-rules/dry-run', { body: { event, ...(sent ? { draft: sent } : {}) } }).then(
      (value) => {
        setResult({ value, draftCode: sent?.code });
        setRunning(false);
      },
      (err: Error) => {
        setResult(undefined);
        setError(err);
        setRunning(false);
      },
    );
  };
  return (
    <Section title={t('dryRunTitle')}>
      <p class="state">{t('dryRunIntro')}</p>
      <Field label={t('memberId')} hint={t('memberHint')}>
        <input type="text" value={memberId} onInput={(e) => setMemberId(e.currentTarget.value)} />
      </Field>
      <JsonField label={t('sampleEvent')} rows={9} value={text} onInput={setText} />
      {draft && (
        <label class="field check">
          <span>
            <input type="checkbox" checked={withDraft} onChange={(e) => setWithDraft(e.currentTarget.checked)} /> {t('withDraft')}
          </span>
        </label>
      )}
      <Problem text={draftError} />
      <button type="button" disabled={running || !parsed.ok || !!draftError} onClick={run}>
        {running ? t('running') : t('dryRun')}
      </button>
      <Refusal error={error} />
      {result && (
        <div class="rules-dry-run" aria-live="polite">
          {result.value.evaluations.length === 0 ? (
            <p class="state empty">{t('noneOfType')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('rule')}</th>
                  <th scope="col">{t('result')}</th>
                  <th scope="col" class="num">{t('points')}</th>
                  <th scope="col" class="num">{t('growth')}</th>
                  <th scope="col" class="num">{t('multiplier')}</th>
                  <th scope="col">{t('why')}</th>
                </tr>
              </thead>
              <tbody>
                {result.value.evaluations.map((e) => (
                  <tr key={e.rule}>
                    <th scope="row">{e.rule === result.draftCode ? t('draftMark', { code: e.rule }) : e.rule}</th>
                    <td>{e.fired ? t('matched') : t('notMatched')}</td>
                    <td class="num">{e.fired ? f.number(e.points) : '—'}</td>
                    <td class="num">{e.fired ? f.number(e.growth) : '—'}</td>
                    <td class="num">{e.multiplier === undefined ? '—' : `×${e.multiplier}`}</td>
                    <td>{e.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p>
            <strong>{t('total', { points: f.number(result.value.totalPoints), growth: f.number(result.value.totalGrowth) })}</strong>
          </p>
        </div>
      )}
    </Section>
  );
}
