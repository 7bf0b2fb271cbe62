import type { ServerResponse } from 'node:http';
import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Res, UnprocessableEntityException } from '@nestjs/common';
import type { Enterprise, HazardSource, Industry, PointType } from '#libs/contracts/index.js';
import type { Location, ReloadOutcome } from '#libs/registry/index.js';
import { oneOf, pageOf, regionParam, setPageHeaders } from './paging.js';
import { effectiveLimitsView, pointView } from './registry.views.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';
import { type Caller, CallerOf, Permit } from './auth/decorators.js';

const POINT_TYPES: readonly PointType[] = [
  'temperature', 'pressure', 'level', 'flow', 'combustible_gas', 'toxic_gas', 'oxygen',
  'differential_pressure', 'water_level', 'spark', 'state', 'power', 'current',
];
const INDUSTRIES: readonly Industry[] = ['hazardous_chemicals', 'dust', 'mining', 'other'];
const FLAGS = ['0', '1'] as const;

/** Registry reads (enterprises, hazard sources, points, effective limits) and the admin reload. */
@Controller('api')
export class RegistryController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  private get registry() {
    return this.rt.registry.registry;
  }

  @Get('enterprises')
  @Permit('read')
  enterprises(
    @CallerOf() caller: Caller,
    @Query('regionCode') regionCode: string | undefined,
    @Query('industry') industry: string | undefined,
    @Query('offset') offset: string | undefined,
    @Query('limit') limit: string | undefined,
    @Res({ passthrough: true }) res: ServerResponse,
  ): (Enterprise & { location: Location | null })[] {
    const page = pageOf(offset, limit, 1000, 10_000);
    const all = this.registry.queryEnterprises({ regionCode: regionParam(regionCode), industry: oneOf('industry', industry, INDUSTRIES) }).filter((e) => caller.access.sees(e.code));
    setPageHeaders(res, '/api/enterprises', { regionCode, industry }, page, all.length);
    return all.slice(page.offset, page.offset + page.limit).map((e) => ({ ...e, location: this.registry.enterpriseLocation(e.code) }));
  }

  @Get('enterprises/:code')
  @Permit('read', 'enterprise')
  enterprise(@Param('code') code: string) {
    const e = this.registry.findEnterprise(code);
    if (!e) throw new NotFoundException(`no enterprise ${code}`);
    return {
      ...e,
      location: this.registry.enterpriseLocation(code),
      gateways: this.registry.allGateways().filter((g) => g.enterpriseCode === code),
      hazardSources: this.registry.allHazardSources().filter((h) => h.enterpriseCode === code),
      pointCount: this.registry.queryPoints({ enterpriseCode: code }, 0, 0).total,
    };
  }

  @Get('hazard-sources')
  @Permit('read')
  hazardSources(
    @CallerOf() caller: Caller,
    @Query('enterpriseCode') enterpriseCode: string | undefined,
    @Query('regionCode') regionCode: string | undefined,
    @Query('offset') offset: string | undefined,
    @Query('limit') limit: string | undefined,
    @Res({ passthrough: true }) res: ServerResponse,
  ): HazardSource[] {
    const page = pageOf(offset, limit, 1000, 10_000);
    const region = regionParam(regionCode);
    const inRegion = region === undefined ? null : new Set(this.registry.queryEnterprises({ regionCode: region }).map((e) => e.code));
    const all = this.registry
      .allHazardSources()
      .filter((h) => caller.access.sees(h.enterpriseCode) && (enterpriseCode === undefined || h.enterpriseCode === enterpriseCode) && (!inRegion || inRegion.has(h.enterpriseCode)));
    setPageHeaders(res, '/api/hazard-sources', { enterpriseCode, regionCode }, page, all.length);
    return all.slice(page.offset, page.offset + page.limit);
  }

  @Get('hazard-sources/:enterpriseCode/:code')
  @Permit('read', 'enterprise')
  hazardSource(@Param('enterpriseCode') enterpriseCode: string, @Param('code') code: string) {
    const h = this.registry.findHazardSource(enterpriseCode, code);
    if (!h) throw new NotFoundException(`no hazard source ${code} in enterprise ${enterpriseCode}`);
    return { ...h, points: this.registry.queryPoints({ enterpriseCode, hazardSourceCode: code }, 0, 100_000).items.map(pointView) };
  }

  @Get('points')
  @Permit('read')
  points(
    @CallerOf() caller: Caller,
    @Query('enterpriseCode') enterpriseCode: string | undefined,
    @Query('hazardSourceCode') hazardSourceCode: string | undefined,
    @Query('regionCode') regionCode: string | undefined,
    @Query('type') type: string | undefined,
    @Query('offset') offset: string | undefined,
    @Query('limit') limit: string | undefined,
    @Res({ passthrough: true }) res: ServerResponse,
  ) {
    const page = pageOf(offset, limit, 1000, 10_000);
    const result = this.registry.queryPoints(
      { enterpriseCode, hazardSourceCode, regionCode: regionParam(regionCode), type: oneOf('type', type, POINT_TYPES), ...(caller.access.enterpriseCodes !== null && { within: caller.access.enterpriseCodes }) },
      page.offset,
      page.limit,
    );
    setPageHeaders(res, '/api/points', { enterpriseCode, hazardSourceCode, regionCode, type }, page, result.total);
    return result.items.map(pointView);
  }

  @Get('points/:enterpriseCode/:code')
  @Permit('read', 'enterprise')
  point(@Param('enterpriseCode') enterpriseCode: string, @Param('code') code: string) {
    return pointView(this.findPoint(enterpriseCode, code));
  }

  @Get('points/:enterpriseCode/:code/limits')
  @Permit('read', 'enterprise')
  limits(@Param('enterpriseCode') enterpriseCode: string, @Param('code') code: string) {
    return effectiveLimitsView(this.findPoint(enterpriseCode, code));
  }

  @Get('profiles')
  @Permit('read')
  profiles() {
    return this.registry.profiles();
  }

  /** Counts within the caller's jurisdiction; the outcome of the last reload (which names any enterprise) for the whole jurisdiction only. */
  @Get('registry')
  @Permit('read')
  summary(@CallerOf() caller: Caller) {
    const within = caller.access.enterpriseCodes;
    const sees = (x: { enterpriseCode: string }): boolean => caller.access.sees(x.enterpriseCode);
    return {
      enterprises: this.registry.allEnterprises().filter((e) => caller.access.sees(e.code)).length,
      hazardSources: this.registry.allHazardSources().filter(sees).length,
      gateways: this.registry.allGateways().filter(sees).length,
      points: within === null ? this.registry.pointCount : this.registry.queryPoints({ within }, 0, 0).total,
      lastReload: within === null ? this.rt.registry.lastReload : null,
    };
  }

  /**
   * Admin: re-reads CONFIG_DIR. 200 with what changed, or 422 with every problem while the old registry stays;
   * `force=1` accepts a registry that removes more points than RELOAD_MAX_REMOVED_PCT allows.
   */
  @Post('registry/reload')
  @Permit('registry.reload')
  @HttpCode(200)
  reload(@Query('force') force: string | undefined): ReloadOutcome {
    const outcome = this.rt.registry.reload({ force: oneOf('force', force, FLAGS) === '1' });
    if (!outcome.ok) throw new UnprocessableEntityException({ message: 'registry not reloaded; the previous one stays in force', ...outcome });
    return outcome;
  }

  private findPoint(enterpriseCode: string, code: string) {
    const p = this.registry.findPoint(enterpriseCode, code);
    if (!p) throw new NotFoundException(`no point ${code} in enterprise ${enterpriseCode}`);
    return p;
  }
}
