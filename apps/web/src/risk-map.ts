import type { RiskAssessment, RiskColour } from '#libs/contracts/index.js';
import { getJson } from './api.js';
import { AXIS, echarts, FONT } from './charts.js';
import { $, esc } from './dom.js';
import { COLOUR, COLOUR_HEX, COLOURS } from './labels.js';
import type { EnterpriseView, PageModel } from './model.js';

type Counts = Record<RiskColour, number>;
interface RegionRisk {
  readonly regionCode: string;
  readonly enterprises: Counts;
  readonly hazardSources: Counts;
  readonly location: { readonly lat: number; readonly lon: number } | null;
}

const RANK: Readonly<Record<RiskColour, number>> = { red: 0, orange: 1, yellow: 2, blue: 3 };
/** Above this many enterprises in view, the map and the ranking show regions instead of enterprises. */
export const ENTERPRISES_ON_MAP = 300;
const RANKED = 200;

const worst = (c: Counts): RiskColour => COLOURS.find((k) => c[k] > 0) ?? 'blue';
const total = (c: Counts): number => c.red + c.orange + c.yellow + c.blue;

/**
 * The risk map (风险一张图) and the ranking beside it: enterprises at their coordinates coloured by four-colour risk
 * when few enough are in view, else one mark per county sized by its enterprises and coloured by its worst; a click
 * on a region narrows to it, a click on an enterprise opens its drill-down. No base tiles: a schematic by
 * coordinates, drawn from what the server knows.
 */
export class RiskMap {
  private chart: ReturnType<typeof echarts.init> | null = null;
  private region: string | null = null;
  private regions: RegionRisk[] = [];
  private risks: RiskAssessment[] = [];
  private loading: Promise<void> | null = null;
  /** Regions whose enterprises the page has loaded by name. */
  private readonly loadedRegions = new Set<string>();
  private again = false;

  constructor(
    private readonly model: PageModel,
    private readonly openEnterprise: (code: string) => void,
    private readonly signal: AbortSignal,
  ) {
    $('map-up').addEventListener('click', () => this.narrow(null), { signal });
    $('risk').addEventListener('click', (ev) => {
      const tile = (ev.target as HTMLElement).closest<HTMLElement>('.risk-tile');
      if (tile?.dataset.enterprise) this.openEnterprise(tile.dataset.enterprise);
      else if (tile?.dataset.region) this.narrow(tile.dataset.region);
    }, { signal });
  }

  /** Reloads the colours (after a `risk` frame); calls arriving meanwhile make one more load, not one each. */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = this.load().finally(() => {
      this.loading = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.loading;
  }

  narrow(region: string | null): void {
    this.region = region;
    $('map-up').hidden = region === null;
    void this.refresh();
  }

  dispose(): void {
    this.chart?.dispose();
    this.chart = null;
    $('risk').textContent = '';
    $('risk-counts').textContent = '';
  }

  private async load(): Promise<void> {
    const regions = await getJson<RegionRisk[]>('/api/risk/regions?level=county');
    // The session may have ended while the answer was on its way: nothing of it may reach the next user's screen.
    if (this.signal.aborted) return;
    const inView = this.region === null ? regions : regions.filter((r) => r.regionCode === this.region);
    const enterprises = inView.reduce((n, r) => n + total(r.enterprises), 0);
    // Regions when the whole jurisdiction holds too many enterprises to tell apart; each enterprise otherwise.
    const byRegion = this.region === null && enterprises > ENTERPRISES_ON_MAP;
    if (!byRegion) {
      const regionQuery = this.region === null ? '' : `?regionCode=${encodeURIComponent(this.region)}`;
      const [risks] = await Promise.all([getJson<RiskAssessment[]>(`/api/risk/enterprises${regionQuery}`), this.loadEnterprises(this.region)]);
      if (this.signal.aborted) return;
      this.risks = risks;
    }
    this.regions = regions;
    this.draw(inView, byRegion);
  }

  /** Names and places of a region's enterprises, when the page did not load them up front. */
  private async loadEnterprises(region: string | null): Promise<void> {
    if (region === null || this.loadedRegions.has(region)) return;
    const list = await getJson<EnterpriseView[]>(`/api/enterprises?regionCode=${encodeURIComponent(region)}&limit=10000`);
    if (this.signal.aborted) return;
    for (const e of list) this.model.enterprises.set(e.code, e);
    this.loadedRegions.add(region);
  }

  private draw(inView: readonly RegionRisk[], byRegion: boolean): void {
    const sum = (pick: (r: RegionRisk) => Counts): Counts => {
      const c: Counts = { red: 0, orange: 0, yellow: 0, blue: 0 };
      for (const r of inView) for (const k of COLOURS) c[k] += pick(r)[k];
      return c;
    };
    const ent = sum((r) => r.enterprises);
    const src = sum((r) => r.hazardSources);
    $('risk-counts').innerHTML = COLOURS.map((k) => `<span class="risk-${k}" data-colour="${k}">${esc(COLOUR[k])}: 企业 ${ent[k]} · 危险源 ${src[k]}</span>`).join('');
    $('map-scope').textContent = this.region === null ? `${inView.length} 个区县 counties · ${total(ent)} 家企业 enterprises` : `区县 county ${this.region} · ${total(ent)} 家企业 enterprises`;
    $('map').dataset.mode = byRegion ? 'regions' : 'enterprises';
    if (byRegion) this.drawRegions(inView);
    else this.drawEnterprises();
  }

  private drawRegions(regions: readonly RegionRisk[]): void {
    const ranked = [...regions].sort((a, b) => RANK[worst(a.enterprises)] - RANK[worst(b.enterprises)] || b.enterprises.red - a.enterprises.red || b.enterprises.orange - a.enterprises.orange || total(b.enterprises) - total(a.enterprises));
    $('risk').innerHTML = ranked
      .slice(0, RANKED)
      .map((r) => {
        const c = worst(r.enterprises);
        return `<button type="button" class="risk-tile risk-${c}" data-region="${esc(r.regionCode)}"><b>${esc(r.regionCode)}</b> <small>${COLOURS.map((k) => `${COLOUR[k].slice(0, 1)} ${r.enterprises[k]}`).join(' · ')}</small></button>`;
      })
      .join('');
    const placed = ranked.filter((r) => r.location !== null);
    this.plot(
      placed.map((r) => ({
        name: r.regionCode,
        value: [r.location!.lon, r.location!.lat, total(r.enterprises)],
        itemStyle: { color: COLOUR_HEX[worst(r.enterprises)] },
        symbolSize: Math.min(40, 8 + 3 * Math.sqrt(total(r.enterprises))),
        label: { show: true, formatter: `${r.regionCode}\n${r.enterprises.red}/${r.enterprises.orange}/${r.enterprises.yellow}/${r.enterprises.blue}`, color: '#dce6f0', fontSize: 10, position: 'right' as const },
      })),
      (name) => this.narrow(name),
    );
  }

  private drawEnterprises(): void {
    const ranked = this.risks.slice(0, RANKED);
    $('risk').innerHTML = ranked
      .map((r) => `<button type="button" class="risk-tile risk-${r.colour}" data-enterprise="${esc(r.enterpriseCode)}" title="${esc(r.reasons.map((x) => `+${x.points} ${x.reason}`).join('\n'))}"><b>${esc(this.model.enterpriseName(r.enterpriseCode))}</b> <span class="colour">${esc(COLOUR[r.colour])}</span> <small>${r.score}</small></button>`)
      .join('') + (this.risks.length > RANKED ? `<span class="note">… ${this.risks.length - RANKED} 家 more</span>` : '');
    const placed = this.risks.flatMap((r) => {
      const at = this.model.enterprises.get(r.enterpriseCode)?.location;
      return at ? [{ name: r.enterpriseCode, value: [at.lon, at.lat, r.score], itemStyle: { color: COLOUR_HEX[r.colour] }, symbolSize: 18 - 3 * RANK[r.colour], label: { show: this.risks.length <= 30, formatter: this.model.enterpriseName(r.enterpriseCode), color: '#dce6f0', fontSize: 11, position: 'right' as const } }] : [];
    });
    this.plot(placed, (code) => this.openEnterprise(code));
  }

  private plot(data: readonly { name: string; value: number[] }[], click: (name: string) => void): void {
    const box = $('map');
    box.dataset.marks = String(data.length);
    if (this.chart === null) {
      this.chart = echarts.init(box, undefined, { renderer: 'canvas' });
      window.addEventListener('resize', () => this.chart?.resize(), { signal: this.signal });
    }
    const chart = this.chart;
    const lons = data.map((d) => d.value[0]!);
    const lats = data.map((d) => d.value[1]!);
    const pad = (xs: number[], min: number): [number, number] => {
      if (xs.length === 0) return [0, 1];
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      const p = Math.max((hi - lo) * 0.15, min);
      return [lo - p, hi + p];
    };
    const [x0, x1] = pad(lons, 0.02);
    const [y0, y1] = pad(lats, 0.02);
    chart.setOption(
      {
        textStyle: { fontFamily: FONT },
        grid: { left: 44, right: 20, top: 10, bottom: 28 },
        tooltip: { trigger: 'item', formatter: (p: { name: string }) => esc(this.model.enterprises.get(p.name)?.name ?? p.name) },
        xAxis: { type: 'value', min: x0, max: x1, name: '经度 lon', nameGap: 4, nameTextStyle: { color: '#8fa3b8' }, ...AXIS, axisLabel: { ...AXIS.axisLabel, formatter: (v: number) => v.toFixed(2) } },
        yAxis: { type: 'value', min: y0, max: y1, name: '纬度 lat', nameTextStyle: { color: '#8fa3b8' }, ...AXIS, axisLabel: { ...AXIS.axisLabel, formatter: (v: number) => v.toFixed(2) } },
        series: [{ type: 'scatter', data, emphasis: { scale: 1.4 }, animation: false }],
      },
      { notMerge: true },
    );
    chart.off('click');
    chart.on('click', (p) => click(String(p.name)));
  }
}
