import type {
  ClauseTest,
  CompositeClause,
  CompositeRule,
  ElectricitySetting,
  RuleContext,
  VotingGroup,
  Enterprise,
  Gateway,
  HazardSource,
  HazardSourceKind,
  Industry,
  Point,
  PointLimits,
  PointType,
  RuleProfile,
} from '#libs/contracts/index.js';
import { ConfigError, loadProfileFiles, readSiteFiles, type LoadedProfileFile, type LoadedSiteFile } from '#libs/config/index.js';
import { creditCodeProblem } from './credit-code.js';
import { gradeOf } from './hazard-grade.js';
import { limitOrderProblems, rangeProblems } from './limit-checks.js';
import { Interner, detached } from './interner.js';
import { effectiveSettings, ProfileIndex } from './profiles.js';
import { RegisteredPoint, type PointSpec } from './registered-point.js';
import { regionOf, regionWithin } from './region.js';

export interface PointFilter {
  readonly enterpriseCode?: string;
  readonly hazardSourceCode?: string;
  /** A province, city or county code: points of enterprises within it. */
  readonly regionCode?: string;
  readonly type?: PointType;
  /** Only points of these enterprises (a caller's jurisdiction). */
  readonly within?: ReadonlySet<string>;
}

export interface EnterpriseFilter {
  readonly regionCode?: string;
  readonly industry?: Enterprise['industry'];
}

export interface Page<T> {
  readonly total: number;
  readonly items: T[];
}

const LIMIT_KEYS = ['ll', 'l', 'h', 'hh'] as const;

/** The in-memory model of every monitored site, indexed for the hot path (one Map lookup per reading). */
export class Registry {
  private readonly pointsByEnterprise = new Map<string, Map<string, Point>>();
  private readonly points: Point[] = [];
  private readonly enterprises = new Map<string, Enterprise>();
  private readonly gateways = new Map<string, Gateway>();
  private readonly hazardSources = new Map<string, HazardSource>();
  private readonly votingGroups: VotingGroup[] = [];
  private readonly composites: CompositeRule[] = [];
  private readonly electricity: ElectricitySetting[] = [];
  private profileIndex!: ProfileIndex;

  private constructor() {}

  /** Builds and cross-checks the registry; throws one ConfigError listing every problem of every file. */
  static build(sites: Iterable<LoadedSiteFile>, profileFiles: readonly LoadedProfileFile[], problems: string[] = []): Registry {
    const registry = new Registry();
    registry.profileIndex = ProfileIndex.build(profileFiles, problems);
    const templates = profileFiles.flatMap(({ file, content }) => content.composites.map((c, i) => ({ ...c, at: `${file}: composites[${i}]` })));
    const enterpriseFiles = new Map<string, string>();
    const shared = new Interner();
    for (const { file, content } of sites) {
      content.enterprises.forEach((e, ei) => {
        const ecode = shared.str(e.code);
        const at = `${file}: enterprises[${ei}]`;
        const codeProblem = creditCodeProblem(ecode);
        if (codeProblem) problems.push(`${at}.code: unified social credit code ${ecode}: ${codeProblem}`);
        const firstIn = enterpriseFiles.get(ecode);
        if (firstIn) problems.push(`${at}.code: duplicate enterprise code ${ecode} (first in ${firstIn})`);
        enterpriseFiles.set(ecode, `${file}: enterprises[${ei}]`);
        registry.enterprises.set(ecode, {
          code: ecode,
          name: detached(e.name),
          industry: shared.str(e.industry) as Industry,
          regionCode: shared.str(e.regionCode),
          region: regionOf(e.regionCode),
          dutyContacts: e.dutyContacts.map((c) => ({ name: detached(c.name), role: c.role === undefined ? null : detached(c.role), phone: detached(c.phone) })),
        });

        const gateways = new Map<string, Gateway>();
        e.gateways.forEach((g, gi) => {
          if (gateways.has(g.code)) problems.push(`${at}.gateways[${gi}].code: duplicate gateway code ${g.code}`);
          const gateway: Gateway = {
            code: shared.str(g.code),
            enterpriseCode: ecode,
            credentialsRef: g.credentialsRef === undefined ? null : detached(g.credentialsRef),
            reportingPeriodS: g.reportingPeriodS,
          };
          gateways.set(g.code, gateway);
          registry.gateways.set(`${ecode}/${g.code}`, gateway);
        });

        const sources = new Set<string>();
        e.hazardSources.forEach((hs, hi) => {
          const hsAt = `${at}.hazardSources[${hi}]`;
          if (sources.has(hs.code)) problems.push(`${hsAt}.code: duplicate hazard source code ${hs.code}`);
          sources.add(hs.code);
          let grade = hs.grade ?? null;
          let r: number | null = null;
          if (hs.grading) {
            const g = gradeOf(hs.grading);
            r = g.r;
            if (g.grade === null) {
              problems.push(`${hsAt}.grading: S = Σq/Q = ${round(g.s)} < 1, so this is not a major hazard source (GB 18218-2018 §4.1); check the quantities`);
            } else if (hs.grade !== undefined && hs.grade !== null && hs.grade !== g.grade) {
              problems.push(`${hsAt}.grade: declared ${hs.grade}, but grading gives R = ${round(g.r)}, which is grade ${g.grade} (GB 18218-2018 §4.2)`);
            }
            grade = g.grade ?? grade;
          }
          registry.hazardSources.set(`${ecode}/${hs.code}`, {
            code: shared.str(hs.code),
            name: detached(hs.name),
            enterpriseCode: ecode,
            kind: shared.str(hs.kind) as HazardSourceKind,
            grade,
            r,
            location: hs.location ?? null,
          });
        });

        const points = registry.pointsByEnterprise.get(ecode) ?? new Map<string, Point>();
        registry.pointsByEnterprise.set(ecode, points);
        e.points.forEach((p, pi) => {
          const path = `enterprises[${ei}].points[${pi}]`;
          const pAt = `${file}: ${path}`;
          if (points.has(p.code)) problems.push(`${pAt}.code: duplicate point code ${p.code} in enterprise ${ecode}`);
          if (!sources.has(p.hazardSource)) {
            problems.push(`${pAt}.hazardSource: hazard source ${p.hazardSource} does not exist in enterprise ${ecode}; expected one of ${list(sources)}`);
          }
          const gateway = gateways.get(p.gateway);
          if (!gateway) problems.push(`${pAt}.gateway: gateway ${p.gateway} is not declared; expected one of ${list(gateways.keys())}`);

          const substance = p.substance ?? null;
          let profile: RuleProfile | null = null;
          if (p.profile !== undefined) {
            profile = registry.profileIndex.named(p.profile) ?? null;
            if (!profile) problems.push(`${pAt}.profile: no profile named ${p.profile}; expected one of ${list(registry.profileIndex.names())}`);
          } else {
            profile = registry.profileIndex.automatic(p.type, substance, p.unit) ?? null;
          }
          if (profile?.unit != null && profile.unit !== p.unit) {
            problems.push(`${pAt}.unit: ${p.unit} differs from the unit ${profile.unit} of profile ${profile.name} (${profile.file}); expected the same unit`);
          }

          const { limits, deadband, onDelayS, offDelayS, priority, rules, own } = effectiveSettings(p, profile);
          const fromProfile = (key: keyof PointLimits): string =>
            own.includes(key) || !profile ? '' : ` (inherited from profile ${profile.name} in ${profile.file})`;
          const inherited = profile && LIMIT_KEYS.some((k) => !own.includes(k) && limits[k] !== null) ? ` (some inherited from profile ${profile.name} in ${profile.file})` : '';
          for (const problem of limitOrderProblems(`${pAt}.limits`, limits)) problems.push(problem + inherited);
          if (p.range) problems.push(...rangeProblems(pAt, limits, p.range, fromProfile));

          const range = p.range ?? null;
          const samplePeriodS = p.samplePeriodS ?? gateway?.reportingPeriodS ?? 60;
          const role = p.role ?? null;
          const specKey = [p.type, substance, p.unit, range, limits.ll, limits.l, limits.h, limits.hh, deadband, onDelayS, offDelayS, samplePeriodS, priority, role, JSON.stringify(rules), profile?.name, own.join(','), file].join('\u0000');
          const spec = shared.obj(specKey, (): PointSpec => ({
            type: shared.str(p.type) as PointType,
            substance: substance === null ? null : shared.str(substance),
            unit: shared.str(p.unit),
            range: range && ([range[0], range[1]] as const),
            limits: { ...limits },
            deadband,
            onDelayS,
            offDelayS,
            samplePeriodS,
            priority,
            role: role === null ? null : shared.str(role),
            rules,
            profile,
            own: [...own],
            file,
          }));
          const code = detached(p.code);
          const name = p.name === undefined ? code : detached(p.name);
          const point = new RegisteredPoint(code, name, ecode, shared.str(p.gateway), shared.str(p.hazardSource), spec, ei, pi);
          points.set(p.code, point);
          registry.points.push(point);
        });

        const hazardSourceOf = (code: string): HazardSource | undefined => registry.hazardSources.get(`${ecode}/${code}`);
        e.votingGroups.forEach((g, gi) => {
          const gAt = `${at}.votingGroups[${gi}]`;
          if (g.hazardSource !== undefined && !sources.has(g.hazardSource)) problems.push(`${gAt}.hazardSource: hazard source ${g.hazardSource} does not exist in enterprise ${ecode}; expected one of ${list(sources)}`);
          const members: Point[] = [];
          g.points.forEach((code, i) => {
            const member = points.get(code);
            if (!member) problems.push(`${gAt}.points[${i}]: point ${code} does not exist in enterprise ${ecode}`);
            else if (member.limits[g.level === 'HH' ? 'hh' : 'h'] === null) problems.push(`${gAt}.points[${i}]: point ${code} has no ${g.level} limit to vote with`);
            else members.push(member);
          });
          if (g.k > g.points.length) problems.push(`${gAt}.k: ${g.k} is more than the ${g.points.length} points of the group; expected k ≤ n`);
          registry.votingGroups.push({ enterpriseCode: ecode, code: g.code, name: g.name, hazardSourceCode: g.hazardSource ?? null, points: members, k: g.k, level: g.level, severity: g.severity });
        });
        e.composites.forEach((c, ci) => {
          const cAt = `${at}.composites[${ci}]`;
          if (!hazardSourceOf(c.hazardSource)) {
            problems.push(`${cAt}.hazardSource: hazard source ${c.hazardSource} does not exist in enterprise ${ecode}; expected one of ${list(sources)}`);
            return;
          }
          const clauses = bindClauses(c.all, points.values(), c.hazardSource);
          clauses.forEach((cl, i) => {
            if (cl.points.length === 0) problems.push(`${cAt}.all[${i}]: selects no point of hazard source ${c.hazardSource}; expected a point code, type or role that exists there`);
          });
          registry.composites.push({ enterpriseCode: ecode, hazardSourceCode: c.hazardSource, name: c.name, message: c.message, severity: c.severity, onDelayS: c.onDelayS, clauses });
        });
        for (const hs of sources) {
          const kind = hazardSourceOf(hs)?.kind;
          for (const t of templates) {
            if (kind === undefined || !t.appliesTo.kinds.includes(kind) || e.composites.some((c) => c.hazardSource === hs && c.name === t.name)) continue;
            const clauses = bindClauses(t.all, points.values(), hs);
            if (clauses.some((cl) => cl.points.length === 0)) continue;
            registry.composites.push({ enterpriseCode: ecode, hazardSourceCode: hs, name: t.name, message: t.message, severity: t.severity, onDelayS: t.onDelayS, clauses });
          }
        }
        if (e.electricity) {
          const el = e.electricity;
          registry.electricity.push({
            enterpriseCode: ecode,
            capacityKw: el.capacityKw ?? null,
            declaredState: el.declaredState,
            stoppedKw: el.stoppedKw,
            baselineTolerance: el.baselineTolerance,
            baselineMinDays: el.baselineMinDays,
            utcOffsetMin: el.utcOffsetMin,
          });
        }
      });
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return registry;
  }

  findPoint(enterpriseCode: string, pointCode: string): Point | undefined {
    return this.pointsByEnterprise.get(enterpriseCode)?.get(pointCode);
  }

  findEnterprise(code: string): Enterprise | undefined {
    return this.enterprises.get(code);
  }

  findGateway(enterpriseCode: string, gatewayCode: string): Gateway | undefined {
    return this.gateways.get(`${enterpriseCode}/${gatewayCode}`);
  }

  findHazardSource(enterpriseCode: string, code: string): HazardSource | undefined {
    return this.hazardSources.get(`${enterpriseCode}/${code}`);
  }

  get pointCount(): number {
    return this.points.length;
  }

  allPoints(): readonly Point[] {
    return this.points;
  }

  /** Points in declaration order, filtered, one page of them. */
  queryPoints(filter: PointFilter, offset: number, limit: number): Page<Point> {
    const { enterpriseCode, hazardSourceCode, regionCode, type, within } = filter;
    let candidates: Iterable<Point> = this.points;
    if (enterpriseCode !== undefined) candidates = this.pointsByEnterprise.get(enterpriseCode)?.values() ?? [];
    const inRegion = regionCode === undefined ? null : new Set(this.queryEnterprises({ regionCode }).map((e) => e.code));
    const items: Point[] = [];
    let total = 0;
    for (const p of candidates) {
      if (hazardSourceCode !== undefined && p.hazardSourceCode !== hazardSourceCode) continue;
      if (type !== undefined && p.type !== type) continue;
      if (inRegion && !inRegion.has(p.enterpriseCode)) continue;
      if (within && !within.has(p.enterpriseCode)) continue;
      if (total >= offset && items.length < limit) items.push(p);
      total++;
    }
    return { total, items };
  }

  queryEnterprises(filter: EnterpriseFilter): Enterprise[] {
    const out: Enterprise[] = [];
    for (const e of this.enterprises.values()) {
      if (filter.regionCode !== undefined && !regionWithin(e.region, filter.regionCode)) continue;
      if (filter.industry !== undefined && e.industry !== filter.industry) continue;
      out.push(e);
    }
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

  private locations: Map<string, Location> | null = null;

  /** Where an enterprise is on a map: the mean of its hazard sources' locations (null when none has one). */
  enterpriseLocation(code: string): Location | null {
    if (this.locations === null) {
      const sums = new Map<string, { lat: number; lon: number; n: number }>();
      for (const h of this.hazardSources.values()) {
        if (h.location === null) continue;
        const s = sums.get(h.enterpriseCode) ?? { lat: 0, lon: 0, n: 0 };
        s.lat += h.location.lat;
        s.lon += h.location.lon;
        s.n++;
        sums.set(h.enterpriseCode, s);
      }
      this.locations = new Map([...sums].map(([e, s]) => [e, { lat: s.lat / s.n, lon: s.lon / s.n }]));
    }
    return this.locations.get(code) ?? null;
  }

  profiles(): RuleProfile[] {
    return this.profileIndex.all();
  }

  /** What the rule core evaluates. */
  ruleContext(): RuleContext {
    return { points: this.points, gateways: this.allGateways(), votingGroups: this.votingGroups, composites: this.composites, electricity: this.electricity };
  }
}

/** A place on the map in WGS 84 degrees. */
export interface Location {
  readonly lat: number;
  readonly lon: number;
}

interface DeclaredClause {
  readonly point?: string;
  readonly type?: PointType;
  readonly role?: string;
  readonly above?: number;
  readonly below?: number;
  readonly outside?: readonly [number, number];
  readonly equals?: number;
  readonly risingPerMin?: number;
  readonly fallingPerMin?: number;
  readonly level?: 'HH' | 'H' | 'L' | 'LL';
}

/** Each clause with the points of the hazard source it selects (by code, type and role, all that are given). */
function bindClauses(all: readonly DeclaredClause[], points: Iterable<Point>, hazardSourceCode: string): CompositeClause[] {
  const candidates = [...points].filter((p) => p.hazardSourceCode === hazardSourceCode);
  return all.map((c) => ({
    points: candidates.filter((p) => (c.point === undefined || p.code === c.point) && (c.type === undefined || p.type === c.type) && (c.role === undefined || p.role === c.role)),
    test: testOf(c),
  }));
}

function testOf(c: DeclaredClause): ClauseTest {
  if (c.above !== undefined) return { kind: 'above', value: c.above };
  if (c.below !== undefined) return { kind: 'below', value: c.below };
  if (c.outside !== undefined) return { kind: 'outside', low: c.outside[0], high: c.outside[1] };
  if (c.equals !== undefined) return { kind: 'equals', value: c.equals };
  if (c.risingPerMin !== undefined) return { kind: 'rising', perMin: c.risingPerMin };
  if (c.fallingPerMin !== undefined) return { kind: 'falling', perMin: c.fallingPerMin };
  return { kind: 'level', level: c.level! };
}

/** Loads `sites/` and `profiles/` under configDir into a registry; throws one ConfigError listing every problem. */
export function loadRegistry(configDir: string): Registry {
  const problems: string[] = [];
  const profiles = loadProfileFiles(configDir, problems);
  return Registry.build(readSiteFiles(configDir, problems), profiles, problems);
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function list(codes: Iterable<string>): string {
  const all = [...codes];
  return all.length === 0 ? '(none declared)' : all.length > 10 ? `${all.slice(0, 10).join(', ')}, …` : all.join(', ');
}
