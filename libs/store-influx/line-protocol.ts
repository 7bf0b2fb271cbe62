import type { AlarmEvent, Point, Reading } from '#libs/contracts/index.js';

const escapeTag = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`);

const prefixes = new WeakMap<Point, string>();

/** Series key of a point: measurement `reading`, tagged by enterprise, hazard source, point and type. */
function seriesPrefix(point: Point): string {
  let prefix = prefixes.get(point);
  if (prefix === undefined) {
    prefix =
      `reading,enterprise=${escapeTag(point.enterpriseCode)},hazard_source=${escapeTag(point.hazardSourceCode)}` +
      `,point=${escapeTag(point.code)},type=${point.type} value=`;
    prefixes.set(point, prefix);
  }
  return prefix;
}

/** One line of InfluxDB line protocol, millisecond precision. Values are always written as floats. */
export function toLine(r: Reading): string {
  return `${seriesPrefix(r.point)}${float(r.value)},quality="${r.quality}" ${Math.round(r.ts)}`;
}

const fieldString = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
const float = (v: number): string => (Number.isInteger(v) ? `${v}.0` : String(v));

/** An alarm change as a line of measurement `alarm` (tags bounded: enterprise, hazard source, point, type, severity). */
export function alarmEventLine(e: AlarmEvent): string {
  const a = e.alarm;
  return (
    `alarm,enterprise=${escapeTag(a.enterpriseCode)},hazard_source=${escapeTag(a.hazardSourceCode)},point=${escapeTag(a.pointCode)},type=${a.type},severity=${a.severity} ` +
    `id=${fieldString(a.id)},kind=${fieldString(e.kind)},status=${fieldString(a.status)},value=${float(a.value)},threshold=${float(a.threshold)} ${Date.parse(a.updatedAt)}`
  );
}
