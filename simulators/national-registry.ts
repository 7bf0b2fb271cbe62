import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { creditCodeCheckChar } from '#libs/registry/index.js';

export interface NationalRegistryOptions {
  readonly points: number;
  readonly pointsPerEnterprise?: number;
  /** Hazard sources per enterprise (default 4); points are spread over them in turn. */
  readonly sourcesPerEnterprise?: number;
  readonly enterprisesPerFile?: number;
  /** `yaml` (default) as people write it, or `json` as a database export would be. */
  readonly format?: 'yaml' | 'json';
}

// Region codes of real county-level divisions in the big chemical provinces (Jiangsu, Shandong, Zhejiang, Hebei, Guangdong).
const COUNTIES = ['320594', '320282', '320581', '320684', '370811', '370303', '370503', '370687', '330205', '330483', '130984', '130682', '440883', '440111'];
/** Roughly where each of those counties lies (lat, lon), so that the map has somewhere to draw its enterprises. */
const CENTRES: Readonly<Record<string, readonly [number, number]>> = {
  '320594': [31.32, 120.72], '320282': [31.34, 119.82], '320581': [31.65, 120.75], '320684': [31.87, 121.18],
  '370811': [35.41, 116.59], '370303': [36.81, 118.02], '370503': [37.89, 118.53], '370687': [36.78, 121.16],
  '330205': [29.9, 121.84], '330483': [30.63, 120.56], '130984': [38.45, 116.1], '130682': [38.52, 114.99],
  '440883': [21.44, 110.78], '440111': [23.16, 113.27],
};
/** A deterministic offset in [-1, 1) for the n-th enterprise (a fixed multiplicative hash, no randomness). */
const jitter = (n: number, salt: number): number => (((Math.imul(n + 1, 2654435761) ^ Math.imul(salt, 40503)) >>> 0) / 2 ** 31) - 1;
/** Where the n-th generated enterprise lies: its county and a position near the county's centre, deterministic. */
export function siteOf(n: number, hazardSource = 0): { readonly regionCode: string; readonly lat: number; readonly lon: number } {
  const regionCode = COUNTIES[n % COUNTIES.length]!;
  const [lat, lon] = CENTRES[regionCode]!;
  return { regionCode, lat: Number((lat + 0.12 * jitter(n, 1) + 0.002 * hazardSource).toFixed(4)), lon: Number((lon + 0.15 * jitter(n, 2) + 0.002 * hazardSource).toFixed(4)) };
}
const ORG_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A valid unified social credit code (GB 32100-2015) for the n-th generated enterprise. */
export function syntheticCreditCode(n: number, region: string): string {
  let org = '';
  for (let v = n, i = 0; i < 9; i++, v = Math.floor(v / 31)) org = ORG_ALPHABET[v % 31]! + org;
  const first17 = `91${region}${org}`;
  return first17 + creditCodeCheckChar(first17)!;
}

// One enterprise's worth of points by kind: most gas detectors take their limits from the standard profiles.
const MIX: readonly { readonly kind: string; readonly share: number; readonly line: (code: string, hs: string, gw: string) => string }[] = [
  { kind: 'GAS', share: 24, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: combustible_gas, unit: "%LEL", range: [0, 100] }` },
  { kind: 'H2S', share: 8, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: toxic_gas, substance: H2S, unit: ppm, range: [0, 100] }` },
  { kind: 'O2', share: 4, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: oxygen, unit: "%VOL", range: [0, 30] }` },
  { kind: 'TE', share: 16, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: temperature, unit: "°C", range: [-40, 150], limits: { ll: -10, l: 0, h: 40, hh: 50 }, deadband: 1 }` },
  { kind: 'PT', share: 16, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: pressure, unit: MPa, range: [0, 2.5], limits: { l: 0.05, h: 1.2, hh: 1.5 }, deadband: 0.05 }` },
  { kind: 'LT', share: 16, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: level, unit: "%", range: [0, 100], limits: { ll: 10, l: 20, h: 85, hh: 90 }, deadband: 1 }` },
  { kind: 'FT', share: 4, line: (c, hs, gw) => `{ code: ${c}, hazardSource: ${hs}, gateway: ${gw}, type: flow, unit: m³/h, range: [0, 500], limits: { h: 400 }, deadband: 5 }` },
];
const MIX_TOTAL = MIX.reduce((n, m) => n + m.share, 0);

/**
 * Writes a registry of `points` points, the scale of the national platform (~440,000), as `sites/*.yaml` under
 * `dir`: enterprises with two gateways, four hazard sources each, and points in the mix above. Returns the counts.
 */
export function writeNationalRegistry(dir: string, opts: NationalRegistryOptions): { enterprises: number; files: number; points: number } {
  const perEnterprise = opts.pointsPerEnterprise ?? MIX_TOTAL;
  const perFile = opts.enterprisesPerFile ?? 100;
  const sources = opts.sourcesPerEnterprise ?? 4;
  const enterprises = Math.ceil(opts.points / perEnterprise);
  mkdirSync(join(dir, 'sites'), { recursive: true });
  let written = 0;
  let files = 0;
  for (let first = 0; first < enterprises; first += perFile) {
    const lines: string[] = ['enterprises:'];
    for (let n = first; n < Math.min(first + perFile, enterprises); n++) {
      const region = siteOf(n).regionCode;
      const at = (h: number): string => {
        const { lat, lon } = siteOf(n, h);
        return `{ lat: ${lat.toFixed(4)}, lon: ${lon.toFixed(4)} }`;
      };
      lines.push(
        `  - code: "${syntheticCreditCode(n + 1, region)}"`,
        `    name: Enterprise ${n + 1}`,
        `    industry: hazardous_chemicals`,
        `    regionCode: "${region}"`,
        `    gateways: [{ code: GW01, reportingPeriodS: 30 }, { code: GW02, reportingPeriodS: 30 }]`,
        `    hazardSources:`,
        ...Array.from({ length: sources }, (_, i) => i + 1).map((h) => `      - { code: HS${h}, name: Tank farm ${h}, kind: tank_farm, grade: ${((n + h) % 4) + 1}, location: ${at(h)} }`),
        `    points:`,
      );
      const count = Math.min(perEnterprise, opts.points - written);
      for (let i = 0; i < count; i++) {
        let slot = i % MIX_TOTAL;
        const kind = MIX.find((m) => (slot -= m.share) < 0)!;
        lines.push(`      - ${kind.line(`P${String(i + 1).padStart(3, '0')}-${kind.kind}`, `HS${(i % sources) + 1}`, i % 2 === 0 ? 'GW01' : 'GW02')}`);
      }
      written += count;
    }
    const name = join(dir, 'sites', `national-${String(files).padStart(3, '0')}`);
    const text = `${lines.join('\n')}\n`;
    if (opts.format === 'json') writeFileSync(`${name}.json`, JSON.stringify(yaml.load(text)));
    else writeFileSync(`${name}.yaml`, text);
    files++;
  }
  return { enterprises, files, points: written };
}
