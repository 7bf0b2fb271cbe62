const SLOTS = 16;

export interface Trend {
  /** Units per millisecond. */
  readonly slope: number;
  /** The fitted value at the newest sample's time. */
  readonly fitted: number;
}

/**
 * Least-squares slope over a time window from at most 16 samples: a new sample closer than window/15 to the one
 * before the newest replaces the newest, so the window stays covered whatever the sample rate, in 272 bytes.
 */
export class SlopeWindow {
  private readonly ts = new Float64Array(SLOTS);
  private readonly vs = new Float64Array(SLOTS);
  private count = 0;
  private newest = -1;

  constructor(readonly windowMs: number) {}

  add(ts: number, value: number): void {
    if (this.count >= 2) {
      const before = (this.newest + SLOTS - 1) % SLOTS;
      if (ts - this.ts[before]! < this.windowMs / (SLOTS - 1)) {
        this.ts[this.newest] = ts;
        this.vs[this.newest] = value;
        return;
      }
    }
    this.newest = (this.newest + 1) % SLOTS;
    this.ts[this.newest] = ts;
    this.vs[this.newest] = value;
    if (this.count < SLOTS) this.count++;
  }

  /**
   * The trend over the window (at most the one kept) ending at the newest sample; null with fewer than 3 samples
   * or less than half a window.
   */
  trend(windowMs = this.windowMs): Trend | null {
    if (this.count < 3) return null;
    const t0 = this.ts[this.newest]!;
    const from = t0 - windowMs;
    let n = 0;
    let st = 0;
    let sv = 0;
    let stt = 0;
    let stv = 0;
    let oldest = t0;
    for (let i = 0; i < this.count; i++) {
      const t = this.ts[i]!;
      if (t < from) continue;
      const x = t - t0;
      const v = this.vs[i]!;
      n++;
      st += x;
      sv += v;
      stt += x * x;
      stv += x * v;
      if (t < oldest) oldest = t;
    }
    if (n < 3 || t0 - oldest < windowMs / 2) return null;
    const denom = n * stt - st * st;
    if (denom === 0) return null;
    const slope = (n * stv - st * sv) / denom;
    const fitted = (sv - slope * st) / n;
    return { slope, fitted };
  }
}
