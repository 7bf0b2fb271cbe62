import type { Alarm, Point, Reading } from '#libs/contracts/index.js';
import type { Registry } from '#libs/registry/index.js';

/** Per-enterprise data quality over the window (数据在线率、完整率、及时率). */
export interface DataQuality {
  readonly enterpriseCode: string;
  readonly windowMin: number;
  readonly points: number;
  /** Readings the registry's periods call for in the window, and those received. */
  readonly expected: number;
  readonly received: number;
  /** 完整率: received / expected, at most 1. */
  readonly completeness: number;
  /** 及时率: readings that arrived within two of their point's periods (at least 10 s) of their timestamp / received. */
  readonly timeliness: number | null;
  /** 在线率: points neither silent (an active no_data alarm) nor behind an offline gateway / points. */
  readonly online: number;
}

interface Ring {
  /** Per minute of the window: readings received, and those on time. */
  readonly received: Uint32Array;
  readonly timely: Uint32Array;
  /** The minute (epoch ms / 60 000) the ring's head stands for. */
  head: number;
}

/** Expected readings a minute per enterprise, and its point count, for one registry. */
function ratesOf(points: readonly Point[]): Map<string, { perMin: number; points: number }> {
  const out = new Map<string, { perMin: number; points: number }>();
  for (const p of points) {
    const r = out.get(p.enterpriseCode) ?? { perMin: 0, points: 0 };
    r.perMin += 60 / Math.max(1, p.samplePeriodS);
    r.points++;
    out.set(p.enterpriseCode, r);
  }
  return out;
}

/**
 * Counts each enterprise's readings per minute, on time or late, in a ring of `windowMin` minutes, and answers its
 * completeness, timeliness and online rate against the registry's expected periods. A few kilobytes per enterprise;
 * one map lookup per message on the hot path.
 */
export class DataQualityBoard {
  private readonly rings = new Map<string, Ring>();
  private rates: { registry: Registry; byEnterprise: Map<string, { perMin: number; points: number }> } | null = null;
  private readonly startedAt: number;

  /**
   * `windowMin` buckets of `bucketMs` (a minute; the tests shorten it to run the same logic in seconds).
   */
  constructor(
    private readonly registry: () => Registry,
    readonly windowMin: number,
    now: number,
    readonly bucketMs = 60_000,
  ) {
    this.startedAt = now;
  }

  /** The readings of one message (all of one enterprise), received at `receivedAt`. */
  record(readings: readonly Reading[], receivedAt: number): void {
    const first = readings[0];
    if (first === undefined) return;
    const ring = this.ringOf(first.point.enterpriseCode, receivedAt);
    const i = Math.floor(receivedAt / this.bucketMs) % this.windowMin;
    let timely = 0;
    for (const r of readings) if (receivedAt - r.ts <= Math.max(10_000, 2_000 * r.point.samplePeriodS)) timely++;
    ring.received[i]! += readings.length;
    ring.timely[i]! += timely;
  }

  /** Minutes observed so far (the window, once the monitor has run that long). */
  observedMin(now: number): number {
    return Math.min(this.windowMin, Math.max(1, Math.floor((now - this.startedAt) / this.bucketMs)));
  }

  /** Every enterprise of the registry (or the ones given), with `silent` points per enterprise from the active alarms. */
  report(now: number, activeAlarms: Iterable<Alarm>, only?: ReadonlySet<string>): DataQuality[] {
    const rates = this.ratesNow();
    const silent = new Map<string, number>();
    for (const a of activeAlarms) {
      if (a.condition === 'no_data' && a.pointCode !== null) silent.set(a.enterpriseCode, (silent.get(a.enterpriseCode) ?? 0) + 1);
      if (a.condition === 'gateway_offline' && a.gatewayCode !== null) {
        const behind = this.registry().queryPoints({ enterpriseCode: a.enterpriseCode }, 0, 100_000).items.filter((p) => p.gatewayCode === a.gatewayCode).length;
        silent.set(a.enterpriseCode, (silent.get(a.enterpriseCode) ?? 0) + behind);
      }
    }
    // The window: the last windowMin buckets, the current one included, and never before the monitor started.
    const head = Math.floor(now / this.bucketMs);
    const buckets = Math.min(this.windowMin, head - Math.floor(this.startedAt / this.bucketMs) + 1);
    const from = Math.max(this.startedAt, (head - buckets + 1) * this.bucketMs);
    const coveredMin = (now - from) / 60_000;
    const out: DataQuality[] = [];
    for (const [code, rate] of rates) {
      if (only !== undefined && !only.has(code)) continue;
      const ring = this.rings.get(code);
      if (ring !== undefined) this.advance(ring, now);
      let received = 0;
      let timely = 0;
      if (ring !== undefined) {
        for (let m = head - buckets + 1; m <= head; m++) {
          const i = m % this.windowMin;
          received += ring.received[i]!;
          timely += ring.timely[i]!;
        }
      }
      const expected = Math.round(rate.perMin * coveredMin);
      out.push({
        enterpriseCode: code,
        windowMin: Math.round(coveredMin * 10) / 10,
        points: rate.points,
        expected,
        received,
        completeness: expected === 0 ? 1 : Math.min(1, received / expected),
        timeliness: received === 0 ? null : timely / received,
        online: rate.points === 0 ? 1 : Math.max(0, 1 - Math.min(rate.points, silent.get(code) ?? 0) / rate.points),
      });
    }
    return out;
  }

  private ratesNow(): Map<string, { perMin: number; points: number }> {
    const registry = this.registry();
    if (this.rates === null || this.rates.registry !== registry) this.rates = { registry, byEnterprise: ratesOf(registry.allPoints()) };
    return this.rates.byEnterprise;
  }

  private ringOf(enterpriseCode: string, now: number): Ring {
    let ring = this.rings.get(enterpriseCode);
    if (ring === undefined) {
      ring = { received: new Uint32Array(this.windowMin), timely: new Uint32Array(this.windowMin), head: Math.floor(now / this.bucketMs) };
      this.rings.set(enterpriseCode, ring);
    }
    this.advance(ring, now);
    return ring;
  }

  /** Empties the minutes the ring passes over since it last moved (all of them after a gap of a window or more). */
  private advance(ring: Ring, now: number): void {
    const minute = Math.floor(now / this.bucketMs);
    if (minute <= ring.head) return;
    const steps = Math.min(this.windowMin, minute - ring.head);
    for (let s = 1; s <= steps; s++) {
      const i = (ring.head + s) % this.windowMin;
      ring.received[i] = 0;
      ring.timely[i] = 0;
    }
    ring.head = minute;
  }
}
