import type { Alarm, HazardSource, Point, RiskAssessment } from '#libs/contracts/index.js';
import { getJson } from './api.js';
import { staleAfterMs } from './alarm-view.js';
import { $, esc, fmt, key } from './dom.js';
import { COLOUR } from './labels.js';
import type { LiveValue, View } from './live.js';
import type { EnterpriseView, PageModel } from './model.js';
import type { TrendChart } from './trend.js';

type PointView = Pick<Point, 'code' | 'name' | 'enterpriseCode' | 'hazardSourceCode' | 'unit' | 'limits' | 'samplePeriodS' | 'type'>;
type EnterpriseDetail = EnterpriseView & { readonly hazardSources: HazardSource[] };

const FAULTS = new Set(['bad_quality', 'out_of_range', 'no_data', 'sensor_stuck']);

/**
 * Drill-down (enterprise → hazard source → point): the hazard sources with their colours, the live value of each
 * point marked stale once older than its expected period allows, and a point's trend with its limits.
 */
export class DrillDown {
  private enterprise: string | null = null;
  private points = new Map<string, PointView>();
  private values = new Map<string, LiveValue>();
  private tiles = new Map<string, HTMLElement>();
  private source: string | null = null;
  private generation = 0;

  constructor(
    private readonly model: PageModel,
    private readonly trend: TrendChart,
    private readonly subscribe: (view: View) => void,
    private readonly report: (err: unknown) => void,
    signal: AbortSignal,
  ) {
    $('drill-close').addEventListener('click', () => this.close(), { signal });
    $('drill-sources').addEventListener('click', (ev) => {
      const tile = (ev.target as HTMLElement).closest<HTMLElement>('.risk-tile[data-source]');
      if (tile) this.focusSource(tile.dataset.source!.split('/')[1] ?? null);
    }, { signal });
    $('values').addEventListener('click', (ev) => {
      const tile = (ev.target as HTMLElement).closest<HTMLElement>('.tile[data-point]');
      const p = tile && this.enterprise ? this.points.get(key(this.enterprise, tile.dataset.point!)) : undefined;
      if (!p) return;
      this.tiles.forEach((t) => t.classList.toggle('selected', t === tile));
      this.trend.show(p).catch(this.report);
    }, { signal });
  }

  get current(): string | null {
    return this.enterprise;
  }

  async open(code: string): Promise<void> {
    const gen = ++this.generation;
    const [detail, points, risks] = await Promise.all([
      getJson<EnterpriseDetail>(`/api/enterprises/${encodeURIComponent(code)}`),
      getJson<PointView[]>(`/api/points?enterpriseCode=${encodeURIComponent(code)}&limit=10000`),
      getJson<RiskAssessment[]>(`/api/risk/hazard-sources?enterpriseCode=${encodeURIComponent(code)}`),
    ]);
    if (gen !== this.generation) return;
    this.enterprise = code;
    this.source = null;
    this.values.clear();
    if (!this.model.enterprises.has(code)) this.model.enterprises.set(code, detail);
    $('drill').hidden = false;
    $('drill').dataset.enterprise = code;
    $('drill-title').textContent = `${detail.name} (${code})`;
    $('drill-region').textContent = `区域 region ${detail.region.county ?? detail.region.city ?? detail.regionCode} · ${detail.hazardSources.length} 个危险源 hazard sources · ${points.length} 个点位 points`;
    this.trend.hide();
    const colour = new Map(risks.map((r) => [r.hazardSourceCode, r]));
    $('drill-sources').innerHTML = detail.hazardSources
      .map((h) => {
        const r = colour.get(h.code);
        const c = r?.colour ?? 'blue';
        return `<button type="button" class="risk-tile risk-${c}" data-source="${esc(`${code}/${h.code}`)}" title="${esc((r?.reasons ?? []).map((x) => `+${x.points} ${x.reason}`).join('\n'))}"><b>${esc(h.name)}</b> <span class="colour">${esc(COLOUR[c])}</span> <small>${r?.score ?? ''}${h.grade ? ` · ${h.grade} 级 grade` : ''}</small></button>`;
      })
      .join('');
    this.points = new Map(points.map((p) => [key(p.enterpriseCode, p.code), p]));
    this.drawTiles(detail.hazardSources);
    this.subscribe({ enterprise: code });
    $('drill').scrollIntoView({ block: 'nearest' });
  }

  close(): void {
    this.generation++;
    this.enterprise = null;
    this.points.clear();
    this.values.clear();
    this.tiles.clear();
    $('values').textContent = '';
    $('drill-sources').textContent = '';
    $('drill').hidden = true;
    this.trend.hide();
    this.subscribe('none');
  }

  /** Colours the hazard sources again after a `risk` frame. */
  async refreshRisk(): Promise<void> {
    const code = this.enterprise;
    if (code === null) return;
    const risks = await getJson<RiskAssessment[]>(`/api/risk/hazard-sources?enterpriseCode=${encodeURIComponent(code)}`);
    if (code !== this.enterprise) return;
    for (const r of risks) {
      const tile = document.querySelector<HTMLElement>(`#drill-sources .risk-tile[data-source="${CSS.escape(`${code}/${r.hazardSourceCode ?? ''}`)}"]`);
      if (!tile) continue;
      tile.className = `risk-tile risk-${r.colour}${tile.classList.contains('selected') ? ' selected' : ''}`;
      const label = tile.querySelector('.colour');
      if (label) label.textContent = COLOUR[r.colour];
    }
  }

  applyValues(values: readonly LiveValue[], replace: boolean): void {
    if (replace) {
      // A fresh answer: a point it leaves out has no value now, whatever the tile showed before.
      this.values.clear();
      for (const tile of this.tiles.values()) {
        tile.querySelector('.v')!.textContent = '—';
        tile.classList.remove('bad');
      }
    }
    for (const v of values) {
      const k = key(v.enterpriseCode, v.point);
      const prev = this.values.get(k);
      if (prev && prev.ts > v.ts) continue;
      this.values.set(k, v);
      const tile = this.tiles.get(k);
      if (!tile) continue;
      tile.querySelector('.v')!.textContent = `${fmt(v.value)} ${this.points.get(k)?.unit ?? ''}`;
      tile.classList.toggle('bad', v.quality === 'bad');
    }
    this.trend.live(values);
    this.refreshAges();
  }

  /** Marks each tile stale once its value is older than its point's expected period allows. */
  refreshAges(): void {
    const now = this.model.now();
    for (const [k, tile] of this.tiles) {
      const v = this.values.get(k);
      const p = this.points.get(k);
      if (!p) continue;
      if (!v) {
        tile.classList.add('stale');
        tile.querySelector('.age')!.textContent = '无数据 no data';
        continue;
      }
      const age = Math.max(0, now - v.ts);
      tile.classList.toggle('stale', age > staleAfterMs(p.samplePeriodS));
      tile.querySelector('.age')!.textContent = age < 1000 ? '刚刚 just now' : `${Math.round(age / 1000)} 秒前 s ago`;
    }
  }

  /** Colours the tiles by the alarms on their points. */
  paintAlarms(alarms: Iterable<Alarm>): void {
    if (this.enterprise === null) return;
    const limit = new Map<string, string>();
    const fault = new Set<string>();
    for (const a of alarms) {
      if (a.enterpriseCode !== this.enterprise || a.pointCode === null || !(a.status === 'ACTIVE_UNACK' || a.status === 'ACTIVE_ACK')) continue;
      const k = key(a.enterpriseCode, a.pointCode);
      if (a.condition === 'limit_high' || a.condition === 'limit_low') limit.set(k, a.level);
      if (FAULTS.has(a.condition)) fault.add(k);
    }
    for (const [k, tile] of this.tiles) {
      tile.classList.remove('alarm-H', 'alarm-HH', 'alarm-L', 'alarm-LL');
      const level = limit.get(k);
      if (level) tile.classList.add(`alarm-${level}`);
      tile.classList.toggle('fault', fault.has(k));
    }
  }

  private focusSource(code: string | null): void {
    if (this.enterprise === null) return;
    this.source = this.source === code ? null : code;
    document.querySelectorAll<HTMLElement>('#drill-sources .risk-tile').forEach((t) => t.classList.toggle('selected', this.source !== null && t.dataset.source === `${this.enterprise}/${this.source}`));
    for (const [k, tile] of this.tiles) tile.hidden = this.source !== null && this.points.get(k)?.hazardSourceCode !== this.source;
    document.querySelectorAll<HTMLElement>('#values .group').forEach((g) => (g.hidden = this.source !== null && g.dataset.source !== this.source));
  }

  private drawTiles(sources: readonly HazardSource[]): void {
    const box = $('values');
    box.textContent = '';
    this.tiles.clear();
    const name = new Map(sources.map((h) => [h.code, h.name]));
    let group: string | null | undefined;
    for (const [k, p] of this.points) {
      if (p.hazardSourceCode !== group) {
        group = p.hazardSourceCode;
        const h = document.createElement('div');
        h.className = 'group';
        h.dataset.source = group ?? '';
        h.textContent = group === null ? '企业级 enterprise-wide' : `${name.get(group) ?? group} (${group})`;
        box.appendChild(h);
      }
      const tile = document.createElement('div');
      tile.className = 'tile stale';
      tile.dataset.point = p.code;
      tile.innerHTML = '<div class="name"></div><div class="v">—</div><div class="age">无数据 no data</div>';
      tile.querySelector('.name')!.textContent = `${p.name} (${p.code})`;
      box.appendChild(tile);
      this.tiles.set(k, tile);
    }
  }
}
