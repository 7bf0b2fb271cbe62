import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '#libs/config/index.js';
import { loadRegistry, type Registry } from './registry.js';

const dirs: string[] = [];
function configWith(files: { sites?: Record<string, string>; profiles?: Record<string, string> }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cfg-'));
  dirs.push(dir);
  for (const [folder, content] of Object.entries(files)) {
    mkdirSync(join(dir, folder));
    for (const [name, text] of Object.entries(content)) writeFileSync(join(dir, folder, name), text);
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function problemsOf(dir: string): string[] {
  try {
    loadRegistry(dir);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

const GAS_PROFILE = `
profiles:
  - name: combustible-gas
    match: { type: combustible_gas }
    unit: "%LEL"
    limits: { h: 25, hh: 50 }
    deadband: 2
    source: GB/T 50493-2019
  - name: hopper
    unit: "°C"
    limits: { h: 60, hh: 70 }
    source: choice
`;

const site = (points: string, { code = '91320594MA1WKTRP3E', hazardSources = '' } = {}): string => `
enterprises:
  - code: ${code}
    name: Demo
    industry: hazardous_chemicals
    regionCode: "320594"
    gateways: [{ code: GW01 }]
    hazardSources:
      - { code: TF-1, name: tanks, kind: tank_farm }
${hazardSources}
    points: ${points === '' ? '[]' : `\n${points}`}
`;

describe('Registry from config/', () => {
  it('loads the shipped demo sites and standard profiles', () => {
    const registry = loadRegistry(resolve('config'));
    expect(registry.allEnterprises()).toHaveLength(2);
    const p = registry.findPoint('91320594MA1WKTRP3E', 'T101-TE');
    expect(p).toMatchObject({ hazardSourceCode: 'TF-1', gatewayCode: 'GW01', limits: { ll: -10, l: 0, h: 40, hh: 50 }, samplePeriodS: 10 });
    expect(registry.findPoint('91320594MA1WKTRP3E', 'RX1-H2S')).toMatchObject({ limits: { h: 7, hh: 14 }, origin: { profile: { name: 'h2s-ppm' } } });
    expect(registry.findHazardSource('91320594MA1WKTRP3E', 'TF-1')).toMatchObject({ grade: 3, r: 12.8 });
    expect(registry.findEnterprise('91370800MA3CD7LN28')?.region).toEqual({ code: '370811', province: '370000', city: '370800', county: '370811' });
    expect(registry.findPoint('91320594MA1WKTRP3E', 'nope')).toBeUndefined();
  });

  it('fills what a point leaves out from its profile and records where each setting came from', () => {
    const registry: Registry = loadRegistry(
      configWith({
        sites: {
          'a.yaml': site(`      - { code: G1, hazardSource: TF-1, gateway: GW01, type: combustible_gas, unit: "%LEL", limits: { hh: 40 } }
      - { code: G2, hazardSource: TF-1, gateway: GW01, type: combustible_gas, unit: "%LEL", limits: { h: null } }
      - { code: HT, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C", profile: hopper }
      - { code: TE, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C" }`),
        },
        profiles: { 'p.yaml': GAS_PROFILE },
      }),
    );
    const g1 = registry.findPoint('91320594MA1WKTRP3E', 'G1')!;
    expect(g1.limits).toEqual({ ll: null, l: null, h: 25, hh: 40 });
    expect(g1.deadband).toBe(2);
    expect(g1.origin).toMatchObject({ path: 'enterprises[0].points[0]', profile: { name: 'combustible-gas' }, own: ['hh'] });
    expect(g1.origin.file).toMatch(/a\.yaml$/);
    expect(registry.findPoint('91320594MA1WKTRP3E', 'G2')!.limits).toEqual({ ll: null, l: null, h: null, hh: 50 });
    expect(registry.findPoint('91320594MA1WKTRP3E', 'HT')!.limits).toMatchObject({ h: 60, hh: 70 });
    const te = registry.findPoint('91320594MA1WKTRP3E', 'TE')!;
    expect(te.origin.profile).toBeNull();
    expect(te.limits).toEqual({ ll: null, l: null, h: null, hh: null });
  });

  it('reports every problem of every file at once, each with file, path and expectation', () => {
    const problems = problemsOf(
      configWith({
        sites: {
          'a.yaml': site(
            `      - { code: A, hazardSource: TF-1, gateway: GW01, type: temperature, unit: C, limits: { l: 50, h: 40 } }
      - { code: A, hazardSource: TF-9, gateway: GW09, type: temperature, unit: C, range: [0, 100], limits: { hh: 150 } }
      - { code: G, hazardSource: TF-1, gateway: GW01, type: combustible_gas, unit: "%LEL", range: [0, 20] }
      - { code: P, hazardSource: TF-1, gateway: GW01, type: combustible_gas, unit: ppm, profile: combustible-gas }
      - { code: N, hazardSource: TF-1, gateway: GW01, type: temperature, unit: C, profile: nope }`,
            { code: '91320594MA1WKTRP3B' },
          ),
          'b.yaml': site('      - { code: X, hazardSource: TF-1, gateway: GW01, type: humidity, unit: "%" }'),
        },
        profiles: { 'p.yaml': GAS_PROFILE },
      }),
    );
    const expected = [
      /b\.yaml: enterprises\[0\]\.points\[0\]\.type: .*expected one of .*"temperature"/,
      /a\.yaml: enterprises\[0\]\.code: unified social credit code 91320594MA1WKTRP3B: check character is B, expected E/,
      /a\.yaml: enterprises\[0\]\.points\[0\]\.limits: h \(40\) must be above l \(50\); expected ll < l < h < hh/,
      /a\.yaml: enterprises\[0\]\.points\[1\]\.code: duplicate point code A/,
      /points\[1\]\.hazardSource: hazard source TF-9 does not exist in enterprise 91320594MA1WKTRP3B; expected one of TF-1/,
      /points\[1\]\.gateway: gateway GW09 is not declared; expected one of GW01/,
      /points\[1\]\.limits\.hh: 150 lies outside the measuring range \[0, 100\]$/,
      /points\[2\]\.limits\.h: 25 lies outside the measuring range \[0, 20\] \(inherited from profile combustible-gas in .*p\.yaml\)/,
      /points\[2\]\.limits\.hh: 50 lies outside the measuring range \[0, 20\] \(inherited/,
      /points\[3\]\.unit: ppm differs from the unit %LEL of profile combustible-gas/,
      /points\[4\]\.profile: no profile named nope; expected one of combustible-gas, hopper/,
    ];
    for (const pattern of expected) expect(problems.some((p) => pattern.test(p)), String(pattern)).toBe(true);
    expect(problems).toHaveLength(expected.length);
  });

  it('checks hazard-source grading against GB 18218 and duplicate codes across files', () => {
    const withSources = (grade: string, q: number): string =>
      site('', {
        hazardSources: `      - { code: TF-2, name: methanol, kind: tank_farm, ${grade} grading: { alpha: 2, substances: [{ name: methanol, q: ${q}, Q: 500, beta: 1 }] } }`,
      });
    expect(problemsOf(configWith({ sites: { 'a.yaml': withSources('grade: 2,', 3200) } }))).toEqual([
      expect.stringMatching(/hazardSources\[1\]\.grade: declared 2, but grading gives R = 12\.8, which is grade 3/),
    ]);
    expect(problemsOf(configWith({ sites: { 'a.yaml': withSources('', 300) } }))).toEqual([
      expect.stringMatching(/hazardSources\[1\]\.grading: S = Σq\/Q = 0\.6 < 1, so this is not a major hazard source/),
    ]);
    expect(problemsOf(configWith({ sites: { 'a.yaml': site(''), 'b.yaml': site('') } }))).toEqual([
      expect.stringMatching(/b\.yaml: enterprises\[0\]\.code: duplicate enterprise code 91320594MA1WKTRP3E \(first in .*a\.yaml: enterprises\[0\]\)/),
    ]);
  });

  it('rejects profiles that clash or disorder their limits', () => {
    const problems = problemsOf(
      configWith({
        sites: { 'a.yaml': site('') },
        profiles: {
          'p.yaml': `${GAS_PROFILE}
  - { name: combustible-gas, match: { type: combustible_gas }, unit: "%LEL", limits: { h: 60, hh: 50 }, source: x }`,
        },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/p\.yaml: profiles\[2\]\.name: duplicate profile name combustible-gas/),
      expect.stringMatching(/p\.yaml: profiles\[2\]\.limits: hh \(50\) must be above h \(60\)/),
      expect.stringMatching(/p\.yaml: profiles\[2\]\.match: same type, substance and unit as profile combustible-gas/),
    ]);
  });

  it('rejects YAML syntax errors and a missing sites folder', () => {
    expect(problemsOf(configWith({ sites: { 'a.yaml': 'enterprises: [' } })).join()).toMatch(/a\.yaml: YAML syntax error/);
    expect(problemsOf('/nonexistent-sentinel').join()).toMatch(/cannot read the sites folder/);
  });
});

describe('Registry queries', () => {
  const registry = loadRegistry(resolve('config'));

  it('filters points by region (province, city or county), enterprise, hazard source and type, one page at a time', () => {
    expect(registry.queryPoints({ regionCode: '370000' }, 0, 100).total).toBe(5);
    expect(registry.queryPoints({ regionCode: '320594' }, 0, 100).total).toBe(11);
    expect(registry.queryPoints({ regionCode: '110000' }, 0, 100).total).toBe(0);
    expect(registry.queryPoints({ type: 'temperature' }, 0, 100).items.map((p) => p.code)).toEqual(['T101-TE', 'T102-TE', 'R201-TE', 'DC1-TE']);
    const page = registry.queryPoints({ enterpriseCode: '91320594MA1WKTRP3E', hazardSourceCode: 'TF-1' }, 2, 3);
    expect(page).toMatchObject({ total: 8 });
    expect(page.items.map((p) => p.code)).toEqual(['T101-LT', 'T102-TE', 'T102-LT']);
  });
});

describe('rules beyond limits in the registry', () => {
  it('compiles the demo voting group, composites (site rule and profile template) and electricity for the rule core', () => {
    const ctx = loadRegistry(resolve('config')).ruleContext();
    expect(ctx.votingGroups.map((g) => [g.code, g.k, g.points.map((p) => p.code)])).toEqual([['TF1-GAS', 2, ['TF1-GAS1', 'TF1-GAS2', 'TF1-GAS3']]]);
    const composites = ctx.composites.map((c) => `${c.hazardSourceCode}:${c.name}:${c.clauses.map((cl) => cl.points.map((p) => p.code).join('|')).join('+')}`);
    // The wet-collector template needs a water level point, which DC-1 has not: not applied.
    expect(composites.sort()).toEqual(['DC-1:dp-and-hopper-heat:DC1-DP+DC1-TE', 'DC-1:spark-while-running:DC1-SPARK+DC1-FAN']);
    expect(ctx.electricity).toEqual([expect.objectContaining({ enterpriseCode: '91370800MA3CD7LN28', capacityKw: 400, declaredState: 'running', utcOffsetMin: 480 })]);
    const reactor = ctx.points.find((p) => p.code === 'R201-TE')!;
    expect(reactor.rules).toEqual({ rate: { risePerMin: 5, fallPerMin: null, windowS: 60 }, trend: { horizonS: 600, windowS: 120 }, stuck: null, noDataPeriods: 5 });
  });

  it('takes rule settings from profiles unless the point sets them, null turning them off', () => {
    const profile = `
profiles:
  - name: tank-temp
    match: { type: temperature }
    stuck: { periods: 30, band: 0.05 }
    noDataPeriods: 3
    source: choice
`;
    const dir = configWith({
      profiles: { 'p.yaml': profile },
      sites: {
        's.yaml': site(`
      - { code: A, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C" }
      - { code: B, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C", stuck: null, noDataPeriods: 0 }`),
      },
    });
    const [a, b] = loadRegistry(dir).allPoints();
    expect(a!.rules).toMatchObject({ stuck: { periods: 30, band: 0.05 }, noDataPeriods: 3 });
    expect(a!.origin.own).not.toContain('stuck');
    expect(b!.rules).toMatchObject({ stuck: null, noDataPeriods: 0 });
    expect(b!.origin.own).toEqual(expect.arrayContaining(['stuck', 'noDataPeriods']));
  });

  it('names every problem of voting groups and composites with file and path', () => {
    const withComposites = (composites: string): string =>
      configWith({
        profiles: { 'p.yaml': GAS_PROFILE },
        sites: {
          's.yaml': `${site(`
      - { code: G1, hazardSource: TF-1, gateway: GW01, type: combustible_gas, unit: "%LEL" }
      - { code: T1, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C" }`)}
    votingGroups:
      - { code: A1, name: area, points: [G1, G9, T1], k: 4 }
    composites:
      - { name: x, hazardSource: TF-1, message: m, all: [{ role: fan, equals: 1 }] }
      - { name: y, hazardSource: NOPE, message: m, all: [{ point: G1, above: 1 }] }
${composites}`,
        },
      });
    // A schema problem (two tests in one clause) is reported first, alone: cross-references wait for a valid file.
    expect(problemsOf(withComposites('      - { name: z, hazardSource: TF-1, message: m, all: [{ point: G1, above: 1, below: 2 }] }\n'))).toEqual([
      expect.stringMatching(/s\.yaml: enterprises\[0\]\.composites\[2\]\.all\[0\]: exactly one test: above, below, outside, equals, risingPerMin, fallingPerMin or level/),
    ]);
    const fixed = withComposites('');
    expect(problemsOf(fixed)).toEqual([
      expect.stringMatching(/enterprises\[0\]\.votingGroups\[0\]\.points\[1\]: point G9 does not exist in enterprise 91320594MA1WKTRP3E$/),
      expect.stringMatching(/enterprises\[0\]\.votingGroups\[0\]\.points\[2\]: point T1 has no H limit to vote with$/),
      expect.stringMatching(/enterprises\[0\]\.votingGroups\[0\]\.k: 4 is more than the 3 points of the group; expected k ≤ n$/),
      expect.stringMatching(/enterprises\[0\]\.composites\[0\]\.all\[0\]: selects no point of hazard source TF-1; expected a point code, type or role that exists there$/),
      expect.stringMatching(/enterprises\[0\]\.composites\[1\]\.hazardSource: hazard source NOPE does not exist in enterprise 91320594MA1WKTRP3E; expected one of TF-1$/),
    ]);
  });
});

