import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { RiskAssessment, RiskColour, RiskHistoryEntry } from '#libs/contracts/index.js';
import { oneOf, pageOf, regionParam, setPageHeaders } from './paging.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';

const COLOURS: readonly RiskColour[] = ['red', 'orange', 'yellow', 'blue'];
type Counts = Record<RiskColour, number>;
const zero = (): Counts => ({ red: 0, orange: 0, yellow: 0, blue: 0 });

/** Four-colour risk (风险一张图): current colours with reasons, counts per county and city, and the history of changes. */
@Controller('api/risk')
export class RiskController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  @Get('enterprises')
  enterprises(@Query('regionCode') region?: string, @Query('colour') colour?: string): RiskAssessment[] {
    return this.filtered('enterprise', regionParam(region), oneOf('colour', colour, COLOURS));
  }

  @Get('hazard-sources')
  hazardSources(@Query('regionCode') region?: string, @Query('colour') colour?: string, @Query('enterpriseCode') enterpriseCode?: string): RiskAssessment[] {
    return this.filtered('hazard_source', regionParam(region), oneOf('colour', colour, COLOURS)).filter((a) => enterpriseCode === undefined || a.enterpriseCode === enterpriseCode);
  }

  /** Enterprises and hazard sources per colour in each county or city. */
  @Get('regions')
  regions(@Query('level') level?: string): { regionCode: string; level: 'county' | 'city'; enterprises: Counts; hazardSources: Counts }[] {
    const lvl = oneOf('level', level, ['county', 'city'] as const) ?? 'county';
    const registry = this.rt.registry.registry;
    const out = new Map<string, { regionCode: string; level: 'county' | 'city'; enterprises: Counts; hazardSources: Counts }>();
    for (const a of [...this.rt.pipeline.risk.list('enterprise'), ...this.rt.pipeline.risk.list('hazard_source')]) {
      const region = registry.findEnterprise(a.enterpriseCode)?.region;
      const code = (lvl === 'county' ? region?.county : region?.city) ?? region?.code;
      if (code === undefined) continue;
      const row = out.get(code) ?? { regionCode: code, level: lvl, enterprises: zero(), hazardSources: zero() };
      (a.hazardSourceCode === null ? row.enterprises : row.hazardSources)[a.colour]++;
      out.set(code, row);
    }
    return [...out.values()].sort((x, y) => x.regionCode.localeCompare(y.regionCode));
  }

  @Get('history')
  history(@Query() q: Record<string, string | undefined>, @Res({ passthrough: true }) res: ServerResponse): RiskHistoryEntry[] {
    const page = pageOf(q.offset, q.limit, 500, 5000);
    const { total, items } = this.rt.alarmStore.riskHistory({ ...(q.enterpriseCode !== undefined && { enterpriseCode: q.enterpriseCode }), ...page });
    setPageHeaders(res, '/api/risk/history', q, page, total);
    return items;
  }

  private filtered(kind: 'enterprise' | 'hazard_source', regionCode: string | undefined, colour: RiskColour | undefined): RiskAssessment[] {
    const inRegion = regionCode === undefined ? null : new Set(this.rt.registry.registry.queryEnterprises({ regionCode }).map((e) => e.code));
    return this.rt.pipeline.risk
      .list(kind)
      .filter((a) => (inRegion === null || inRegion.has(a.enterpriseCode)) && (colour === undefined || a.colour === colour))
      .sort((a, b) => b.score - a.score);
  }
}
