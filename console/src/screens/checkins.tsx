import { useEffect, useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../components/confirm';
import { defined, numberOrText, Refusal } from '../components/editing';
import { RowsEditor } from '../components/rows-editor';
import { ErrorBox, Field, Loading, Section, Time } from '../components/ui';
import { call } from '../lib/api';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { m } from './checkins/messages';

type Config = { cycle: number[]; milestones: { streak: number; points: number; growth: number }[]; growthPerCheckin: number; makeup: { cost: number; perMonth: number } };
type ConfigView = { config: Config; updatedAt: string | null };
/** The form's fields as typed. */
type Draft = { cycle: string[]; milestones: { streak: string; points: string; growth: string }[]; growthPerCheckin: string; cost: string; perMonth: string };

const draftOf = (c: Config): Draft => ({
  cycle: c.cycle.map(String),
  milestones: c.milestones.map((x) => ({ streak: String(x.streak), points: String(x.points), growth: String(x.growth) })),
  growthPerCheckin: String(c.growthPerCheckin),
  cost: String(c.makeup.cost),
  perMonth: String(c.makeup.perMonth),
});
/** PUT /v1/admin/checkin-config's body; what is not a number goes as typed, for the service to name. */
const bodyOf = (d: Draft) => ({
  cycle: d.cycle.map((p) => numberOrText(p) ?? ''),
  milestones: d.milestones.map((x) => defined({ streak: numberOrText(x.streak) ?? '', points: numberOrText(x.points) ?? '', growth: numberOrText(x.growth) })),
  growthPerCheckin: numberOrText(d.growthPerCheckin) ?? 0,
  makeup: { cost: numberOrText(d.cost) ?? '', perMonth: numberOrText(d.perMonth) ?? '' },
});

/** The check-in program (#/checkins): the daily cycle, streak milestones, growth and make-up rules, saved after a confirmation. */
export function CheckinsScreen(_: { args: string[] }) {
  const t = useT(m);
  const loaded = useLoad(() => call<ConfigView>('GET', '/v1/admin/checkin-config'), []);
  const [draft, setDraft] = useState<Draft>();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (loaded.data) setDraft(draftOf(loaded.data.config));
  }, [loaded.data]);
  const save = useIntent(
    (body: ReturnType<typeof bodyOf>) => call<ConfigView>('PUT', '/v1/admin/checkin-config', { body }),
    () => {
      setSaved(true);
      loaded.reload();
    },
    { closeOnRefusal: true },
  );
  if (loaded.state === 'error') return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  if (loaded.state === 'loading' && !draft) return <Loading />;
  if (!draft) return <Loading />;
  const edit = (next: Partial<Draft>) => {
    setDraft({ ...draft, ...next });
    setSaved(false);
  };
  const number = (value: string, onInput: (v: string) => void, label: string) => (
    <input type="text" inputMode="numeric" aria-label={label} value={value} onInput={(e) => onInput(e.currentTarget.value)} />
  );
  const updatedAt = loaded.data?.updatedAt;
  return (
    <>
      <h1>{t('title')}</h1>
      <p class="state">
        {updatedAt ? (
          <>
            {t('lastSaved')}
            <Time iso={updatedAt} />
          </>
        ) : (
          t('never')
        )}
      </p>
      <Section title={t('cycle')}>
        <p class="state">{t('cycleHint')}</p>
        <div class="program-grid">
          {draft.cycle.map((p, i) => (
            <Field key={i} label={t('dayPoints', { n: i + 1 })}>
              <input type="text" inputMode="numeric" value={p} onInput={(e) => edit({ cycle: draft.cycle.map((x, j) => (j === i ? e.currentTarget.value : x)) })} />
            </Field>
          ))}
        </div>
        <div class="row">
          <button type="button" disabled={draft.cycle.length >= 31} onClick={() => edit({ cycle: [...draft.cycle, draft.cycle[draft.cycle.length - 1] ?? '0'] })}>
            {t('addDay')}
          </button>
          <button type="button" class="danger" disabled={draft.cycle.length <= 1} onClick={() => edit({ cycle: draft.cycle.slice(0, -1) })}>
            {t('removeDay')}
          </button>
        </div>
      </Section>
      <Section title={t('milestones')}>
        <p class="state">{t('milestonesHint')}</p>
        <RowsEditor
          rows={draft.milestones}
          columns={[
            { field: 'streak', label: t('streak'), inputMode: 'numeric' },
            { field: 'points', label: t('points'), inputMode: 'numeric' },
            { field: 'growth', label: t('growth'), inputMode: 'numeric' },
          ]}
          onChange={(milestones) => edit({ milestones })}
          newRow={() => ({ streak: '', points: '', growth: '0' })}
          cellLabel={(field, n) => t('fieldOf', { field, n })}
          removeLabel={t('remove')}
          removeRowLabel={(n) => t('removeMilestone', { n })}
          addLabel={t('addMilestone')}
          emptyText={t('noMilestones')}
        />
      </Section>
      <Section title={t('other')}>
        <div class="program-grid">
          <Field label={t('growthPerCheckin')}>{number(draft.growthPerCheckin, (v) => edit({ growthPerCheckin: v }), t('growthPerCheckin'))}</Field>
          <Field label={t('makeupCost')}>{number(draft.cost, (v) => edit({ cost: v }), t('makeupCost'))}</Field>
          <Field label={t('makeupPerMonth')} hint={t('makeupHint')}>
            {number(draft.perMonth, (v) => edit({ perMonth: v }), t('makeupPerMonth'))}
          </Field>
        </div>
      </Section>
      <Refusal error={save.error} />
      <div class="row program-actions">
        <button type="button" class="primary" disabled={save.busy} onClick={() => save.ask(bodyOf(draft))}>
          {t('saveProgram')}
        </button>
        {saved && (
          <span class="state ok" role="status">
            {t('saved')}
          </span>
        )}
      </div>
      <ConfirmStep intent={save} label={t('saveProgram')}>
        {t('confirmSave')}
      </ConfirmStep>
    </>
  );
}
