import type { Reading } from '#libs/contracts/index.js';

/**
 * An excursion beyond a point's present level seen in its late readings (a replayed buffer): recorded once it has
 * lasted the point's on-delay in the readings' own time, once per level reached, however many readings show it and
 * in whatever order they come (newest first, or between live readings: the span of event time grows both ways).
 * A reading not beyond the level ends it; so does one more than `gapMs` away from it (another excursion).
 */
export class LateExcursion {
  private from = Number.NaN;
  private to = Number.NaN;
  private recorded = 0;

  /** `rank`: how far beyond the present level the reading is (0 not beyond). True when the excursion is to be recorded now. */
  see(rank: number, ts: number, onDelayMs: number, gapMs: number): boolean {
    if (rank === 0) {
      this.from = Number.NaN;
      this.recorded = 0;
      return false;
    }
    if (Number.isNaN(this.from) || ts < this.from - gapMs || ts > this.to + gapMs) {
      this.from = ts;
      this.to = ts;
      this.recorded = 0;
    } else {
      this.from = Math.min(this.from, ts);
      this.to = Math.max(this.to, ts);
    }
    if (rank <= this.recorded || this.to - this.from < onDelayMs) return false;
    this.recorded = rank;
    return true;
  }
}

/** Event time per server time up to which a late run may be a clock set back (jitter of a gateway's period included). */
const SET_BACK_PACE = 1.5;

/** A point's readings arriving older than its newest, in a row with nothing newer: a replayed buffer, or its clock set back. */
export class LateRun {
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
