// Retention and downsampling on InfluxDB 1.x: retention policies (InfluxQL); the aggregates themselves are written
// by the store as readings pass (rollups.ts). InfluxDB 2.x/3.x do not take these statements on the v1 API;
// docs/storage.md gives their equivalents.

import { ROLLUP_WIDTHS } from './rollups.js';

export const RAW_POLICY = 'raw';
export const AGGREGATE_POLICY = 'aggregates';

export interface Rollup {
  readonly measurement: string;
  readonly every: string;
}

/** 1-minute and 15-minute aggregates: min, max, mean, last and count of good-quality readings (field `value`). */
export const ROLLUPS: readonly Rollup[] = ROLLUP_WIDTHS.map((w) => ({ measurement: w.measurement, every: `${w.ms / 60_000}m` }));

const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * SELECT … INTO for one rollup over `timeRange` (an InfluxQL condition): rebuilds its windows from the raw readings,
 * e.g. after late readings or for data written before the aggregates were.
 */
export function rollupSelect(db: string, rollup: Rollup, timeRange?: string): string {
  return (
    `SELECT min(value) AS min, max(value) AS max, mean(value) AS mean, last(value) AS last, count(value) AS count ` +
    `INTO ${ident(db)}.${ident(AGGREGATE_POLICY)}.${ident(rollup.measurement)} FROM ${ident(db)}.${ident(RAW_POLICY)}.reading ` +
    `${timeRange ? `WHERE ${timeRange} ` : ''}GROUP BY time(${rollup.every}), *`
  );
}

/**
 * Statements that set up raw retention and the aggregate policy, and drop the continuous queries that computed the
 * aggregates before the store wrote them itself; idempotent.
 */
export function downsamplingStatements(db: string, retentionDays: number, aggregateDays: number): string[] {
  const d = ident(db);
  return [
    `CREATE RETENTION POLICY ${ident(RAW_POLICY)} ON ${d} DURATION ${retentionDays}d REPLICATION 1 DEFAULT`,
    `ALTER RETENTION POLICY ${ident(RAW_POLICY)} ON ${d} DURATION ${retentionDays}d DEFAULT`,
    `CREATE RETENTION POLICY ${ident(AGGREGATE_POLICY)} ON ${d} DURATION ${aggregateDays}d REPLICATION 1`,
    `ALTER RETENTION POLICY ${ident(AGGREGATE_POLICY)} ON ${d} DURATION ${aggregateDays}d`,
    ...ROLLUPS.map((r) => `DROP CONTINUOUS QUERY ${ident(`${r.measurement}_cq`)} ON ${d}`),
  ];
}
