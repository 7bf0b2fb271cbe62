import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { regionParam } from './paging.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';
import { type Caller, CallerOf, Permit } from './auth/decorators.js';
import type { DataQuality } from './data-quality.js';

/** Data quality per enterprise (数据在线率、完整率、及时率) over the window, within the caller's jurisdiction. */
@Controller('api')
export class DataQualityController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  /** Every enterprise of the jurisdiction (optionally of a region), the least complete first. */
  @Get('data-quality')
  @Permit('read')
  list(@CallerOf() caller: Caller, @Query('regionCode') regionCode?: string): DataQuality[] {
    const region = regionParam(regionCode);
    const codes = new Set(this.rt.registry.registry.queryEnterprises({ regionCode: region }).map((e) => e.code).filter((c) => caller.access.sees(c)));
    return this.rt.dataQuality.report(Date.now(), this.rt.pipeline.book.activeAlarms(), codes).sort((a, b) => a.completeness - b.completeness || a.enterpriseCode.localeCompare(b.enterpriseCode));
  }

  @Get('enterprises/:code/data-quality')
  @Permit('read', 'enterprise')
  one(@Param('code') code: string): DataQuality {
    const [q] = this.rt.dataQuality.report(Date.now(), this.rt.pipeline.book.activeAlarms(), new Set([code]));
    if (q === undefined) throw new NotFoundException(`no enterprise ${code} with points in the registry`);
    return q;
  }
}
