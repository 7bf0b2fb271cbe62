import type { Alarm, PointLimits } from '#libs/contracts/index.js';
import { getJson } from './api.js';
import { AXIS, echarts, FONT } from './charts.js';
import { $, fmt } from './dom.js';
import type { LiveValue } from './live.js';

interface TrendPoint {
  readonly enterpriseCode: string;
  readonly code: string;
  readonly name: string;
  readonly unit: string;
}

interface Bucket {
  readonly ts: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}
interface SeriesAnswer {
  readonly limits: PointLimits;
  readonly unit: string;
  readonly samples: Bucket[];
}

/** Each range as the history API is asked for it: about 240–300 buckets whatever the range. */
const RANGES: Readonly<Record<string, { readonly ms: number; readonly step: string; readonly label: string }>> = {
  '1h': { ms: 3_600_000, step: '15s', label: '1 小时 hour' },
  '1d': { ms: 86_400_000, step: '5m', label: '1 天 day' },
  '1w': { ms: 7 * 86_400_000, step: '1h', label: '1 周 week' },
};
const LIMIT_STYLE: Readonly<Record<keyof PointLimits, { readonly label: string; readonly color: string }>> = {
  hh: { label: 'HH', color: '#e5383b' },
  h: { label: 'H', color: '#f08c00' },
  l: { label: 'L', color: '#f08c00' },
  ll: { label: 'LL', color: '#e5383b' },
};

/**
 * A point's trend over the last hour, day or week from the history API: mean per bucket with its min–max band, the
 * point's limits drawn as lines, and the periods its alarms were active shaded.
 */
export class TrendChart {
  private chart: ReturnType<typeof echarts.init> | null = null;
  private point: TrendPoint | null = null;
  private range = '1h';
  private generation = 0;
  /** The mean line as drawn, live values appended. */
  private mean: [number, number][] = [];
  private lastTs = 0;

  constructor(
    private readonly openAlarms: () => Iterable<Alarm>,
    private readonly report: (err: unknown) => void,
    /** The server's time (the browser's clock may be off). */
    private readonly now: () => number,
    signal: AbortSignal,
  ) {
    document.querySelectorAll<HTMLButtonElement>('#trend-panel .ranges button').forEach((b) =>
      b.addEventListener('click', () => {
        this.range = b.dataset.range ?? '1h';
        document.querySelectorAll('#trend-panel .ranges button').forEach((x) => x.classList.toggle('on', x === b));
        if (this.point) this.show(this.point).catch(this.report);
      }, { signal }),
    );
  }

  get shown(): TrendPoint | null {
    return this.point;
  }

  async show(point: TrendPoint): Promise<void> {
    const gen = ++this.generation;
    this.point = point;
    const range = RANGES[this.range]!;
    const to = this.now();
    const from = to - range.ms;
    const base = `/api/points/${encodeURIComponent(point.enterpriseCode)}/${encodeURIComponent(point.code)}`;
    const q = (extra: string): string => `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}${extra}`;
    const [series, history] = await Promise.all([
      getJson<SeriesAnswer>(`${base}/series?${q(`&step=${range.step}`)}`),
      getJson<Alarm[]>(`/api/alarms?enterpriseCode=${encodeURIComponent(point.enterpriseCode)}&state=all&${q('&limit=500')}`),
    ]);
    if (gen !== this.generation) return;
    $('trend-panel').hidden = false;
    $('trend-title').textContent = `${point.name} (${point.code}) · ${range.label}`;
    const mine = new Map<string, Alarm>();
    for (const a of [...history, ...this.openAlarms()]) if (a.enterpriseCode === point.enterpriseCode && a.pointCode === point.code) mine.set(a.id, a);
    const periods = [...mine.values()].map((a) => [{ xAxis: Math.max(from, Date.parse(a.raisedAt)), name: a.level }, { xAxis: a.clearedAt ? Date.parse(a.clearedAt) : to }]);
    const limits = (Object.keys(LIMIT_STYLE) as (keyof PointLimits)[]).filter((k) => series.limits[k] !== null);
    const box = $('trend');
    box.dataset.limits = limits.map((k) => `${LIMIT_STYLE[k].label}=${series.limits[k]}`).join(' ');
    box.dataset.alarmPeriods = String(periods.length);
    box.dataset.samples = String(series.samples.length);
    $('trend-note').textContent =
      (limits.length ? `限值 Limits: ${limits.map((k) => `${LIMIT_STYLE[k].label} ${series.limits[k]} ${series.unit}`).join(' · ')}` : '无限值 No limits') +
      ` · 报警时段 alarm periods: ${periods.length}` +
      (series.samples.length === 0 ? ' · 该时段无数据 no data in this range' : '');
    this.chart ??= echarts.init(box, undefined, { renderer: 'canvas' });
    const unit = series.unit;
    this.mean = series.samples.map((s) => [s.ts, s.mean]);
    this.lastTs = series.samples.reduce((t, s) => Math.max(t, s.ts), 0);
    this.chart.setOption(
      {
        textStyle: { fontFamily: FONT },
        animation: false,
        grid: { left: 56, right: 60, top: 20, bottom: 50 },
        tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${fmt(v)} ${unit}` : '') },
        legend: { data: ['范围 min–max', '均值 mean'], textStyle: { color: '#8fa3b8' }, top: 0, left: 60 },
        dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 6 }],
        xAxis: { type: 'time', min: from, max: to, ...AXIS },
        // Every limit in view, however far the values are from it.
        yAxis: { type: 'value', scale: true, name: unit, ...AXIS, ...this.extent(series.samples, limits.map((k) => series.limits[k]!)) },
        series: [
          { name: '最小 min', type: 'line', data: series.samples.map((s) => [s.ts, s.min]), showSymbol: false, lineStyle: { width: 0 }, stack: 'band', silent: true },
          { name: '范围 min–max', type: 'line', data: series.samples.map((s) => [s.ts, s.max - s.min]), showSymbol: false, lineStyle: { width: 0 }, areaStyle: { color: 'rgba(116,192,252,0.18)' }, stack: 'band', silent: true },
          {
            name: '均值 mean',
            type: 'line',
            data: this.mean,
            showSymbol: false,
            lineStyle: { color: '#74c0fc', width: 1.5 },
            markLine: {
              symbol: 'none',
              silent: true,
              data: limits.map((k) => ({ yAxis: series.limits[k], name: LIMIT_STYLE[k].label, lineStyle: { color: LIMIT_STYLE[k].color, type: 'dashed' }, label: { formatter: `${LIMIT_STYLE[k].label} ${series.limits[k]}`, color: LIMIT_STYLE[k].color } })),
            },
            markArea: { silent: true, itemStyle: { color: 'rgba(229,56,59,0.15)' }, data: periods },
          },
        ],
      },
      { notMerge: true },
    );
  }

  private extent(samples: readonly Bucket[], limits: readonly number[]): { min?: number; max?: number } {
    const xs = [...samples.flatMap((s) => [s.min, s.max]), ...limits];
    if (xs.length === 0) return {};
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const pad = Math.max((hi - lo) * 0.05, 0.5);
    return { min: Math.floor(lo - pad), max: Math.ceil(hi + pad) };
  }

  /** Appends live values of the point shown to the last-hour chart (the other ranges are buckets of minutes or hours). */
  live(values: readonly LiveValue[]): void {
    const p = this.point;
    if (!p || this.range !== '1h' || this.chart === null) return;
    const mine = values.filter((v) => v.enterpriseCode === p.enterpriseCode && v.point === p.code && v.quality === 'good' && v.ts > this.lastTs);
    if (mine.length === 0) return;
    for (const v of mine) this.mean.push([v.ts, v.value]);
    this.lastTs = mine.reduce((t, v) => Math.max(t, v.ts), this.lastTs);
    this.chart.setOption({ xAxis: { max: Math.max(this.now(), this.lastTs) }, series: [{}, {}, { data: this.mean }] });
  }

  hide(): void {
    this.generation++;
    this.point = null;
    $('trend-panel').hidden = true;
  }

  resize(): void {
    this.chart?.resize();
  }
}
