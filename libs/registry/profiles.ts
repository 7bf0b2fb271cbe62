import type { PointType, RuleProfile } from '#libs/contracts/index.js';
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
