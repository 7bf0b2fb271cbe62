// What the benchmarks measure of a process and of InfluxDB, in one place for bench/run.ts, steps.ts and soak.ts.
import { readFileSync } from 'node:fs';
import type { InfluxService } from '#libs/testing/services.js';

export { setTimeout as sleep } from 'node:timers/promises';

/** A size from /proc/<pid>/status in MB: VmRSS now, VmHWM its peak. */
export function procMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** User plus system CPU time of a process so far, in seconds (from /proc/<pid>/stat, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The p-th percentile of the values (NaN for none). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Good readings (field `value`) stored in database `db`. */
export async function countStored(influx: InfluxService, db: string): Promise<number> {
  const series = await influx.query('SELECT count(value) FROM reading', db);
  return (series[0]?.values ?? []).reduce((n, row) => n + Number(row[1] ?? 0), 0);
}
