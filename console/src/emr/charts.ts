// Time-series charts for the EMR viewer (SVG, no library): lab trends with the reference range as a
// green band and abnormal points in red, vitals with the NEWS2 score zones as the background.
// Each chart also lists its values as text (details → table), so colour is never the only cue.
import { h, svg } from '../core/dom';
import { formatDateTime, formatNumber } from '../core/format';
import { locale } from '../core/i18n';
import { tx } from './i18n';
import type { ScoreBand } from './types';

export interface ChartPoint {
  at: string;
  value: number;
  /** Shown in red with a larger dot. */
  abnormal?: boolean;
  /** Text in the values table (defaults to the number). */
  label?: string;
  /** Where a click on the dot leads (the document that holds the value). */
  href?: string;
}

export interface TimeChartOptions {
  title: string;
  unit?: string;
  points: ChartPoint[];
  /** Normal range, drawn as a green band. */
  reference?: { low: number | null; high: number | null };
  /** NEWS2 zones, drawn as coloured background bands. */
  bands?: ScoreBand[];
  /** Axis range to include at least (the NEWS2 parameter's usual range). */
  axis?: [number, number];
  height?: number;
  digits?: number;
}

const WIDTH = 640;
const PAD = { left: 52, right: 14, top: 12, bottom: 30 };
const BAND_FILL: Record<number, string> = { 0: 'transparent', 1: '#fff1b8', 2: '#ffd8a8', 3: '#ffc9c4' };

function niceStep(range: number): number {
  const raw = range / 4;
  const exponent = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const step of [1, 2, 2.5, 5, 10]) if (raw <= step * exponent) return step * exponent;
  return 10 * exponent;
}

export function timeChart(options: TimeChartOptions): HTMLElement {
  const height = options.height ?? 200;
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const points = [...options.points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const values = points.map((p) => p.value);
  const candidates = [...values];
  if (options.reference?.low !== null && options.reference?.low !== undefined) candidates.push(options.reference.low);
  if (options.reference?.high !== null && options.reference?.high !== undefined) candidates.push(options.reference.high);
  if (options.axis) candidates.push(...options.axis);
  let min = Math.min(...candidates);
  let max = Math.max(...candidates);
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (min === max) [min, max] = [min - 1, max + 1];
  const step = niceStep(max - min);
  min = Math.floor(min / step) * step;
  max = Math.ceil(max / step) * step;
  const times = points.map((p) => Date.parse(p.at));
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (!Number.isFinite(t0)) [t0, t1] = [Date.now() - 86_400_000, Date.now()];
  if (t0 === t1) [t0, t1] = [t0 - 43_200_000, t1 + 43_200_000];
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * innerW;
  const y = (v: number) => PAD.top + (1 - (Math.min(Math.max(v, min), max) - min) / (max - min)) * innerH;

  const plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, class: 'emr-chart-svg', role: 'img', 'aria-label': `${options.title}${options.unit ? ` (${options.unit})` : ''}` });
  for (const band of options.bands ?? []) {
    if (band.score === 0) continue;
    const from = band.from ?? -Infinity;
    const to = band.to ?? Infinity;
    if (to <= min || from >= max) continue;
    const top = y(Math.min(to, max));
    const bottom = y(Math.max(from, min));
    plot.append(svg('rect', { x: PAD.left, y: top, width: innerW, height: Math.max(0, bottom - top), fill: BAND_FILL[band.score], 'data-score': band.score, class: 'emr-band' }));
  }
  const ref = options.reference;
  if (ref && (ref.low !== null || ref.high !== null)) {
    const top = y(ref.high ?? max);
    const bottom = y(ref.low ?? min);
    plot.append(svg('rect', { x: PAD.left, y: top, width: innerW, height: Math.max(0, bottom - top), class: 'emr-ref-band' }));
  }
  for (let v = min; v <= max + step / 1000; v += step) {
    const yy = y(v);
    plot.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: yy, y2: yy, class: 'emr-grid' }));
    plot.append(svg('text', { x: PAD.left - 6, y: yy + 4, 'text-anchor': 'end', class: 'emr-axis' }, formatNumber(v, 2)));
  }
  const short = new Intl.DateTimeFormat(locale(), { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  plot.append(svg('text', { x: PAD.left, y: height - 8, class: 'emr-axis' }, short.format(t0)));
  plot.append(svg('text', { x: WIDTH - PAD.right, y: height - 8, 'text-anchor': 'end', class: 'emr-axis' }, short.format(t1)));
  if (points.length > 1) plot.append(svg('polyline', { class: 'emr-line', points: points.map((p) => `${x(Date.parse(p.at)).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ') }));
  for (const p of points) {
    const dot = svg(
      'circle',
      { cx: x(Date.parse(p.at)), cy: y(p.value), r: p.abnormal ? 6 : 4.5, class: p.abnormal ? 'emr-dot emr-dot-abnormal' : 'emr-dot', 'data-value': p.value },
      svg('title', null, `${formatDateTime(p.at)}: ${p.label ?? formatNumber(p.value, options.digits ?? 2)}${options.unit ? ` ${options.unit}` : ''}`),
    );
    plot.append(p.href ? svg('a', { href: p.href }, dot) : dot);
  }

  const valuesTable = h(
    'details',
    { class: 'emr-chart-values' },
    h('summary', null, tx('emr.chart.values')),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, tx('emr.chart.time')), h('th', { scope: 'col' }, tx('emr.chart.value')))),
      h(
        'tbody',
        null,
        ...points.map((p) => h('tr', { class: p.abnormal ? 'emr-abnormal' : null }, h('td', null, formatDateTime(p.at)), h('td', null, `${p.label ?? formatNumber(p.value, options.digits ?? 2)}${options.unit ? ` ${options.unit}` : ''}${p.abnormal ? ` (${tx('emr.labs.abnormal')})` : ''}`))),
      ),
    ),
  );
  return h('figure', { class: 'emr-chart', 'data-chart': options.title }, h('figcaption', null, options.title, options.unit ? h('span', { class: 'muted' }, ` (${options.unit})`) : null), plot, valuesTable);
}
