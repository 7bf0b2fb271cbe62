import type { Enterprise, Gateway, HazardSource, Point, PointLimits } from '#libs/contracts/index.js';
import { ConfigError, type LoadedSiteFile } from '#libs/config/index.js';

/** The in-memory model of every monitored site, indexed for the hot path (one Map lookup per reading). */
export class Registry {
  private readonly pointsByEnterprise = new Map<string, Map<string, Point>>();
  private readonly enterprises = new Map<string, Enterprise>();
  private readonly gateways = new Map<string, Gateway>();
  private readonly hazardSources = new Map<string, HazardSource>();

  private constructor() {}

  static fromSiteFiles(files: readonly LoadedSiteFile[]): Registry {
    const registry = new Registry();
    const problems: string[] = [];
    for (const { file, content } of files) {
      content.enterprises.forEach((e, ei) => {
        const at = `${file}: enterprises[${ei}]`;
        if (registry.enterprises.has(e.code)) problems.push(`${at}.code: duplicate enterprise code ${e.code}`);
        registry.enterprises.set(e.code, { code: e.code, name: e.name, regionCode: e.regionCode });
        const gatewayCodes = new Set<string>();
        e.gateways.forEach((g, gi) => {
          if (gatewayCodes.has(g.code)) problems.push(`${at}.gateways[${gi}].code: duplicate gateway code ${g.code}`);
          gatewayCodes.add(g.code);
          registry.gateways.set(`${e.code}/${g.code}`, { code: g.code, enterpriseCode: e.code });
        });
        const points = registry.pointsByEnterprise.get(e.code) ?? new Map<string, Point>();
        registry.pointsByEnterprise.set(e.code, points);
        e.hazardSources.forEach((hs, hi) => {
          const hsAt = `${at}.hazardSources[${hi}]`;
          const hsKey = `${e.code}/${hs.code}`;
          if (registry.hazardSources.has(hsKey)) problems.push(`${hsAt}.code: duplicate hazard source code ${hs.code}`);
          registry.hazardSources.set(hsKey, { code: hs.code, name: hs.name, enterpriseCode: e.code, kind: hs.kind, grade: hs.grade });
          hs.points.forEach((p, pi) => {
            const pAt = `${hsAt}.points[${pi}]`;
            if (points.has(p.code)) problems.push(`${pAt}.code: duplicate point code ${p.code} in enterprise ${e.code}`);
            if (!gatewayCodes.has(p.gateway)) {
              problems.push(`${pAt}.gateway: gateway ${p.gateway} is not declared; expected one of ${[...gatewayCodes].join(', ')}`);
            }
            problems.push(...checkLimits(`${pAt}.limits`, p.limits, p.range ?? null));
            points.set(p.code, {
              code: p.code,
              name: p.name ?? p.code,
              enterpriseCode: e.code,
              gatewayCode: p.gateway,
              hazardSourceCode: hs.code,
              type: p.type,
              unit: p.unit,
              range: p.range ?? null,
              limits: p.limits,
              deadband: p.deadband,
            });
          });
        });
      });
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return registry;
  }

  findPoint(enterpriseCode: string, pointCode: string): Point | undefined {
    return this.pointsByEnterprise.get(enterpriseCode)?.get(pointCode);
  }

  allPoints(): Point[] {
    const out: Point[] = [];
    for (const points of this.pointsByEnterprise.values()) out.push(...points.values());
    return out;
  }

  allEnterprises(): Enterprise[] {
    return [...this.enterprises.values()];
  }

  allGateways(): Gateway[] {
    return [...this.gateways.values()];
  }

  allHazardSources(): HazardSource[] {
    return [...this.hazardSources.values()];
  }
}

function checkLimits(at: string, limits: PointLimits, range: readonly [number, number] | null): string[] {
  const problems: string[] = [];
  const ordered: [keyof PointLimits, number | null][] = [
    ['ll', limits.ll],
    ['l', limits.l],
    ['h', limits.h],
    ['hh', limits.hh],
  ];
  const set = ordered.filter((e): e is [keyof PointLimits, number] => e[1] !== null);
  for (let i = 1; i < set.length; i++) {
    const [prevKey, prev] = set[i - 1]!;
    const [key, value] = set[i]!;
    if (value <= prev) problems.push(`${at}: ${key} (${value}) must be above ${prevKey} (${prev}); expected ll < l < h < hh`);
  }
  if (range) {
    const [min, max] = range;
    if (min >= max) problems.push(`${at.replace(/\.limits$/, '.range')}: [${min}, ${max}] must be [min, max] with min < max`);
    for (const [key, value] of set) {
      if (value < min || value > max) problems.push(`${at}.${key}: ${value} lies outside the measuring range [${min}, ${max}]`);
    }
  }
  return problems;
}
