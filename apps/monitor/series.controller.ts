import { BadRequestException, Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import type { Point, SeriesResult } from '#libs/contracts/index.js';
import { instant, integerParam } from './paging.js';
import { RUNTIME, type MonitorRuntime } from './runtime.js';
import { Permit } from './auth/decorators.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_BUCKETS = 10_000;
/** Bounds of one hazard-source series answer: points, and samples or buckets over all of them. */
const MAX_SERIES_POINTS = 500;
const MAX_SERIES_SAMPLES = 200_000;

function stepOf(raw: string | undefined): number | null {
  if (raw === undefined || raw === 'raw') return null;
  const m = /^(\d+)(s|m|h|d)?$/.exec(raw);
  const ms = m ? Number(m[1]) * (m[2] ? UNITS[m[2]]! : 1) : NaN;
  if (!(ms >= 1000)) throw new BadRequestException(`step must be "raw" or a width of at least 1 s such as 30s, 1m, 15m, 1h, 1d, got "${raw}"`);
  return ms;
}

interface Window {
  readonly from: number;
  readonly to: number;
  readonly stepMs: number | null;
  readonly limit: number;
}

/** History of points from the series store in force (InfluxDB or embedded), with the limits to draw. */
@Controller('api')
export class SeriesController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  @Get('points/:enterpriseCode/:code/series')
  @Permit('read', 'enterprise')
  async pointSeries(
    @Param('enterpriseCode') enterpriseCode: string,
    @Param('code') code: string,
    @Query('from') from: string | undefined,
    @Query('to') to: string | undefined,
    @Query('step') step: string | undefined,
    @Query('limit') limit: string | undefined,
  ) {
    const point = this.rt.registry.registry.findPoint(enterpriseCode, code);
    if (!point) throw new NotFoundException(`no point ${code} in enterprise ${enterpriseCode}`);
    const window = this.window(from, to, step, limit);
    return { ...window, ...this.describe(point), ...(await this.query(point, window)) };
  }

  @Get('hazard-sources/:enterpriseCode/:code/series')
  @Permit('read', 'enterprise')
  async hazardSourceSeries(
    @Param('enterpriseCode') enterpriseCode: string,
    @Param('code') code: string,
    @Query('from') from: string | undefined,
    @Query('to') to: string | undefined,
    @Query('step') step: string | undefined,
    @Query('limit') limit: string | undefined,
  ) {
    const registry = this.rt.registry.registry;
    if (!registry.findHazardSource(enterpriseCode, code)) throw new NotFoundException(`no hazard source ${code} in enterprise ${enterpriseCode}`);
    const window = this.window(from, to, step, limit);
    const points = registry.queryPoints({ enterpriseCode, hazardSourceCode: code }, 0, MAX_SERIES_POINTS).items;
    if (window.stepMs !== null && ((window.to - window.from) / window.stepMs) * points.length > MAX_SERIES_SAMPLES) {
      throw new BadRequestException(`${points.length} points × buckets of ${step ?? ''} over from..to exceed ${MAX_SERIES_SAMPLES} values; choose a wider step or a shorter range`);
    }
    // One answer holds at most MAX_SERIES_SAMPLES raw samples: each point's share, marked truncated when reached.
    const perPoint = { ...window, limit: Math.max(1, Math.min(window.limit, Math.floor(MAX_SERIES_SAMPLES / Math.max(points.length, 1)))) };
    const series = await Promise.all(points.map(async (p) => ({ ...this.describe(p), ...(await this.query(p, perPoint)) })));
    return { enterpriseCode, hazardSourceCode: code, ...perPoint, series };
  }

  private window(from: string | undefined, to: string | undefined, step: string | undefined, limit: string | undefined): Window {
    const end = instant('to', to, Date.now());
    const start = instant('from', from, end - 3_600_000);
    if (start > end) throw new BadRequestException(`from (${new Date(start).toISOString()}) must not be after to (${new Date(end).toISOString()})`);
    const stepMs = stepOf(step);
    if (stepMs !== null && (end - start) / stepMs > MAX_BUCKETS) {
      throw new BadRequestException(`from..to holds more than ${MAX_BUCKETS} buckets of ${step}; choose a wider step or a shorter range`);
    }
    return { from: start, to: end, stepMs, limit: integerParam('limit', limit, 1000, 1, 10_000) };
  }

  private describe(p: Point) {
    return { enterpriseCode: p.enterpriseCode, point: p.code, name: p.name, unit: p.unit, limits: p.limits };
  }

  private query(p: Point, w: Window): Promise<SeriesResult> {
    return this.rt.seriesStore.query({ enterpriseCode: p.enterpriseCode, pointCode: p.code, ...w });
  }
}
