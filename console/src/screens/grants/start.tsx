import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { Field, Problem, Section } from '../../components/ui';
import { call, type Page } from '../../lib/api';
import { useLoad } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { navigate } from '../../lib/router';
import { m, SEGMENTS, type Grant, type Segment } from './messages';

type Ask = { benefitCode: string; memberIds?: string[]; segment?: Segment; note?: string };

const idsOf = (text: string): string[] => [...new Set(text.split(/[\s,]+/).filter(Boolean))];

/** The form of POST /v1/admin/benefit-grants; once confirmed, the screen follows the grant at #/grants/<id>. */
export function StartGrant() {
  const t = useT(m);
  // The benefit list only suggests codes: a catalogue past its first page is still typed in.
  const catalogue = useLoad(() => call<Page<{ code: string; name: string }>>('GET', '/v1/admin/benefits', { query: { limit: 100 } }), []);
  const [benefitCode, setBenefitCode] = useState('');
  const [target, setTarget] = useState<'listed' | 'segment'>('listed');
  const [members, setMembers] = useState('');
  const [segment, setSegment] = useState<Segment>('silent');
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<string>();
  const grant = useIntent((ask: Ask, key) =>
    call<{ grant: Grant }>('POST', '/v1/admin/benefit-grants', { body: ask, idempotencyKey: key }).then((r) => navigate('grants', r.grant.id)),
  );

  const review = (e: Event) => {
    e.preventDefault();
    setProblem(undefined);
    if (!benefitCode.trim()) return setProblem(t('noBenefit'));
    const ids = idsOf(members);
    if (target === 'listed' && ids.length === 0) return setProblem(t('noMembers'));
    grant.ask({
      benefitCode: benefitCode.trim(),
      ...(target === 'listed' ? { memberIds: ids } : { segment }),
      ...(note.trim() ? { note: note.trim() } : {}),
    });
  };
  const asked = grant.asked;
  return (
    <Section title={t('start')}>
      <form onSubmit={review}>
        <div class="row">
          <Field label={t('benefit')}>
            <input list="grant-benefits" value={benefitCode} onInput={(e) => setBenefitCode(e.currentTarget.value)} />
          </Field>
          <datalist id="grant-benefits">
            {catalogue.data?.items.map((b) => (
              <option key={b.code} value={b.code}>
                {b.name}
              </option>
            ))}
          </datalist>
          <fieldset class="grants-target">
            <legend>{t('target')}</legend>
            <label>
              <input type="radio" name="target" checked={target === 'listed'} onChange={() => setTarget('listed')} /> {t('listed')}
            </label>
            <label>
              <input type="radio" name="target" checked={target === 'segment'} onChange={() => setTarget('segment')} /> {t('segment')}
            </label>
          </fieldset>
        </div>
        {target === 'listed' ? (
          <Field label={t('memberIds')} hint={t('memberIdsHint')}>
            <textarea rows={4} value={members} onInput={(e) => setMembers(e.currentTarget.value)} />
          </Field>
        ) : (
          <Field label={t('segment')}>
            <select value={segment} onChange={(e) => setSegment(e.currentTarget.value as Segment)}>
              {SEGMENTS.map((s) => (
                <option key={s} value={s}>
                  {t(`seg.${s}`)}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label={t('note')}>
          <input maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        </Field>
        <Problem text={problem} />
        <button type="submit" disabled={grant.asking}>
          {t('review')}
        </button>
      </form>
      <ConfirmStep intent={grant} label={t('confirmLabel')} role="group">
        {asked?.memberIds
          ? t('confirmMembers', { benefit: asked.benefitCode, count: asked.memberIds.length })
          : t('confirmSegment', { benefit: asked?.benefitCode ?? '', segment: asked?.segment ? t(`seg.${asked.segment}`) : '' })}
      </ConfirmStep>
    </Section>
  );
}
