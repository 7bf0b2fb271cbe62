// The 1-minute and 15-minute aggregates of every point, computed as readings pass instead of by continuous queries
// that read each reading back from InfluxDB (which cost influxd about 0.8 µs a reading for each rollup, on top of
// about 1.9 µs to write it; docs/benchmarks.md).
import { float } from './float.js';

export interface RollupWidth {
  readonly measurement: string;
  readonly ms: number;
}

export const ROLLUP_WIDTHS: readonly RollupWidth[] = [
  { measurement: 'reading_1m', ms: 60_000 },
  { measurement: 'reading_15m', ms: 900_000 },
];

/** One window of one point: min, max, sum, count and the value of its newest reading. */
interface Window {
  readonly start: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  lastTs: number;
  /** The sweep during which it last took a reading. */
  touched: number;
}

/** Per point and width: the windows still open, and the start of the newest window already written. */
export interface Track {
  open: Window[];
  writtenUpTo: number;
}

/** The windows of one series, kept by the series itself too so that a reading needs no lookup. */
export interface SeriesTracks {
  readonly owner: Rollups;
  readonly tracks: Track[];
  /** The time of the newest reading aggregated: anything not newer is a repeat or out of order, and left out. */
  newest: number;
  /**
   * Dropped from the rollups' table (the point stopped reporting); the series keeps this record, windows emptied,
   * so that `newest` still holds when it reports again.
   */
  forgotten: boolean;
}

/** A series as the rollups see it: its key (`reading,<tags> `) and the place for its windows. */
export interface RollupSeries {
  readonly key: string;
  rollup: SeriesTracks | null;
}

/** What a stop leaves for the next start: the open windows, by series and width. */
export interface RollupState {
  readonly tracks: { readonly series: string; readonly width: number; readonly writtenUpTo: number | null; readonly newest?: number | null; readonly open: Window[] }[];
}

export interface RollupOptions {
  readonly widths?: readonly RollupWidth[];
  /** A window is written once the clock is this far past its end; later readings of it are counted as late. */
  readonly graceMs?: number;
  readonly now?: () => number;
}

/**
 * Aggregates good readings per point into windows by the reading's own time, and writes a window (min, max, mean,
 * last, count: the fields the continuous queries wrote) once the clock is `graceMs` past its end. A reading not
 * newer than the point's newest aggregated one (a repeat, or out of order), or of a window already written, is not
 * aggregated and is counted in `late` (rewriting a window would replace its aggregate with the late readings'
 * alone); `rollupSelect` in downsampling.ts rebuilds such windows from the raw readings.
 */
export class Rollups {
  private readonly tracks = new Map<string, SeriesTracks>();
  private readonly widths: readonly RollupWidth[];
  private readonly graceMs: number;
  private readonly now: () => number;
  private lateReadings = 0;
  private sweep = 0;

  constructor(
    private readonly write: (lines: string[]) => void,
    opts: RollupOptions = {},
  ) {
    this.widths = opts.widths ?? ROLLUP_WIDTHS;
    this.graceMs = opts.graceMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Readings left out of the 1-minute windows since the start: repeats, out of order, or of a written window. */
  get late(): number {
    return this.lateReadings;
  }

  /**
   * A good reading of `series`. Only a reading newer than every one aggregated for the series counts: MQTT QoS 1
   * delivers at least once (a message not yet acknowledged comes again after a reconnection), and a repeat must not
   * count twice. Older readings are counted in `late` (the raw series has them; `rollupSelect` rebuilds windows).
   */
  add(series: RollupSeries, ts: number, value: number): void {
    let held = series.rollup;
    if (held === null || held.owner !== this || held.forgotten) {
      const before = held !== null && held.owner === this ? held : null;
      held = this.tracksOf(series.key);
      // Back after going quiet: what was aggregated and written then still stands.
      if (before !== null && before !== held) {
        held.newest = Math.max(held.newest, before.newest);
        held.tracks.forEach((t, i) => (t.writtenUpTo = Math.max(t.writtenUpTo, before.tracks[i]?.writtenUpTo ?? -Infinity)));
      }
      series.rollup = held;
    }
    if (ts <= held.newest) {
      this.lateReadings++;
      return;
    }
    held.newest = ts;
    const tracks = held.tracks;
    for (let i = 0; i < tracks.length; i++) {
      const ms = this.widths[i]!.ms;
      const start = Math.floor(ts / ms) * ms;
      const track = tracks[i]!;
      const newest = track.open[track.open.length - 1];
      const w = newest !== undefined && newest.start === start ? newest : this.windowOf(track, start);
      if (w === null) {
        if (i === 0) this.lateReadings++;
        continue;
      }
      if (value < w.min) w.min = value;
      if (value > w.max) w.max = value;
      w.sum += value;
      w.count++;
      w.last = value;
      w.lastTs = ts;
      w.touched = this.sweep;
    }
  }

  /**
   * Writes every window whose end is `graceMs` or more in the past and that took no reading since the last call
   * (a gateway replaying its buffer fills old windows: each is written once the replay has moved past it). Call it
   * on a timer.
   */
  closeDue(): void {
    const due = this.now() - this.graceMs;
    const previous = this.sweep++;
    const lines: string[] = [];
    for (const [series, held] of this.tracks) {
      const tracks = held.tracks;
      const tags = series.slice(series.indexOf(','), -1);
      let empty = true;
      for (let i = 0; i < tracks.length; i++) {
        const track = tracks[i]!;
        const width = this.widths[i]!;
        while (track.open.length > 0 && track.open[0]!.start + width.ms <= due && track.open[0]!.touched < previous) {
          const w = track.open.shift()!;
          lines.push(`${width.measurement}${tags} min=${float(w.min)},max=${float(w.max)},mean=${float(w.sum / w.count)},last=${float(w.last)},count=${w.count}i ${w.start}`);
          track.writtenUpTo = Math.max(track.writtenUpTo, w.start);
        }
        if (track.open.length > 0 || track.writtenUpTo + width.ms > due - this.graceMs) empty = false;
      }
      // A point that stopped reporting is forgotten once nothing of it can be written any more.
      if (empty) {
        held.forgotten = true;
        this.tracks.delete(series);
      }
    }
    if (lines.length > 0) this.write(lines);
  }

  /** The open windows, for the next start (a stop must not write windows that are still filling). */
  state(): RollupState {
    const tracks: RollupState['tracks'][number][] = [];
    for (const [series, held] of this.tracks) held.tracks.forEach((t, width) => tracks.push({ series, width, writtenUpTo: t.writtenUpTo, newest: held.newest, open: t.open }));
    return { tracks };
  }

  /** Takes the windows of a stop back; returns how many entries were not of the expected shape (and left out). */
  restore(state: unknown): number {
    const tracks = typeof state === 'object' && state !== null && Array.isArray((state as { tracks?: unknown }).tracks) ? (state as { tracks: unknown[] }).tracks : null;
    if (tracks === null) return 1;
    let refused = 0;
    for (const t of tracks) {
      if (!isTrackState(t) || t.width >= this.widths.length) {
        refused++;
        continue;
      }
      const held = this.tracksOf(t.series);
      // JSON wrote -Infinity (nothing written yet) as null.
      held.tracks[t.width] = { open: t.open.map((w) => ({ ...w, touched: this.sweep })).sort((a, b) => a.start - b.start), writtenUpTo: t.writtenUpTo ?? -Infinity };
      const newest = Math.max(t.newest ?? -Infinity, ...t.open.map((w) => w.lastTs));
      if (newest > held.newest) held.newest = newest;
    }
    return refused;
  }

  private tracksOf(key: string): SeriesTracks {
    let held = this.tracks.get(key);
    if (held === undefined) {
      held = { owner: this, tracks: this.widths.map(() => ({ open: [], writtenUpTo: -Infinity })), newest: -Infinity, forgotten: false };
      this.tracks.set(key, held);
    }
    return held;
  }

  /**
   * A new window starting at `start`, after the open ones (readings only move forward: `add`); null when that
   * window, or a later one, was written already.
   */
  private windowOf(track: Track, start: number): Window | null {
    if (start <= track.writtenUpTo) return null;
    const w: Window = { start, min: Infinity, max: -Infinity, sum: 0, count: 0, last: 0, lastTs: -Infinity, touched: this.sweep };
    track.open.push(w);
    return w;
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

function isWindow(w: unknown): w is Window {
  if (typeof w !== 'object' || w === null) return false;
  const x = w as Record<string, unknown>;
  return ['start', 'min', 'max', 'sum', 'count', 'last', 'lastTs'].every((k) => isNumber(x[k]));
}

function isTrackState(t: unknown): t is RollupState['tracks'][number] {
  if (typeof t !== 'object' || t === null) return false;
  const x = t as Record<string, unknown>;
  return (
    typeof x.series === 'string' &&
    x.series.startsWith('reading,') &&
    Number.isInteger(x.width) &&
    (x.width as number) >= 0 &&
    (isNumber(x.writtenUpTo) || x.writtenUpTo === null) &&
    (x.newest === undefined || x.newest === null || isNumber(x.newest)) &&
    Array.isArray(x.open) &&
    x.open.every(isWindow)
  );
}
