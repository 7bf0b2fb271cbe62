import type { PointLimits, PointPriority, PointRules, PointType, ProfileSetting, RateSetting, RuleProfile, StuckSetting, TrendSetting } from '#libs/contracts/index.js';
import type { LoadedProfileFile } from '#libs/config/index.js';
import { limitOrderProblems } from './limit-checks.js';

/** Profiles by name, and the automatic choice for a point by type, substance and unit. */
export class ProfileIndex {
  private constructor(
    private readonly byName: ReadonlyMap<string, RuleProfile>,
    private readonly byMatch: ReadonlyMap<string, RuleProfile>,
  ) {}

  static build(files: readonly LoadedProfileFile[], problems: string[]): ProfileIndex {
    const byName = new Map<string, RuleProfile>();
    const byMatch = new Map<string, RuleProfile>();
    for (const { file, content } of files) {
      content.profiles.forEach((p, i) => {
        const path = `profiles[${i}]`;
        const at = `${file}: ${path}`;
        const profile: RuleProfile = {
          name: p.name,
          file,
          path,
          match: p.match ? { type: p.match.type, substance: p.match.substance ?? null } : null,
          unit: p.unit ?? null,
          limits: p.limits,
          ...(p.deadband !== undefined && { deadband: p.deadband }),
          ...(p.onDelayS !== undefined && { onDelayS: p.onDelayS }),
          ...(p.offDelayS !== undefined && { offDelayS: p.offDelayS }),
          ...(p.priority !== undefined && { priority: p.priority }),
          ...(p.rate !== undefined && { rate: rateOf(p.rate) }),
          ...(p.trend !== undefined && { trend: p.trend }),
          ...(p.stuck !== undefined && { stuck: p.stuck }),
          ...(p.noDataPeriods !== undefined && { noDataPeriods: p.noDataPeriods }),
          source: p.source,
        };
        const twin = byName.get(p.name);
        if (twin) problems.push(`${at}.name: duplicate profile name ${p.name} (first in ${twin.file}: ${twin.path})`);
        byName.set(p.name, profile);
        problems.push(...limitOrderProblems(`${at}.limits`, { ll: null, l: null, h: null, hh: null, ...p.limits }));
        if (profile.match) {
          const key = matchKey(profile.match.type, profile.match.substance, profile.unit);
          const other = byMatch.get(key);
          if (other) problems.push(`${at}.match: same type, substance and unit as profile ${other.name} (${other.file}); expected one automatic profile each`);
          byMatch.set(key, profile);
        }
      });
    }
    return new ProfileIndex(byName, byMatch);
  }

  named(name: string): RuleProfile | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): RuleProfile[] {
    return [...this.byName.values()];
  }

  /** The profile a point gets without naming one: most specific match first, a unit-less profile last. */
  automatic(type: PointType, substance: string | null, unit: string): RuleProfile | undefined {
    return (
      (substance !== null ? (this.byMatch.get(matchKey(type, substance, unit)) ?? this.byMatch.get(matchKey(type, substance, null))) : undefined) ??
      this.byMatch.get(matchKey(type, null, unit)) ??
      this.byMatch.get(matchKey(type, null, null))
    );
  }
}

function matchKey(type: PointType, substance: string | null, unit: string | null): string {
  return `${type}\u0000${substance ?? ''}\u0000${unit ?? ''}`;
}

type DeclaredRate = { readonly risePerMin?: number; readonly fallPerMin?: number; readonly windowS: number } | null;

export function rateOf(r: DeclaredRate): RateSetting | null {
  return r === null ? null : { risePerMin: r.risePerMin ?? null, fallPerMin: r.fallPerMin ?? null, windowS: r.windowS };
}

/** Data interruption after 5 sample periods without a reading, unless a profile or the point says otherwise. */
export const DEFAULT_NO_DATA_PERIODS = 5;

/** The settings a point declares itself; anything left out (undefined) comes from its profile. */
export interface DeclaredSettings {
  readonly rate?: DeclaredRate;
  readonly trend?: TrendSetting | null;
  readonly stuck?: StuckSetting | null;
  readonly noDataPeriods?: number;
  readonly limits?: { readonly ll?: number | null; readonly l?: number | null; readonly h?: number | null; readonly hh?: number | null };
  readonly deadband?: number;
  readonly onDelayS?: number;
  readonly offDelayS?: number;
  readonly priority?: PointPriority;
}

export interface EffectiveSettings {
  readonly limits: PointLimits;
  readonly deadband: number;
  readonly onDelayS: number;
  readonly offDelayS: number;
  readonly priority: PointPriority;
  readonly rules: PointRules;
  /** The settings the point declared itself, in a fixed order. */
  readonly own: ProfileSetting[];
}

/** A point's own settings over its profile's over the defaults (no limit, no deadband or delay, medium priority). */
export function effectiveSettings(declared: DeclaredSettings, profile: RuleProfile | null): EffectiveSettings {
  const own: ProfileSetting[] = [];
  const pick = <V>(key: ProfileSetting, mine: V | undefined, inherited: V | undefined, fallback: V): V => {
    if (mine !== undefined) {
      own.push(key);
      return mine;
    }
    return inherited ?? fallback;
  };
  const mine = declared.limits;
  return {
    limits: {
      ll: pick('ll', mine?.ll, profile?.limits.ll, null),
      l: pick('l', mine?.l, profile?.limits.l, null),
      h: pick('h', mine?.h, profile?.limits.h, null),
      hh: pick('hh', mine?.hh, profile?.limits.hh, null),
    },
    deadband: pick('deadband', declared.deadband, profile?.deadband, 0),
    onDelayS: pick('onDelayS', declared.onDelayS, profile?.onDelayS, 0),
    offDelayS: pick('offDelayS', declared.offDelayS, profile?.offDelayS, 0),
    priority: pick('priority', declared.priority, profile?.priority, 'medium'),
    rules: {
      rate: pick('rate', declared.rate === undefined ? undefined : rateOf(declared.rate), profile?.rate, null),
      trend: pick('trend', declared.trend, profile?.trend, null),
      stuck: pick('stuck', declared.stuck, profile?.stuck, null),
      noDataPeriods: pick('noDataPeriods', declared.noDataPeriods, profile?.noDataPeriods, DEFAULT_NO_DATA_PERIODS),
    },
    own,
  };
}
