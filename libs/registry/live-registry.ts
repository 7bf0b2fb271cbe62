import { Subject, type Observable } from 'rxjs';
import type { Point, PointLookup } from '#libs/contracts/index.js';
import { ConfigError } from '#libs/config/index.js';
import type { Registry } from './registry.js';

export interface RegistrySwap {
  readonly previous: Registry;
  readonly next: Registry;
}

export type ReloadOutcome =
  | { readonly ok: true; readonly at: string; readonly points: number; readonly added: number; readonly removed: number; readonly changed: number }
  | { readonly ok: false; readonly at: string; readonly problems: readonly string[] };

export interface ReloadOptions {
  /** Accept the new registry even when it removes more than the allowed share of points. */
  readonly force?: boolean;
  readonly now?: Date;
}

export interface LiveRegistryOptions {
  /** Largest share (%) of the registered points a reload may remove unless forced (default 10). */
  readonly maxRemovedPct?: number;
}

export const DEFAULT_MAX_REMOVED_PCT = 10;

/**
 * The registry in force, swapped whole on reload. A new registry is built and validated before the swap, so an
 * invalid config leaves the old one in force; readers always see one consistent registry. A valid registry that
 * drops more than `maxRemovedPct` of the points (a truncated or half-copied file, a site file deleted by mistake) is
 * refused too unless forced: the pipeline retires the alarms of removed points.
 */
export class LiveRegistry implements PointLookup {
  private readonly swaps = new Subject<RegistrySwap>();
  private readonly outcomes = new Subject<ReloadOutcome>();
  private last: ReloadOutcome | null = null;
  private readonly maxRemovedPct: number;

  constructor(
    private current: Registry,
    private readonly load: () => Registry,
    options: LiveRegistryOptions = {},
  ) {
    this.maxRemovedPct = options.maxRemovedPct ?? DEFAULT_MAX_REMOVED_PCT;
  }

  get registry(): Registry {
    return this.current;
  }

  get lastReload(): ReloadOutcome | null {
    return this.last;
  }

  /** Emits after each successful swap, synchronously, before reload() returns. */
  get swaps$(): Observable<RegistrySwap> {
    return this.swaps.asObservable();
  }

  /** Every reload outcome, accepted or refused. */
  get outcomes$(): Observable<ReloadOutcome> {
    return this.outcomes.asObservable();
  }

  findPoint(enterpriseCode: string, pointCode: string): Point | undefined {
    return this.current.findPoint(enterpriseCode, pointCode);
  }

  /** Loads and swaps in the registry; a Date argument is the time of the outcome (tests). */
  reload(options: ReloadOptions | Date = {}): ReloadOutcome {
    const { now = new Date(), force = false } = options instanceof Date ? { now: options } : options;
    const at = now.toISOString();
    let next: Registry;
    try {
      next = this.load();
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [`cannot load the registry: ${String(err)}`];
      return this.settle({ ok: false, at, problems });
    }
    const previous = this.current;
    let added = 0;
    let changed = 0;
    for (const p of next.allPoints()) {
      const old = previous.findPoint(p.enterpriseCode, p.code);
      if (!old) added++;
      else if (!samePointSettings(old, p)) changed++;
    }
    const removed = previous.pointCount - (next.pointCount - added);
    if (!force && removed * 100 > this.maxRemovedPct * previous.pointCount) {
      return this.settle({ ok: false, at, problems: [this.removalProblem(previous, next, removed)] });
    }
    this.current = next;
    this.swaps.next({ previous, next });
    return this.settle({ ok: true, at, points: next.pointCount, added, removed, changed });
  }

  private removalProblem(previous: Registry, next: Registry, removed: number): string {
    const share = Math.round((removed / previous.pointCount) * 1000) / 10;
    const sample = removedCodes(previous, next, 5);
    return (
      `the new registry would remove ${removed} of the ${previous.pointCount} registered points (${share} %, e.g. ${sample.join(', ')}${removed > sample.length ? ', …' : ''}), ` +
      `more than the ${this.maxRemovedPct} % a reload may remove (RELOAD_MAX_REMOVED_PCT); a half-written or truncated site file looks like this. ` +
      'If the removal is intended, force it: POST /api/registry/reload?force=1 (admin)'
    );
  }

  private settle(outcome: ReloadOutcome): ReloadOutcome {
    this.last = outcome;
    this.outcomes.next(outcome);
    return outcome;
  }
}

/** Up to `max` points of `previous` that `next` lacks, as enterprise/point. */
function removedCodes(previous: Registry, next: Registry, max: number): string[] {
  const codes: string[] = [];
  for (const p of previous.allPoints()) {
    if (codes.length === max) break;
    if (!next.findPoint(p.enterpriseCode, p.code)) codes.push(`${p.enterpriseCode}/${p.code}`);
  }
  return codes;
}

/** Whether two versions of a point would be evaluated alike (its declaration place may differ). */
export function samePointSettings(a: Point, b: Point): boolean {
  return (
    a.gatewayCode === b.gatewayCode &&
    a.hazardSourceCode === b.hazardSourceCode &&
    a.type === b.type &&
    a.unit === b.unit &&
    a.deadband === b.deadband &&
    a.onDelayS === b.onDelayS &&
    a.offDelayS === b.offDelayS &&
    a.limits.ll === b.limits.ll &&
    a.limits.l === b.limits.l &&
    a.limits.h === b.limits.h &&
    a.limits.hh === b.limits.hh &&
    a.range?.[0] === b.range?.[0] &&
    a.range?.[1] === b.range?.[1]
  );
}
