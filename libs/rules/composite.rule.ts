import type { ClauseTest, CompositeRule, Point } from '#libs/contracts/index.js';
import { rankOf } from './limit.rule.js';
import { UNUSABLE, type PointState } from './point-state.js';

/** Window for the slope of points that `rising` / `falling` clauses test, when their own rules keep none. */
export const CLAUSE_SLOPE_WINDOW_S = 120;

export function compositeSlopeWindowS(rules: readonly CompositeRule[]): Map<Point, number> {
  const out = new Map<Point, number>();
  for (const r of rules) {
    for (const c of r.clauses) {
      if (c.test.kind !== 'rising' && c.test.kind !== 'falling') continue;
      for (const p of c.points) out.set(p, CLAUSE_SLOPE_WINDOW_S);
    }
  }
  return out;
}

/** True when one point's current state passes a clause test; a point without a usable current value never does. */
export function clausePasses(test: ClauseTest, st: PointState | undefined): boolean {
  if (st === undefined || st.flags & UNUSABLE || Number.isNaN(st.value)) return false;
  const v = st.value;
  switch (test.kind) {
    case 'above':
      return v > test.value;
    case 'below':
      return v < test.value;
    case 'outside':
      return v < test.low || v > test.high;
    case 'equals':
      return v === test.value;
    case 'rising':
    case 'falling': {
      const trend = st.slope?.trend(CLAUSE_SLOPE_WINDOW_S * 1000);
      if (!trend) return false;
      const perMin = trend.slope * 60_000;
      return test.kind === 'rising' ? perMin >= test.perMin : -perMin >= test.perMin;
    }
    case 'level': {
      const high = test.level === 'H' || test.level === 'HH';
      return rankOf(high ? st.high.level : st.low.level) >= rankOf(test.level);
    }
  }
}

/** A composite holds while every clause has at least one point passing its test. */
export function compositeHolds(rule: CompositeRule, states: ReadonlyMap<Point, PointState>): boolean {
  for (const clause of rule.clauses) {
    let any = false;
    for (const p of clause.points) {
      if (clausePasses(clause.test, states.get(p))) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}
