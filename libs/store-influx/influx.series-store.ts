import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import type { Transport } from '@influxdata/influxdb-client';
import type { AggregateSample, AlarmEvent, Point, RawSample, Reading, ReadingBatch, SeriesQuery, SeriesResult, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alarmEventLine, encodeReadings, type Series } from './line-protocol.js';
import { LineWriter } from './line-writer.js';
import { Rollups } from './rollups.js';
import { LineSpool, type SpoolStats } from './line-spool.js';
import { SpoolDrainer, type Availability } from './spool-drainer.js';
import { AGGREGATE_POLICY, downsamplingStatements } from './downsampling.js';
import { writeFailure } from './write-errors.js';

export interface InfluxStoreOptions {
  readonly url: string;
  readonly db: string;
  readonly token: string | null;
  /** Folder of the outage buffer's segment files. */
  readonly spoolDir: string;
  /** Bound of the outage buffer; past it new batches wait (and so do their MQTT acknowledgements). */
  readonly maxSpoolBytes?: number;
  readonly maxBatch?: number;
  readonly maxInFlight?: number;
  readonly cacheLines?: number;
  /** How long readings may wait to fill a request of `maxBatch` lines (default 250 ms). */
  readonly lingerMs?: number;
  /** With downsampling, how often closed aggregate windows are written (default 10 s). */
  readonly rollupEveryMs?: number;
  readonly maxBackoffMs?: number;
  readonly log?: (level: 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  readonly onWritten?: (lines: number) => void;
}

/**
 * Writes readings to the InfluxDB v1 `/write` endpoint (served by 1.x, by 2.x through DBRP mapping, and by 3.x)
 * as the spooled bytes (line-writer.ts), and queries through the client library's transport. Every batch goes to a disk spool first and is acknowledged from there, so
 * an InfluxDB outage (or a crash of this process) loses nothing that was acknowledged; the spool drains in order.
 */
export class InfluxSeriesStore implements SeriesStore {
  private readonly transport: Transport;
  private readonly spool: LineSpool;
  private readonly drainer: SpoolDrainer;
  private readonly writePath: string;
  private readonly writer: LineWriter;
  private rollups: Rollups | null = null;
  private readonly toRollups = (series: Series, ts: number, value: number): void => this.rollups?.add(series, ts, value);
  private aggregates: { readonly spool: LineSpool; readonly drainer: SpoolDrainer; readonly timer: NodeJS.Timeout } | null = null;
  private readonly rollupStateFile: string;

  constructor(private readonly opts: InfluxStoreOptions) {
    this.transport = new InfluxDB({ url: opts.url, token: opts.token ?? undefined, timeout: 30_000 }).transport;
    this.writePath = `/write?db=${encodeURIComponent(opts.db)}&precision=ms`;
    this.writer = new LineWriter(opts.url, opts.token);
    this.spool = new LineSpool(opts.spoolDir);
    this.drainer = new SpoolDrainer({
      spool: this.spool,
      send: (body) => this.post(body),
      maxBatchLines: opts.maxBatch ?? 10_000,
      lingerMs: opts.lingerMs ?? 250,
      maxInFlight: opts.maxInFlight ?? 4,
      maxSpoolBytes: opts.maxSpoolBytes ?? DEFAULT_SPOOL_BYTES,
      cacheLines: opts.cacheLines ?? 50_000,
      maxBackoffMs: opts.maxBackoffMs,
      onWritten: opts.onWritten,
      onRetry: (err, attempt, lines) => opts.log?.('warn', 'influx write failed; kept in the spool, retrying', { err: String(err), attempt, lines }),
      onRejectedLine: (line, reason) => opts.log?.('error', 'influx refused a line; dropped', { line, reason }),
    });
    this.rollupStateFile = join(opts.spoolDir, 'rollups.json');
  }

  /**
   * Creates the database on InfluxDB 1.x, and with `downsampling` its raw retention policy and the aggregate policy
   * (dropping the continuous queries of older versions), then writes the aggregates as readings pass. 2.x/3.x answer
   * these with errors, which are logged, and no aggregates are written there (docs/storage.md).
   */
  async ensureDatabase(downsampling?: { retentionDays: number; aggregateDays: number }): Promise<void> {
    const statements = [`CREATE DATABASE "${this.opts.db}"`, ...(downsampling ? downsamplingStatements(this.opts.db, downsampling.retentionDays, downsampling.aggregateDays) : [])];
    let refused = false;
    for (const statement of statements) {
      try {
        const body = (await this.transport.request(`/query?q=${encodeURIComponent(statement)}`, '', { method: 'POST' })) as { results?: { error?: string }[] };
        const error = body.results?.[0]?.error;
        // CREATE of an existing policy with other settings fails; the ALTER that follows it sets them.
        if (error && !/already exists|continuous query not found/.test(error)) {
          refused = true;
          this.opts.log?.('warn', 'InfluxDB refused a setup statement', { statement, error });
        }
      } catch (err) {
        // Unreachable now is not a refusal: the aggregates wait in their spool like the readings.
        if (err instanceof HttpError) refused = true;
        this.opts.log?.('warn', 'InfluxDB refused a setup statement', { statement, err: String(err) });
      }
    }
    if (!downsampling || this.rollups !== null) return;
    if (refused) this.opts.log?.('warn', 'aggregates are not written: InfluxDB did not take the retention policies (2.x/3.x: set INFLUX_DOWNSAMPLE=0; docs/storage.md)', {});
    else this.startRollups();
  }

  /** From now on the readings' 1-minute and 15-minute aggregates go to retention policy `aggregates`. */
  private startRollups(): void {
    const spool = new LineSpool(join(this.opts.spoolDir, 'aggregates'));
    const path = `/write?db=${encodeURIComponent(this.opts.db)}&rp=${AGGREGATE_POLICY}&precision=ms`;
    const log = this.opts.log;
    const drainer = new SpoolDrainer({
      spool,
      send: (body) => this.post(body, path),
      maxBatchLines: 5000,
      maxInFlight: 1,
      maxSpoolBytes: this.opts.maxSpoolBytes ?? DEFAULT_SPOOL_BYTES,
      cacheLines: 50_000,
      maxBackoffMs: this.opts.maxBackoffMs,
      onRetry: (err, attempt, lines) => log?.('warn', 'influx write of aggregates failed; kept in the spool, retrying', { err: String(err), attempt, lines }),
      onRejectedLine: (line, reason) => log?.('error', 'influx refused an aggregate line; dropped', { line, reason }),
    });
    this.rollups = new Rollups((lines) => drainer.enqueue(Buffer.from(`${lines.join('\n')}\n`), lines.length, () => undefined));
    if (existsSync(this.rollupStateFile)) this.restoreRollups();
    const timer = setInterval(() => {
      try {
        this.rollups?.closeDue();
      } catch (err) {
        // Aggregates are derived data: a fault costs them, never the process.
        this.opts.log?.('error', 'writing closed aggregate windows failed', { err: String(err) });
      }
    }, this.opts.rollupEveryMs ?? 10_000);
    timer.unref();
    this.aggregates = { spool, drainer, timer };
  }

  write(batch: ReadingBatch, onAccepted: () => void): void {
    this.drainer.enqueue(encodeReadings(batch, this.rollups === null ? undefined : this.toRollups), batch.length, onAccepted);
  }

  /**
   * History from InfluxDB (InfluxQL over the v1 `/query` endpoint). Readings still in the outage buffer show up
   * once it has drained.
   */
  async query(q: SeriesQuery): Promise<SeriesResult> {
    const where = `enterprise = ${quoted(q.enterpriseCode)} AND point = ${quoted(q.pointCode)} AND time >= ${Math.floor(q.from)}ms AND time <= ${Math.floor(q.to)}ms`;
    if (q.stepMs === null) {
      // `bad_value` holds bad readings; lines written before it existed carry `value` with `quality` either way.
      const rows = await this.influxql(`SELECT value, bad_value, quality FROM reading WHERE ${where} ORDER BY time ASC LIMIT ${q.limit + 1}`);
      const samples: RawSample[] = rows.slice(0, q.limit).map((r) => {
        const bad = r[2] !== null && r[2] !== undefined;
        return { ts: Number(r[0]), value: Number(bad ? r[2] : r[1]), quality: bad || r[3] === 'bad' ? 'bad' : 'good' };
      });
      return { stepMs: null, samples, truncated: rows.length > q.limit };
    }
    const rows = await this.influxql(
      `SELECT min(value), max(value), mean(value), last(value), count(value) FROM reading WHERE ${where} GROUP BY time(${q.stepMs}ms) fill(none)`,
    );
    const samples: AggregateSample[] = rows.map((r) => ({ ts: Number(r[0]), min: Number(r[1]), max: Number(r[2]), mean: Number(r[3]), last: Number(r[4]), count: Number(r[5]) }));
    return { stepMs: q.stepMs, samples, truncated: false };
  }

  /**
   * InfluxQL `last(value)` with its `quality`, grouped by enterprise and point, asked for a few enterprises at a
   * time so that a national registry's answer never has to fit in memory at once. Readings still in the outage
   * buffer are not seen (they are newer than what InfluxDB holds only during an outage).
   */
  async latest(points: readonly Point[], since: number): Promise<Reading[]> {
    const byKey = new Map(points.map((p) => [`${p.enterpriseCode}/${p.code}`, p]));
    const enterprises = [...new Set(points.map((p) => p.enterpriseCode))];
    const newest = new Map<Point, Reading>();
    for (let i = 0; i < enterprises.length; i += LATEST_ENTERPRISES_PER_QUERY) {
      const which = enterprises.slice(i, i + LATEST_ENTERPRISES_PER_QUERY).map((e) => `enterprise = ${quoted(e)}`).join(' OR ');
      // Good and bad readings are separate fields: the newest of each, then the newer of the two per point.
      for (const [field, quality] of [['value', 'good'], ['bad_value', 'bad']] as const) {
        const statement = `SELECT last(${field}) FROM reading WHERE time >= ${Math.floor(since)}ms AND (${which}) GROUP BY enterprise, point`;
        const path = `/query?db=${encodeURIComponent(this.opts.db)}&epoch=ms&q=${encodeURIComponent(statement)}`;
        const body = (await this.transport.request(path, '', { method: 'GET' })) as { results?: { series?: { tags?: Record<string, string>; values: unknown[][] }[]; error?: string }[] };
        const result = body.results?.[0];
        if (result?.error) throw new Error(`InfluxQL: ${result.error}`);
        for (const series of result?.series ?? []) {
          const point = byKey.get(`${series.tags?.enterprise ?? ''}/${series.tags?.point ?? ''}`);
          const row = series.values[0];
          if (!point || !row) continue;
          const reading: Reading = { point, ts: Number(row[0]), value: Number(row[1]), quality };
          const seen = newest.get(point);
          if (!seen || reading.ts > seen.ts) newest.set(point, reading);
        }
      }
    }
    return [...newest.values()];
  }

  /** Alarm changes go through the same spool as readings, as measurement `alarm`. */
  recordAlarmEvents(events: readonly AlarmEvent[]): void {
    if (events.length === 0) return;
    this.drainer.enqueue(Buffer.from(`${events.map(alarmEventLine).join('\n')}\n`), events.length, () => undefined);
  }

  /** Resolves once everything written so far is in InfluxDB (aggregate windows still filling are not written yet). */
  async flush(): Promise<void> {
    await Promise.all([this.drainer.flush(), this.aggregates?.drainer.flush()]);
  }

  /**
   * Acknowledged batches not yet in InfluxDB stay in the spool and are sent after the next start, and so do the
   * aggregate windows still filling (kept in `rollups.json`, continued by the next start).
   */
  close(): Promise<void> {
    this.drainer.close();
    this.spool.close();
    this.writer.close();
    if (this.aggregates !== null && this.rollups !== null) {
      clearInterval(this.aggregates.timer);
      this.aggregates.drainer.close();
      this.aggregates.spool.close();
      writeFileSync(this.rollupStateFile, JSON.stringify(this.rollups.state()));
    }
    return Promise.resolve();
  }

  /** Readings that came after their aggregate window was written (not in the aggregates; see rollups.ts). */
  get lateForRollups(): number {
    return this.rollups?.late ?? 0;
  }

  spoolStats(): SpoolStats {
    return this.spool.stats();
  }

  /**
   * Whether InfluxDB takes writes. Not ok from the first failed request of an outage (unreachable, credentials or
   * permission refused, database not found, server errors) until a request succeeds; meanwhile every line stays in
   * the spool. `since` is the epoch ms of that first failure. Lines refused for their content do not make it not ok.
   */
  availability(): Availability {
    return this.drainer.availability;
  }

  /** Not ok while `availability()` is not (with its reason) or while the spool is full. */
  health(): StoreHealth {
    const availability = this.availability();
    const { lines, oldestAt } = this.spool.stats();
    const age = oldestAt === null ? '' : `, oldest ${Math.round((Date.now() - oldestAt) / 1000)} s`;
    const full = this.drainer.waitingForSpace ? '; spool full, holding back acknowledgements' : '';
    const refused = this.drainer.refusedLines === 0 ? '' : `; refused lines dropped: ${this.drainer.refusedLines}`;
    const state = availability.ok ? 'writing' : availability.reason;
    // Aggregates failing cost no reading (they wait in their own spool), so they do not make the store not ok.
    const aggregates = this.aggregates?.drainer.availability;
    const rollups = aggregates === undefined || aggregates.ok ? '' : `; aggregates not written: ${aggregates.reason}`;
    return { kind: 'influxdb', ok: availability.ok && full === '', detail: `${state}; ${lines} lines spooled${age}${full}${refused}${rollups}` };
  }

  private async influxql(statement: string): Promise<unknown[][]> {
    const path = `/query?db=${encodeURIComponent(this.opts.db)}&epoch=ms&q=${encodeURIComponent(statement)}`;
    const body = (await this.transport.request(path, '', { method: 'GET' })) as { results?: { series?: { values: unknown[][] }[]; error?: string }[] };
    const result = body.results?.[0];
    if (result?.error) throw new Error(`InfluxQL: ${result.error}`);
    return result?.series?.[0]?.values ?? [];
  }

  private restoreRollups(): void {
    try {
      const state = readFileSync(this.rollupStateFile, 'utf8');
      // Read once: after a crash, the windows of an earlier stop must not come back and overwrite what was written.
      unlinkSync(this.rollupStateFile);
      const refused = this.rollups?.restore(JSON.parse(state) as unknown) ?? 0;
      if (refused > 0) this.opts.log?.('warn', 'part of the aggregate windows of the last run was not understood and is left out', { file: this.rollupStateFile, entries: refused });
    } catch (err) {
      this.opts.log?.('warn', 'the aggregate windows of the last run could not be read; they start again empty', { file: this.rollupStateFile, err: String(err) });
    }
  }

  private async post(body: readonly Buffer[], path = this.writePath): Promise<void> {
    try {
      await this.writer.post(path, body);
    } catch (err) {
      throw writeFailure(err);
    }
  }
}

/** Bound of each outage buffer unless the options say otherwise (`SPOOL_MAX_MB`). */
const DEFAULT_SPOOL_BYTES = 1024 * 2 ** 20;

/** Enterprises asked for at once after a restart: about 4,400 series at 88 points each. */
const LATEST_ENTERPRISES_PER_QUERY = 50;

/** An InfluxQL string literal. */
function quoted(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
