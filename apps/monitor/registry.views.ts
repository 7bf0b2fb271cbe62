import type { Point, ProfileSetting, RuleProfile } from '#libs/contracts/index.js';

/** A point as the REST API shows it. */
export function pointView(p: Point) {
  return {
    code: p.code,
    name: p.name,
    enterpriseCode: p.enterpriseCode,
    gatewayCode: p.gatewayCode,
    hazardSourceCode: p.hazardSourceCode,
    type: p.type,
    substance: p.substance,
    unit: p.unit,
    range: p.range,
    limits: p.limits,
    deadband: p.deadband,
    onDelayS: p.onDelayS,
    offDelayS: p.offDelayS,
    samplePeriodS: p.samplePeriodS,
    priority: p.priority,
    role: p.role,
    rules: p.rules,
    profile: p.origin.profile?.name ?? null,
  };
}

export interface SettingOrigin {
  readonly value: number | string | object | null;
  /** `point`: set on the point itself; `profile`: inherited; `default`: neither set it. */
  readonly from: 'point' | 'profile' | 'default';
  readonly file: string | null;
  readonly path: string | null;
  readonly profile?: string;
  readonly source?: string;
}

const SETTINGS: readonly ProfileSetting[] = ['ll', 'l', 'h', 'hh', 'deadband', 'onDelayS', 'offDelayS', 'priority', 'rate', 'trend', 'stuck', 'noDataPeriods'];

function valueOf(p: Point, key: ProfileSetting): number | string | object | null {
  switch (key) {
    case 'll':
    case 'l':
    case 'h':
    case 'hh':
      return p.limits[key];
    case 'rate':
    case 'trend':
    case 'stuck':
    case 'noDataPeriods':
      return p.rules[key];
    default:
      return p[key];
  }
}

function declared(profile: RuleProfile, key: ProfileSetting): boolean {
  switch (key) {
    case 'll':
    case 'l':
    case 'h':
    case 'hh':
      return profile.limits[key] !== undefined;
    default:
      return profile[key] !== undefined;
  }
}

function subPath(key: ProfileSetting): string {
  return key === 'll' || key === 'l' || key === 'h' || key === 'hh' ? `limits.${key}` : key;
}

/** Every effective setting of a point with the file and path it came from. */
export function effectiveLimitsView(p: Point) {
  const { origin } = p;
  const settings: Record<string, SettingOrigin> = {};
  for (const key of SETTINGS) {
    const value = valueOf(p, key);
    if (origin.own.includes(key)) {
      settings[key] = { value, from: 'point', file: origin.file, path: `${origin.path}.${subPath(key)}` };
    } else if (origin.profile && declared(origin.profile, key)) {
      const pr = origin.profile;
      settings[key] = { value, from: 'profile', file: pr.file, path: `${pr.path}.${subPath(key)}`, profile: pr.name, source: pr.source };
    } else {
      settings[key] = { value, from: 'default', file: null, path: null };
    }
  }
  return {
    enterpriseCode: p.enterpriseCode,
    code: p.code,
    unit: p.unit,
    declaredIn: { file: origin.file, path: origin.path },
    profile: origin.profile ? { name: origin.profile.name, file: origin.profile.file, path: origin.profile.path, source: origin.profile.source } : null,
    settings,
  };
}
