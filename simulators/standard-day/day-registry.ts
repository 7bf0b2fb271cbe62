import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { siteOf, syntheticCreditCode } from '../national-registry.js';

/** One enterprise of the day: its code, and the demo enterprise it is a copy of (the scenarios name that one). */
export interface DayEnterprise {
  readonly code: string;
  readonly name: string;
  readonly industry: string;
  readonly template: string;
  /** Declared stopped (停产): its power points draw only standby power. */
  readonly stopped: boolean;
}

interface RawEnterprise {
  code: string;
  name: string;
  regionCode: string;
  industry: string;
  gateways: { code: string; credentialsRef?: string; reportingPeriodS?: number }[];
  hazardSources: { code: string; location?: { lat: number; lon: number } }[];
  electricity?: { declaredState?: string };
  [key: string]: unknown;
}

/**
 * Writes the day's registry to `dir`: `enterprises` copies of the demo sites (`<configDir>/sites/demo.yaml`), two
 * chemical plants to every dust plant, each with its own credit code, county and position, so that every scenario
 * written for a demo site can be staged at any of its copies. Every eighth enterprise from the fourth is a copy of
 * the first site of `extraSitesFile` instead (the standard day's own sites: a tank farm declared stopped). The
 * profiles, escalation and risk settings are copied from `configDir`.
 */
export function writeDayRegistry(dir: string, configDir: string, enterprises: number, extraSitesFile?: string): DayEnterprise[] {
  const load = (file: string): RawEnterprise[] => (yaml.load(readFileSync(file, 'utf8')) as { enterprises: RawEnterprise[] }).enterprises;
  const demo = load(join(configDir, 'sites', 'demo.yaml'));
  const extra = extraSitesFile === undefined ? [] : load(extraSitesFile);
  const chemical = demo.filter((e) => e.industry !== 'dust');
  const dust = demo.filter((e) => e.industry === 'dust');
  const out: RawEnterprise[] = [];
  const day: DayEnterprise[] = [];
  for (let n = 0; n < enterprises; n++) {
    const pool = n % 8 === 3 && extra.length > 0 ? extra : n % 3 === 2 && dust.length > 0 ? dust : chemical;
    const template = pool[Math.floor(n / 3) % pool.length]!;
    const site = siteOf(n);
    const code = syntheticCreditCode(n + 1, site.regionCode);
    const copy = structuredClone(template);
    const stopped = template.electricity?.declaredState === 'stopped';
    copy.code = code;
    copy.name = stopped ? `停产企业 ${n + 1} (declared stopped)` : template.industry === 'dust' ? `粉尘涉爆企业 ${n + 1} (dust site)` : `化工企业 ${n + 1} (chemical plant)`;
    copy.regionCode = site.regionCode;
    for (const g of copy.gateways) delete g.credentialsRef;
    copy.hazardSources.forEach((h, i) => {
      const at = siteOf(n, i);
      h.location = { lat: at.lat, lon: at.lon };
    });
    out.push(copy);
    day.push({ code, name: copy.name, industry: copy.industry, template: template.code, stopped });
  }
  mkdirSync(join(dir, 'sites'), { recursive: true });
  writeFileSync(join(dir, 'sites', 'standard-day.yaml'), yaml.dump({ enterprises: out }, { lineWidth: 200 }));
  cpSync(join(configDir, 'profiles'), join(dir, 'profiles'), { recursive: true });
  for (const f of ['escalation.yaml', 'risk.yaml']) if (existsSync(join(configDir, f))) copyFileSync(join(configDir, f), join(dir, f));
  return day;
}
