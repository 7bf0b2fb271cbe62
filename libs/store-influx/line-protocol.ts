import type { Point, Reading } from '#libs/contracts/index.js';

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
  const v = Number.isInteger(r.value) ? `${r.value}.0` : String(r.value);
  return `${seriesPrefix(r.point)}${v},quality="${r.quality}" ${Math.round(r.ts)}`;
}
