import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useLocale } from '../lib/i18n';

export type Series = { label: string; values: (number | null)[]; color: string };

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
export const color = (i: number): string => PALETTE[i % PALETTE.length]!;

/**
 * A line chart of per-day (or per-interval) figures, drawn by uPlot on a canvas. `days` are calendar days of the
 * program (YYYY-MM-DD), placed at UTC midnight and labelled as days, so no zone shifts them. The figures are also given
 * as a table for screen readers (the canvas is decorative to them).
 */
export function LineChart({ title, days, series, height = 220 }: { title: string; days: string[]; series: Series[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const locale = useLocale();
  useEffect(() => {
    // Ticks in short form (2.6M, 260万), so a large figure fits the axis in either language.
    const compact = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });
    const el = box.current;
    if (!el) return;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: days.length < 40 } }))],
        axes: [{}, { size: 64, values: (_u, ticks) => ticks.map((v) => compact.format(v)) }],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series, height, locale]);
  return (
    <figure class="chart" data-chart={title}>
      <figcaption>{title}</figcaption>
      <div ref={box} aria-hidden="true" />
      <table class="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">day</th>
            {series.map((s) => (
              <th scope="col" key={s.label}>
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((d, i) => (
            <tr key={d}>
              <th scope="row">{d}</th>
              {series.map((s) => (
                <td key={s.label}>{s.values[i] ?? ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Horizontal bars for a distribution (members by tier, the funnel): plain elements, no canvas needed. */
export function Bars({ title, rows, format }: { title: string; rows: { label: string; value: number }[]; format: (n: number) => string }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <figure class="bars" data-chart={title}>
      <figcaption>{title}</figcaption>
      <ul>
        {rows.map((r, i) => (
          <li key={r.label}>
            <span class="bar-label">{r.label}</span>
            <span class="bar-track">
              <span class="bar" style={{ width: `${(100 * r.value) / max}%`, background: color(i) }} />
            </span>
            <span class="bar-value">{format(r.value)}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
