import type { AlarmEvent, Point, ReadingBatch } from '#libs/contracts/index.js';
import { float } from './float.js';
import type { RollupSeries } from './rollups.js';

const escapeTag = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`);

/** A point's series: its key (`reading,<tags> `, the space included) as text and as UTF-8, and its open aggregates. */
export interface Series extends RollupSeries {
  readonly bytes: Buffer;
}

const seriesOfPoint = new WeakMap<Point, Series>();

/**
 * Series key of a point: measurement `reading`, tagged by enterprise, hazard source and point. (The point's type,
 * a tag until this release, is in the registry: a fourth tag cost influxd about 6 % a line.)
 */
export function seriesOf(point: Point): Series {
  let series = seriesOfPoint.get(point);
  if (series === undefined) {
    const key = `reading,enterprise=${escapeTag(point.enterpriseCode)},hazard_source=${escapeTag(point.hazardSourceCode)},point=${escapeTag(point.code)} `;
    series = { key, bytes: Buffer.from(key, 'utf8'), rollup: null };
    seriesOfPoint.set(point, series);
  }
  return series;
}

/** Room for a line's fields and time after its series key: `bad_value=` + a number + `,quality="bad" ` + ms + newline. */
const FIELDS_MAX_BYTES = 80;
let scratch = Buffer.allocUnsafe(1 << 16);
/** The series of the batch being encoded, looked up once a reading. */
const seriesScratch: Series[] = [];

/**
 * The readings as line protocol in UTF-8, each line ending in a newline: millisecond precision, values always
 * floats. A good reading is field `value` alone; a bad one is field `bad_value` with `quality="bad"`, so that
 * `value` holds good readings only and aggregates need no filter. (A string field on every line cost influxd about
 * 45 % of its CPU per line.) Written straight into bytes: lines as strings were joined, copied and encoded again,
 * and lived long enough in the outage buffer's cache to cost the garbage collector. `onGood` sees each good reading.
 */
export function encodeReadings(batch: ReadingBatch, onGood?: (series: Series, ts: number, value: number) => void): Buffer {
  let room = 0;
  for (let i = 0; i < batch.length; i++) {
    const series = seriesOf(batch[i]!.point);
    seriesScratch[i] = series;
    room += series.bytes.length + FIELDS_MAX_BYTES;
  }
  if (room > scratch.length) scratch = Buffer.allocUnsafe(room * 2);
  const buf = scratch;
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i]!;
    const series = seriesScratch[i]!;
    buf.set(series.bytes, at);
    at += series.bytes.length;
    const good = r.quality === 'good';
    at = writeAscii(buf, at, good ? 'value=' : 'bad_value=');
    at = writeFloat(buf, at, r.value);
    at = writeAscii(buf, at, good ? ' ' : ',quality="bad" ');
    at = writeInteger(buf, at, Math.round(r.ts));
    buf[at++] = 0x0a;
    if (good) onGood?.(series, r.ts, r.value);
  }
  return Buffer.from(buf.subarray(0, at));
}

function writeAscii(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
  return at;
}

/** An integer in decimal digits, with its sign (a clock reset to 1900 stamps readings before 1970). */
function writeInteger(buf: Buffer, at: number, n: number): number {
  if (n < 0) buf[at++] = 0x2d;
  return writeDigits(buf, at, Math.abs(n));
}

/** A non-negative integer in decimal digits. */
function writeDigits(buf: Buffer, at: number, n: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  for (let k = at + len - 1, x = n; k >= at; k--) {
    const q = Math.floor(x / 10);
    buf[k] = 0x30 + (x - q * 10);
    x = q;
  }
  return at + len;
}

function writeFloat(buf: Buffer, at: number, v: number): number {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) {
    at = writeInteger(buf, at, v);
    buf[at++] = 0x2e;
    buf[at++] = 0x30;
    return at;
  }
  return writeAscii(buf, at, String(v));
}

/** A string field: quotes and backslashes escaped; line breaks (line protocol has none inside a line) as spaces. */
const fieldString = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, ' ')}"`;

/**
 * An alarm change as a line of measurement `alarm`. Tags stay bounded: enterprise, originator kind and code
 * (a point, gateway, area, hazard source or the enterprise), condition, level, severity.
 */
export function alarmEventLine(e: AlarmEvent): string {
  const a = e.alarm;
  const numbers = (a.value === null ? '' : `,value=${float(a.value)}`) + (a.threshold === null ? '' : `,threshold=${float(a.threshold)}`);
  return (
    `alarm,enterprise=${escapeTag(a.enterpriseCode)},originator=${a.originatorKind},code=${escapeTag(a.originatorCode)},condition=${a.condition},level=${a.level},severity=${a.severity} ` +
    `id=${fieldString(a.id)},kind=${fieldString(e.kind)},status=${fieldString(a.status)}${numbers},message=${fieldString(a.message)} ${Date.parse(a.updatedAt)}`
  );
}
