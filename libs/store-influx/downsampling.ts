// Retention and downsampling on InfluxDB 1.x, by retention policies and continuous queries (InfluxQL).
// InfluxDB 2.x/3.x do not take these statements on the v1 API; docs/storage.md gives their equivalents.

export const RAW_POLICY = 'raw';
export const AGGREGATE_POLICY = 'aggregates';

export interface Rollup {
  readonly measurement: string;
  readonly every: string;
}

/** 1-minute and 15-minute aggregates: min, max, mean, last and count of good-quality readings (field `value`). */
export const ROLLUPS: readonly Rollup[] = [
  { measurement: 'reading_1m', every: '1m' },
  { measurement: 'reading_15m', every: '15m' },
];

const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** SELECT … INTO for one rollup; `timeRange` (an InfluxQL condition) turns it into a backfill. */
export function rollupSelect(db: string, rollup: Rollup, timeRange?: string): string {
  return (
    `SELECT min(value) AS min, max(value) AS max, mean(value) AS mean, last(value) AS last, count(value) AS count ` +
    `INTO ${ident(db)}.${ident(AGGREGATE_POLICY)}.${ident(rollup.measurement)} FROM ${ident(db)}.${ident(RAW_POLICY)}.reading ` +
    `${timeRange ? `WHERE ${timeRange} ` : ''}GROUP BY time(${rollup.every}), *`
  );
}

/** Statements that set up raw retention, the aggregate policy and one continuous query per rollup; idempotent. */
export function downsamplingStatements(db: string, retentionDays: number, aggregateDays: number): string[] {
  const d = ident(db);
  return [
    `CREATE RETENTION POLICY ${ident(RAW_POLICY)} ON ${d} DURATION ${retentionDays}d REPLICATION 1 DEFAULT`,
    `ALTER RETENTION POLICY ${ident(RAW_POLICY)} ON ${d} DURATION ${retentionDays}d DEFAULT`,
    `CREATE RETENTION POLICY ${ident(AGGREGATE_POLICY)} ON ${d} DURATION ${aggregateDays}d REPLICATION 1`,
    `ALTER RETENTION POLICY ${ident(AGGREGATE_POLICY)} ON ${d} DURATION ${aggregateDays}d`,
    // Dropped and created again, so that a database set up by an older version gets the current definition.
    ...ROLLUPS.flatMap((r) => [`DROP CONTINUOUS QUERY ${ident(`${r.measurement}_cq`)} ON ${d}`, `CREATE CONTINUOUS QUERY ${ident(`${r.measurement}_cq`)} ON ${d} BEGIN ${rollupSelect(db, r)} END`]),
  ];
}
