import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Bars, color, LineChart } from '../components/chart';
import { Empty, ErrorBox, Field, Loading, Section } from '../components/ui';
import { addDays, daysBetween, type Formatter } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { useFormat, useSession } from '../lib/session';
import { change, figures, idle, loadReports, previousRange, type Figures, type Range, type Report } from './dashboard/data';
import { m } from './dashboard/messages';

const QUICK = [7, 30, 90];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

/**
 * The program's numbers over a range of days in its time zone (docs/ANALYTICS.md): cards with the change against the
 * previous period of equal length, then charts. The root carries `data-ready="true"` once every chart is drawn.
 */
export function DashboardScreen(_: { args: string[] }) {
  const t = useT(m);
  const { calendar } = useSession();
  const [range, setRange] = useState<Range>(() => ({ from: addDays(calendar.today, -29), to: calendar.today }));
  const valid = range.from <= range.to && daysBetween(range.from, range.to) < MAX_DAYS;
  const prev = previousRange(range);
  const report = useLoad(
    async () => {
      if (!valid) return null;
      const { now, before } = await loadReports(range, prev);
      return { now, before, range };
    },
    [range.from, range.to],
  );
  // The data the charts were last drawn for: the page is "ready" when that is the data on screen.
  const [drawn, setDrawn] = useState<unknown>(null);
  const pick = (key: keyof Range) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    if (DAY.test(value)) setRange((r) => ({ ...r, [key]: value }));
  };
  return (
    <div class="dashboard" data-ready={report.state === 'ready' && report.data && report.data.range.from === range.from && report.data.range.to === range.to && drawn === report.data ? 'true' : 'false'}>
      <h1>{t('title')}</h1>
      <Section title={t('range')}>
        <div class="row">
          <Field label={t('from')}>
            <input type="date" value={range.from} max={range.to} onChange={pick('from')} />
          </Field>
          <Field label={t('to')}>
            <input type="date" value={range.to} min={range.from} onChange={pick('to')} />
          </Field>
          {QUICK.map((n) => (
            <button
              key={n}
              type="button"
              aria-pressed={range.to === calendar.today && daysBetween(range.from, range.to) === n - 1}
              onClick={() => setRange({ from: addDays(calendar.today, -(n - 1)), to: calendar.today })}
            >
              {t('last', { n })}
            </button>
          ))}
        </div>
        <p class="dashboard-note">
          {valid
            ? t('rangeNote', { from: range.from, to: range.to, days: daysBetween(range.from, range.to) + 1, tz: calendar.timezone, prevFrom: prev.from, prevTo: prev.to })
            : t('badRange')}
        </p>
      </Section>
      {report.state === 'loading' && <Loading />}
      {report.state === 'error' && <ErrorBox error={report.error} retry={report.reload} />}
      {report.state === 'ready' && report.data && <Figures now={report.data.now} before={report.data.before} range={report.data.range} onDrawn={() => setDrawn(report.data)} />}
    </div>
  );
}

function Figures({ now, before, range, onDrawn }: { now: Report; before: Report; range: Range; onDrawn: () => void }) {
  const t = useT(m);
  const f = useFormat();
  const root = useRef<HTMLDivElement>(null);
  const cur = figures(now);
  const old = figures(before);
  const quiet = idle(now);
  const days = useMemo(() => now.points.intervals.map((i) => i.start), [now]);
  const pointsSeries = useMemo(
    () => [
      { label: t('earned'), values: now.points.intervals.map((i) => i.earned), color: color(0) },
      { label: t('spent'), values: now.points.intervals.map((i) => i.spent), color: color(1) },
      { label: t('expired'), values: now.points.intervals.map((i) => i.expired), color: color(2) },
    ],
    [now, t('earned')],
  );
  const liabilitySeries = useMemo(() => [{ label: t('liability'), values: now.points.intervals.map((i) => i.liability.points), color: color(3) }], [now, t('liability')]);
  const checkinSeries = useMemo(
    () => [
      { label: t('checkins'), values: now.checkins.intervals.map((i) => i.checkins), color: color(0) },
      { label: t('makeups'), values: now.checkins.intervals.map((i) => i.makeups), color: color(4) },
    ],
    [now, t('checkins')],
  );
  // Charts draw in their own effects, which run before this one; the next frame sees every canvas in place.
  useEffect(() => {
    const frame = requestAnimationFrame(() => {
      const charts = [...(root.current?.querySelectorAll('figure.chart') ?? [])];
      if (charts.every((c) => c.querySelector('canvas'))) onDrawn();
    });
    return () => cancelAnimationFrame(frame);
  }, [now, pointsSeries]);
  const end = now.members.intervals[now.members.intervals.length - 1]?.atEnd;
  const funnel = now.referrals.totals;
  const count = (n: number) => f.number(n);
  return (
    <div ref={root}>
      <ul class="cards" aria-label={t('cards')}>
        <Card label={t('earned')} value={cur.earned} before={old.earned} show={f.number} f={f} />
        <Card label={t('spent')} value={cur.spent} before={old.spent} show={f.number} f={f} />
        <Card label={t('expired')} value={cur.expired} before={old.expired} show={f.number} f={f} />
        <Card label={t('liability')} hint={t('liabilityHint', { day: f.day(range.to) })} value={cur.liability} before={old.liability} show={f.number} f={f} />
        <Card label={t('redemptionRate')} value={cur.redemptionRate} before={old.redemptionRate} show={f.percent} f={f} />
        <Card label={t('breakageRate')} value={cur.breakageRate} before={old.breakageRate} show={f.percent} f={f} />
        <Card label={t('newMembers')} value={cur.newMembers} before={old.newMembers} show={f.number} f={f} />
        <Card label={t('checkins')} value={cur.checkins} before={old.checkins} show={f.number} f={f} />
      </ul>
      {quiet && <Empty>{t('noActivity', { from: range.from, to: range.to })}</Empty>}
      <div class="charts">
        {!quiet && <LineChart title={t('pointsChart')} days={days} series={pointsSeries} />}
        <LineChart title={t('liabilityChart')} days={days} series={liabilitySeries} />
        {!quiet && <LineChart title={t('checkinsChart')} days={days} series={checkinSeries} />}
        <Bars title={t('tiersChart', { day: range.to })} rows={Object.entries(end?.tiers ?? {}).map(([label, value]) => ({ label, value }))} format={count} />
        <Bars
          title={t('funnelChart')}
          rows={(['bound', 'qualified', 'rewarded', 'review', 'rejected', 'reversed'] as const).map((k) => ({ label: t(k), value: funnel[k] }))}
          format={count}
        />
        <Bars
          title={t('lifecycleChart', { day: range.to })}
          rows={(['active', 'silent', 'churned'] as const).map((k) => ({ label: t(k), value: end?.lifecycle[k] ?? 0 }))}
          format={count}
        />
      </div>
    </div>
  );
}

function Card({ label, hint, value, before, show, f }: { label: string; hint?: string; value: number | null; before: number | null; show: (n: number | null) => string; f: Formatter }) {
  const t = useT(m);
  const delta = change(value, before);
  const sign = delta === null ? '' : delta > 0 ? '+' : delta < 0 ? '\u2212' : '±';
  return (
    <li class="card" data-card={label}>
      <div class="label">{label}</div>
      <div class="value">{show(value)}</div>
      {hint && <div class="label">{hint}</div>}
      <div class={`change ${delta === null || delta === 0 ? '' : delta > 0 ? 'up' : 'down'}`}>
        {delta === null ? t('noChange') : t('change', { change: `${sign}${f.percent(Math.abs(delta))}` })}
      </div>
    </li>
  );
}
