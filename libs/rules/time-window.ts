/** Timestamps within a sliding window, counted in O(1) amortised (no shifting of the whole list). */
export class TimeWindow {
  private times: number[] = [];
  private head = 0;

  constructor(
    private readonly windowMs: number,
    /** Keep at most this many (the newest); enough when only "more than N" matters. */
    private readonly cap = Number.POSITIVE_INFINITY,
  ) {}

  push(ts: number): void {
    this.times.push(ts);
    if (this.times.length - this.head > this.cap) this.head++;
    this.compact();
  }

  /** Forgets timestamps older than `now` − window; returns how many remain. */
  expire(now: number): number {
    const from = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! < from) this.head++;
    this.compact();
    return this.count;
  }

  get count(): number {
    return this.times.length - this.head;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
