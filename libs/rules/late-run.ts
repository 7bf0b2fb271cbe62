import type { Reading } from '#libs/contracts/index.js';

/**
 * An excursion beyond a point's present level seen in its late readings (a replayed buffer): recorded once it has
 * lasted the point's on-delay in the readings' own time, once per level reached, however many readings show it.
 */
export class LateExcursion {
  private since = Number.NaN;
  private lastTs = Number.NaN;
  private recorded = 0;

  /** `rank`: how far beyond the present level the reading is (0 not beyond). True when the excursion is to be recorded now. */
  see(rank: number, ts: number, onDelayMs: number): boolean {
    if (rank === 0 || ts < this.lastTs) {
      this.since = Number.NaN;
      this.recorded = 0;
      if (rank === 0) {
        this.lastTs = Number.NaN;
        return false;
      }
    }
    if (Number.isNaN(this.since)) this.since = ts;
    this.lastTs = ts;
    if (rank <= this.recorded || ts - this.since < onDelayMs) return false;
    this.recorded = rank;
    return true;
  }
}

/** Event time per server time up to which a late run may be a clock set back (jitter of a gateway's period included). */
const SET_BACK_PACE = 1.5;

/** A point's readings arriving older than its newest, in a row with nothing newer: a replayed buffer, or its clock set back. */
export class LateRun {
  readonly high = new LateExcursion();
  readonly low = new LateExcursion();
  /** Start of the window over which the pace of the readings' own time is measured: server time, event time. */
  private anchorAt: number;
  private anchorTs: number;

  constructor(
    /** Server time the first of them arrived. */
    readonly since: number,
    public last: Reading,
  ) {
    this.anchorAt = since;
    this.anchorTs = last.ts;
  }

  /**
   * Whether the run shows a clock set back rather than a replay: for `resetMs` (server clock) the readings' own time
   * has moved on no faster than 1.5 times the server's. A replayed buffer runs through its backlog faster than time
   * passes, and a clock that jumps again restarts the measure; a clock set back keeps stamping as time passes.
   */
  settledAsSetBack(now: number, resetMs: number): boolean {
    const elapsed = now - this.anchorAt;
    if (this.last.ts - this.anchorTs > SET_BACK_PACE * elapsed) {
      this.anchorAt = now;
      this.anchorTs = this.last.ts;
      return false;
    }
    return elapsed >= resetMs;
  }
}
