import type { ServerResponse } from 'node:http';
import { Controller, ForbiddenException, Get, Inject, Query, Res } from '@nestjs/common';
import type { RiskAssessment, RiskColour, RiskHistoryEntry } from '#libs/contracts/index.js';
import { oneOf, pageOf, regionParam, setPageHeaders } from './paging.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';
import { type Caller, CallerOf, Permit } from './auth/decorators.js';

const COLOURS: readonly RiskColour[] = ['red', 'orange', 'yellow', 'blue'];
type Counts = Record<RiskColour, number>;
const zero = (): Counts => ({ red: 0, orange: 0, yellow: 0, blue: 0 });

export interface RegionRisk {
  readonly regionCode: string;
  readonly level: 'county' | 'city';
  readonly enterprises: Counts;
  readonly hazardSources: Counts;
  readonly location: { readonly lat: number; readonly lon: number } | null;
}

/** Four-colour risk (风险一张图): current colours with reasons, counts per county and city, and the history of changes. */
@Controller('api/risk')
export class RiskController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  @Get('enterprises')
  @Permit('read')
  enterprises(@CallerOf() caller: Caller, @Query('regionCode') region?: string, @Query('colour') colour?: string): RiskAssessment[] {
    return this.filtered(caller, 'enterprise', regionParam(region), oneOf('colour', colour, COLOURS));
  }

  @Get('hazard-sources')
  @Permit('read')
  hazardSources(@CallerOf() caller: Caller, @Query('regionCode') region?: string, @Query('colour') colour?: string, @Query('enterpriseCode') enterpriseCode?: string): RiskAssessment[] {
    return this.filtered(caller, 'hazard_source', regionParam(region), oneOf('colour', colour, COLOURS)).filter((a) => enterpriseCode === undefined || a.enterpriseCode === enterpriseCode);
  }

  /**
   * Enterprises and hazard sources per colour in each county or city, with where to draw the region on a map (the
   * mean of its enterprises' locations; null when none has one).
   */
  @Get('regions')
  @Permit('read')
  regions(@CallerOf() caller: Caller, @Query('level') level?: string): RegionRisk[] {
    const lvl = oneOf('level', level, ['county', 'city'] as const) ?? 'county';
    const registry = this.rt.registry.registry;
    const out = new Map<string, RegionRisk & { sum: { lat: number; lon: number; n: number } }>();
    for (const a of [...this.rt.pipeline.risk.list('enterprise'), ...this.rt.pipeline.risk.list('hazard_source')]) {
      if (!caller.access.sees(a.enterpriseCode)) continue;
      const region = registry.findEnterprise(a.enterpriseCode)?.region;
      const code = (lvl === 'county' ? region?.county : region?.city) ?? region?.code;
      if (code === undefined) continue;
      const row = out.get(code) ?? { regionCode: code, level: lvl, enterprises: zero(), hazardSources: zero(), location: null, sum: { lat: 0, lon: 0, n: 0 } };
      (a.hazardSourceCode === null ? row.enterprises : row.hazardSources)[a.colour]++;
      const at = a.hazardSourceCode === null ? registry.enterpriseLocation(a.enterpriseCode) : null;
      if (at !== null) {
        row.sum.lat += at.lat;
        row.sum.lon += at.lon;
        row.sum.n++;
      }
      out.set(code, row);
    }
    return [...out.values()]
      .map(({ sum, ...row }) => ({ ...row, location: sum.n === 0 ? null : { lat: sum.lat / sum.n, lon: sum.lon / sum.n } }))
      .sort((x, y) => x.regionCode.localeCompare(y.regionCode));
  }

  /** Callers without the whole jurisdiction read the history one enterprise at a time (`enterpriseCode`). */
  @Get('history')
  @Permit('read')
  history(@Query() q: Record<string, string | undefined>, @CallerOf() caller: Caller, @Res({ passthrough: true }) res: ServerResponse): RiskHistoryEntry[] {
    if (caller.access.enterpriseCodes !== null && q.enterpriseCode === undefined) throw new ForbiddenException('name an enterpriseCode: the whole risk history is for callers whose jurisdiction is everything');
    const page = pageOf(q.offset, q.limit, 500, 5000);
    const { total, items } = this.rt.alarmStore.riskHistory({ ...(q.enterpriseCode !== undefined && { enterpriseCode: q.enterpriseCode }), ...page });
    setPageHeaders(res, '/api/risk/history', q, page, total);
    return items;
  }

  private filtered(caller: Caller, kind: 'enterprise' | 'hazard_source', regionCode: string | undefined, colour: RiskColour | undefined): RiskAssessment[] {
    const inRegion = regionCode === undefined ? null : new Set(this.rt.registry.registry.queryEnterprises({ regionCode }).map((e) => e.code));
    return this.rt.pipeline.risk
      .list(kind)
      .filter((a) => caller.access.sees(a.enterpriseCode) && (inRegion === null || inRegion.has(a.enterpriseCode)) && (colour === undefined || a.colour === colour))
      .sort((a, b) => b.score - a.score);
  }
}
