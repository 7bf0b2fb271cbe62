import type { ConditionType, Originator, Point, Reading } from '#libs/contracts/index.js';
import { conditionKey, pointOriginator } from './condition.js';
import { LateExcursion, type LateRun } from './late-run.js';
import { DelayedLevel, type HighLevel, type LowLevel } from './limit.rule.js';
import { SlopeWindow } from './slope-window.js';

/** Fault and warning conditions of a point, as bits. */
export const BAD_QUALITY = 1;
export const OUT_OF_RANGE = 2;
export const STUCK = 4;
export const NO_DATA = 8;
export const RATE = 16;
export const TREND = 32;
/** The rules threw on the point's latest reading: its other alarms may be wrong. */
export const EVALUATION_ERROR = 64;
/** Faults that make the point's value unusable for other rules. */
export const UNUSABLE = BAD_QUALITY | OUT_OF_RANGE | NO_DATA;

/** Everything the rule core remembers of one point (~200 bytes; 480 with a slope window). */
/** An excursion known to the point: the highest level's rank it reached and the event times it covers. */
export interface LateSpan {
  rank: number;
  from: number;
  to: number;
}

const KEPT_SPANS = 16;

/** How far apart in event time two readings of one excursion may be: two sample periods. */
export const excursionGapMs = (p: Point): number => 2 * p.samplePeriodS * 1000;

/** The span of `spans` that `ts` falls in (within `gapMs`), if any. */
export function spanAt(spans: readonly LateSpan[] | null, ts: number, gapMs: number): LateSpan | undefined {
  return spans?.find((s) => ts >= s.from - gapMs && ts <= s.to + gapMs);
}

/** Adds `ts` at `rank` to the span it falls in, or starts one (keeping the last 16); returns the spans. */
export function noteSpan(spans: LateSpan[] | null, rank: number, ts: number, gapMs: number): LateSpan[] {
  const list = spans ?? [];
  const s = spanAt(list, ts, gapMs);
  if (s !== undefined) {
    s.from = Math.min(s.from, ts);
    s.to = Math.max(s.to, ts);
    s.rank = Math.max(s.rank, rank);
    return list;
  }
  list.push({ rank, from: ts, to: ts });
  if (list.length > KEPT_SPANS) list.shift();
  return list;
}

export class PointState {
  /** Event time of the newest reading evaluated, and processing time of the newest reading of any quality. */
  lastTs = -Infinity;
  lastArrival: number;
  /** The newest good, in-range value. */
  value = Number.NaN;
  /** Value and quality of the newest reading evaluated, whatever they were (to tell a redelivery from new data). */
  lastRaw = Number.NaN;
  lastQuality: Reading['quality'] = 'good';
  readonly high = new DelayedLevel<Exclude<HighLevel, null>>();
  readonly low = new DelayedLevel<Exclude<LowLevel, null>>();
  flags = 0;
  stuckAnchor = Number.NaN;
  stuckCount = 0;
  slope: SlopeWindow | null;
  /** Readings arriving older than `lastTs` in a row, with nothing newer (null: the newest reading was in order). */
  lateRun: LateRun | null = null;
  /** Excursions being seen in late readings, kept across live readings (a replay interleaved with live data). */
  lateSeenHigh = new LateExcursion();
  lateSeenLow = new LateExcursion();
  /**
   * The excursions known on each side, live or recorded from late readings (the last 16): the rank of the highest
   * level each reached and its span in event time. Null until the point has one (most points never do).
   */
  lateHigh: LateSpan[] | null = null;
  lateLow: LateSpan[] | null = null;
  private originatorOf: Originator | null = null;
  private keyHigh: string | null = null;
  private keyLow: string | null = null;

  constructor(
    public point: Point,
    arrival: number,
    slopeWindowMs: number | null,
  ) {
    this.lastArrival = arrival;
    this.slope = slopeWindowMs === null ? null : new SlopeWindow(slopeWindowMs);
  }

  get originator(): Originator {
    return (this.originatorOf ??= pointOriginator(this.point));
  }

  /** Condition keys of the point, the limit ones kept: they are looked up on every transition. */
  key(condition: ConditionType): string {
    if (condition === 'limit_high') return (this.keyHigh ??= conditionKey(this.originator, condition, null));
    if (condition === 'limit_low') return (this.keyLow ??= conditionKey(this.originator, condition, null));
    return conditionKey(this.originator, condition, null);
  }

  /** After the point's clock was reset: samples of the old time base cannot be fitted with the new. */
  restartSlope(): void {
    if (this.slope !== null) this.slope = new SlopeWindow(this.slope.windowMs);
  }

  /** After a reload: the point object changed, its identity did not. */
  moveTo(point: Point): void {
    this.point = point;
    this.originatorOf = null;
  }
}

/** The window a point's slope is kept over: the longest its rules need, or null when none needs one. */
export function slopeWindowMs(point: Point, extraS: number | null): number | null {
  const { rate, trend } = point.rules;
  const s = Math.max(rate?.windowS ?? 0, trend?.windowS ?? 0, extraS ?? 0);
  return s > 0 ? s * 1000 : null;
}
