import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { ErrorBox, Field, Loading, Problem, Section } from '../../components/ui';
import { call } from '../../lib/api';
import { useLoad } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { useFormat } from '../../lib/session';
import { m, type Key } from './messages';

type Side = { points?: number; benefitCode?: string };
type Program = {
  version: number;
  updatedAt: string | null;
  active: boolean;
  qualifying: { eventType: string; minAmount: number; withinDays: number };
  rewards: { referrer: Side; invitee: Side };
  monthlyCap: number | null;
  milestones: { count: number; points: number }[];
  holdDays: number;
  bindWindowDays?: number;
  fraud: { maxInviteesPerDevice: number; maxBindsPerIpPerDay: number };
};

type Text = 'eventType' | 'referrerBenefit' | 'inviteeBenefit';
const NUMBERS = ['minAmount', 'withinDays', 'referrerPoints', 'inviteePoints', 'monthlyCap', 'holdDays', 'bindWindowDays', 'maxInviteesPerDevice', 'maxBindsPerIpPerDay'] as const;
type Form = Record<Text | (typeof NUMBERS)[number] | 'milestones', string> & { active: boolean };

const str = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));
const formOf = (p: Program): Form => ({
  active: p.active,
  eventType: p.qualifying.eventType,
  minAmount: str(p.qualifying.minAmount),
  withinDays: str(p.qualifying.withinDays),
  referrerPoints: str(p.rewards.referrer.points),
  referrerBenefit: p.rewards.referrer.benefitCode ?? '',
  inviteePoints: str(p.rewards.invitee.points),
  inviteeBenefit: p.rewards.invitee.benefitCode ?? '',
  monthlyCap: str(p.monthlyCap),
  holdDays: str(p.holdDays),
  bindWindowDays: str(p.bindWindowDays),
  maxInviteesPerDevice: str(p.fraud.maxInviteesPerDevice),
  maxBindsPerIpPerDay: str(p.fraud.maxBindsPerIpPerDay),
  milestones: JSON.stringify(p.milestones),
});

/** The referral program (GET/PUT /v1/admin/referral-program): each save is a new version, confirmed first. */
export function ProgramEditor() {
  const t = useT(m);
  const loaded = useLoad(() => call<{ program: Program }>('GET', '/v1/admin/referral-program'), []);
  const [saved, setSaved] = useState<Program>();
  const program = saved ?? loaded.data?.program;
  return (
    <Section title={t('program')}>
      {loaded.state === 'loading' && <Loading />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} retry={loaded.reload} />}
      {program && <ProgramForm key={program.version} program={program} onSaved={setSaved} />}
    </Section>
  );
}

function ProgramForm({ program, onSaved }: { program: Program; onSaved: (p: Program) => void }) {
  const t = useT(m);
  const f = useFormat();
  const [form, setForm] = useState<Form>(() => formOf(program));
  const [problem, setProblem] = useState<string>();
  const save = useIntent((body: Record<string, unknown>) => call<{ program: Program }>('PUT', '/v1/admin/referral-program', { body }).then((r) => onSaved(r.program)));
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((prev) => ({ ...prev, [key]: value }));

  const review = (e: Event) => {
    e.preventDefault();
    setProblem(undefined);
    const n: Partial<Record<(typeof NUMBERS)[number], number>> = {};
    for (const key of NUMBERS) {
      const v = form[key].trim();
      if (v === '') continue;
      if (!Number.isFinite(Number(v))) return setProblem(t('badNumber', { field: t(key) }));
      n[key] = Number(v);
    }
    let milestones: unknown;
    try {
      milestones = JSON.parse(form.milestones.trim() || '[]');
      if (!Array.isArray(milestones)) throw new Error('[]');
    } catch (err) {
      return setProblem(t('badMilestones', { message: (err as Error).message }));
    }
    const side = (points: number | undefined, benefit: string): Side => ({ ...(points ? { points } : {}), ...(benefit.trim() ? { benefitCode: benefit.trim() } : {}) });
    save.ask({
      active: form.active,
      qualifying: { eventType: form.eventType.trim(), minAmount: n.minAmount ?? 0, withinDays: n.withinDays ?? 30 },
      rewards: { referrer: side(n.referrerPoints, form.referrerBenefit), invitee: side(n.inviteePoints, form.inviteeBenefit) },
      monthlyCap: n.monthlyCap ?? null,
      milestones,
      holdDays: n.holdDays ?? 0,
      ...(n.bindWindowDays !== undefined ? { bindWindowDays: n.bindWindowDays } : {}),
      fraud: { maxInviteesPerDevice: n.maxInviteesPerDevice ?? 1, maxBindsPerIpPerDay: n.maxBindsPerIpPerDay ?? 3 },
    });
  };

  const input = (key: Text | (typeof NUMBERS)[number], hint?: Key) => (
    <Field label={t(key)} hint={hint ? t(hint) : undefined}>
      <input
        type={(NUMBERS as readonly string[]).includes(key) ? 'number' : 'text'}
        min={0}
        value={form[key]}
        onInput={(e) => set(key, e.currentTarget.value)}
      />
    </Field>
  );
  return (
    <>
      <p class="state">{program.updatedAt ? t('version', { version: program.version, at: f.dateTime(program.updatedAt) }) : t('neverSaved')}</p>
      <form onSubmit={review}>
        <label class="field referrals-check">
          <input type="checkbox" checked={form.active} onChange={(e) => set('active', e.currentTarget.checked)} />
          <span>{t('active')}</span>
        </label>
        <div class="row">
          {input('eventType')}
          {input('minAmount')}
          {input('withinDays')}
        </div>
        <div class="row">
          {input('referrerPoints')}
          {input('referrerBenefit')}
          {input('inviteePoints')}
          {input('inviteeBenefit')}
        </div>
        <div class="row">
          {input('monthlyCap', 'capHint')}
          {input('holdDays')}
          {input('bindWindowDays', 'bindHint')}
          {input('maxInviteesPerDevice')}
          {input('maxBindsPerIpPerDay')}
        </div>
        <Field label={t('milestones')} hint={t('milestonesHint')}>
          <textarea rows={2} spellcheck={false} value={form.milestones} onInput={(e) => set('milestones', e.currentTarget.value)} />
        </Field>
        <Problem text={problem} />
        <button type="submit" disabled={save.asking}>
          {t('reviewProgram')}
        </button>
      </form>
      <ConfirmStep intent={save} label={t('confirmProgram')} role="group">
        {t('programAsk', { version: program.version + 1 })}
      </ConfirmStep>
    </>
  );
}
