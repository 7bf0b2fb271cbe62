import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadSiteFiles } from '#libs/config/index.js';
import { Registry } from './registry.js';

const dirs: string[] = [];
function configWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cfg-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'sites'));
  writeFileSync(join(dir, 'sites', 'site.yaml'), yaml);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function problemsOf(dir: string): string[] {
  try {
    Registry.fromSiteFiles(loadSiteFiles(dir));
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

const site = (points: string, extra = ''): string => `
enterprises:
  - code: 91320594MA1WKTRP3E
    name: Demo
    regionCode: "320594"
    gateways: [{ code: GW01 }]
    hazardSources:
      - code: TF-1
        name: tanks
        kind: tank_farm
        points:
${points}
${extra}`;

describe('Registry from config/', () => {
  it('loads the shipped demo sites', () => {
    const registry = Registry.fromSiteFiles(loadSiteFiles(resolve('config')));
    expect(registry.allEnterprises()).toHaveLength(2);
    const p = registry.findPoint('91320594MA1WKTRP3E', 'T101-TE');
    expect(p).toMatchObject({ hazardSourceCode: 'TF-1', gatewayCode: 'GW01', limits: { ll: -10, l: 0, h: 40, hh: 50 } });
    expect(registry.findPoint('91320594MA1WKTRP3E', 'nope')).toBeUndefined();
  });

  it('reports every problem at once with file, path and expectation', () => {
    const problems = problemsOf(
      configWith(
        site(`          - { code: A, gateway: GW01, type: temperature, unit: C, limits: { l: 50, h: 40 } }
          - { code: A, gateway: GW09, type: temperature, unit: C, range: [0, 100], limits: { hh: 150 } }`),
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/site\.yaml: enterprises\[0\]\.hazardSources\[0\]\.points\[0\]\.limits: h \(40\) must be above l \(50\)/),
      expect.stringMatching(/points\[1\]\.code: duplicate point code A/),
      expect.stringMatching(/points\[1\]\.gateway: gateway GW09 is not declared; expected one of GW01/),
      expect.stringMatching(/points\[1\]\.limits\.hh: 150 lies outside the measuring range \[0, 100\]/),
    ]);
  });

  it('rejects schema errors naming the key: unknown point type, bad credit code', () => {
    const problems = problemsOf(configWith(site('          - { code: A, gateway: GW01, type: humidity, unit: "%" }').replace('91320594MA1WKTRP3E', 'ACME')));
    expect(problems.some((p) => /site\.yaml: enterprises\[0\]\.code: .*18-character unified social credit code/.test(p))).toBe(true);
    expect(problems.some((p) => /enterprises\[0\]\.hazardSources\[0\]\.points\[0\]\.type: /.test(p))).toBe(true);
  });

  it('rejects YAML syntax errors and a missing sites folder', () => {
    expect(problemsOf(configWith('enterprises: [')).join()).toMatch(/site\.yaml: YAML syntax error/);
    expect(() => loadSiteFiles('/nonexistent-sentinel')).toThrow(/cannot read the sites directory/);
  });
});
