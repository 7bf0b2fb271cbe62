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

/**
 * The registry in force, swapped whole on reload. A new registry is built and validated before the swap, so an
 * invalid config leaves the old one in force; readers always see one consistent registry.
 */
export class LiveRegistry implements PointLookup {
  private readonly swaps = new Subject<RegistrySwap>();
  private readonly outcomes = new Subject<ReloadOutcome>();
  private last: ReloadOutcome | null = null;

  constructor(
    private current: Registry,
    private readonly load: () => Registry,
  ) {}

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

  reload(now: Date = new Date()): ReloadOutcome {
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
    this.current = next;
    this.swaps.next({ previous, next });
    return this.settle({ ok: true, at, points: next.pointCount, added, removed, changed });
  }

  private settle(outcome: ReloadOutcome): ReloadOutcome {
    this.last = outcome;
    this.outcomes.next(outcome);
    return outcome;
  }
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
