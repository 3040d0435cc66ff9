// A small live line chart in SVG (no library): a few series over a time window, a 0/half/max scale,
// and a legend that states each series' latest value in text (the chart is also readable without
// seeing it: role="img" with a label that says the same).
import { h, setText, svg } from '../core/dom';
import { formatNumber } from '../core/format';
import { t } from '../core/i18n';

export interface SeriesSpec {
  label: string;
  /** CSS colour; the legend repeats it with the name, so colour is never the only cue. */
  color: string;
}

export interface ChartPoint {
  at: number;
  values: number[];
}

const WIDTH = 600;
const PAD = { left: 44, right: 8, top: 8, bottom: 18 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exponent = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * exponent) return step * exponent;
  return 10 * exponent;
}

export class LineChart {
  readonly el: HTMLElement;
  private readonly plot: SVGSVGElement;
  private readonly lines: SVGPolylineElement[];
  private readonly scaleLabels: SVGTextElement[];
  private readonly windowLabel: SVGTextElement;
  private readonly legendValues: HTMLElement[];

  constructor(
    private readonly title: string,
    private readonly series: SeriesSpec[],
    private readonly options: { height?: number; windowMs?: number; unit?: string; digits?: number } = {},
  ) {
    const height = options.height ?? 140;
    this.plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, preserveAspectRatio: 'none', class: 'chart-svg', role: 'img', 'aria-label': title });
    const innerH = height - PAD.top - PAD.bottom;
    this.scaleLabels = [0, 0.5, 1].map((f) => {
      const y = PAD.top + innerH * (1 - f);
      this.plot.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: 'chart-grid' }));
      const label = svg('text', { x: PAD.left - 4, y: y + 4, 'text-anchor': 'end', class: 'chart-scale' }, '0');
      this.plot.append(label);
      return label;
    });
    this.windowLabel = svg('text', { x: PAD.left, y: height - 4, class: 'chart-scale' }, '');
    this.plot.append(this.windowLabel, svg('text', { x: WIDTH - PAD.right, y: height - 4, 'text-anchor': 'end', class: 'chart-scale' }, t('chart.now')));
    this.lines = series.map((s) => {
      const line = svg('polyline', { fill: 'none', stroke: s.color, 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke', points: '' });
      this.plot.append(line);
      return line;
    });
    this.legendValues = series.map(() => h('span', { class: 'legend-value' }, '—'));
    this.el = h(
      'figure',
      { class: 'chart' },
      h('figcaption', null, title),
      this.plot,
      h('ul', { class: 'legend' }, ...series.map((s, i) => h('li', null, h('span', { class: 'swatch', style: `background:${s.color}` }), `${s.label}: `, this.legendValues[i]))),
    );
  }

  /** Changes the time span shown (the next update draws it). */
  setWindow(windowMs: number): void {
    this.options.windowMs = windowMs;
  }

  update(points: ChartPoint[], now = Date.now()): void {
    const windowMs = this.options.windowMs ?? 5 * 60_000;
    const height = this.options.height ?? 140;
    const innerW = WIDTH - PAD.left - PAD.right;
    const innerH = height - PAD.top - PAD.bottom;
    const visible = points.filter((p) => p.at >= now - windowMs);
    const max = niceMax(Math.max(0, ...visible.flatMap((p) => p.values.filter((v) => Number.isFinite(v)))));
    const digits = this.options.digits ?? (max < 10 ? 1 : 0);
    this.scaleLabels.forEach((label, i) => setText(label, formatNumber((max * [0, 0.5, 1][i]), digits)));
    setText(this.windowLabel, windowMs >= 2 * 3_600_000 ? t('chart.windowHours', { hours: Math.round(windowMs / 3_600_000) }) : t('chart.window', { minutes: Math.round(windowMs / 60_000) }));
    this.plot.dataset.points = String(visible.length);
    this.lines.forEach((line, s) => {
      const coords = visible
        .filter((p) => Number.isFinite(p.values[s]))
        .map((p) => {
          const x = PAD.left + innerW * (1 - (now - p.at) / windowMs);
          const y = PAD.top + innerH * (1 - p.values[s] / max);
          return `${x.toFixed(1)},${y.toFixed(1)}`;
        });
      line.setAttribute('points', coords.join(' '));
    });
    const latest = visible[visible.length - 1];
    const summary: string[] = [];
    this.series.forEach((s, i) => {
      const value = latest ? formatNumber(latest.values[i], 2) + (this.options.unit ? ` ${this.options.unit}` : '') : '—';
      setText(this.legendValues[i], value);
      summary.push(`${s.label} ${value}`);
    });
    this.plot.setAttribute('aria-label', `${this.title}: ${summary.join(', ')}`);
  }
}
