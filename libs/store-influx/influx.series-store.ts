import { InfluxDB } from '@influxdata/influxdb-client';
import type { Transport } from '@influxdata/influxdb-client';
import type { AggregateSample, AlarmEvent, Point, RawSample, Reading, ReadingBatch, SeriesQuery, SeriesResult, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import { alarmEventLine, toLine } from './line-protocol.js';
import { LineSpool, type SpoolStats } from './line-spool.js';
import { SpoolDrainer, type Availability } from './spool-drainer.js';
import { downsamplingStatements } from './downsampling.js';
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
  /** How long readings may wait to fill a request of `maxBatch` lines (default 100 ms). */
  readonly lingerMs?: number;
  readonly maxBackoffMs?: number;
  readonly log?: (level: 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  readonly onWritten?: (lines: number) => void;
}

/**
 * Writes readings to the InfluxDB v1 `/write` endpoint (served by 1.x, by 2.x through DBRP mapping, and by 3.x)
 * through the client's HTTP transport. Every batch goes to a disk spool first and is acknowledged from there, so
 * an InfluxDB outage (or a crash of this process) loses nothing that was acknowledged; the spool drains in order.
 */
export class InfluxSeriesStore implements SeriesStore {
  private readonly transport: Transport;
  private readonly spool: LineSpool;
  private readonly drainer: SpoolDrainer;
  private readonly writePath: string;

  constructor(private readonly opts: InfluxStoreOptions) {
    this.transport = new InfluxDB({ url: opts.url, token: opts.token ?? undefined, timeout: 30_000 }).transport;
    this.writePath = `/write?db=${encodeURIComponent(opts.db)}&precision=ms`;
    this.spool = new LineSpool(opts.spoolDir);
    this.drainer = new SpoolDrainer({
      spool: this.spool,
      send: (body) => this.post(body),
      maxBatchLines: opts.maxBatch ?? 5000,
      lingerMs: opts.lingerMs ?? 100,
      maxInFlight: opts.maxInFlight ?? 4,
      maxSpoolBytes: opts.maxSpoolBytes ?? 1024 * 2 ** 20,
      cacheLines: opts.cacheLines ?? 50_000,
      maxBackoffMs: opts.maxBackoffMs,
      onWritten: opts.onWritten,
      onRetry: (err, attempt, lines) => opts.log?.('warn', 'influx write failed; kept in the spool, retrying', { err: String(err), attempt, lines }),
      onRejectedLine: (line, reason) => opts.log?.('error', 'influx refused a line; dropped', { line, reason }),
    });
  }

  /**
   * Creates the database on InfluxDB 1.x, and with `downsampling` its raw retention policy, the aggregate policy
   * and the continuous queries. 2.x/3.x answer these with errors, which are logged and fine there (DBRP mapping,
   * bucket retention and tasks are set up on the server; docs/storage.md).
   */
  async ensureDatabase(downsampling?: { retentionDays: number; aggregateDays: number }): Promise<void> {
    const statements = [`CREATE DATABASE "${this.opts.db}"`, ...(downsampling ? downsamplingStatements(this.opts.db, downsampling.retentionDays, downsampling.aggregateDays) : [])];
    for (const statement of statements) {
      try {
        const body = (await this.transport.request(`/query?q=${encodeURIComponent(statement)}`, '', { method: 'POST' })) as { results?: { error?: string }[] };
        const error = body.results?.[0]?.error;
        // CREATE of an existing policy with other settings fails; the ALTER that follows it sets them.
        if (error && !/already exists|continuous query not found/.test(error)) this.opts.log?.('warn', 'InfluxDB refused a setup statement', { statement, error });
      } catch (err) {
        this.opts.log?.('warn', 'InfluxDB refused a setup statement', { statement, err: String(err) });
      }
    }
  }

  write(batch: ReadingBatch, onAccepted: () => void): void {
    let text = '';
    for (let i = 0; i < batch.length; i++) text += (i === 0 ? '' : '\n') + toLine(batch[i]!);
    this.drainer.enqueue(text, batch.length, onAccepted);
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
    this.drainer.enqueue(events.map(alarmEventLine).join('\n'), events.length, () => undefined);
  }

  /** Resolves once everything written so far is in InfluxDB. */
  flush(): Promise<void> {
    return this.drainer.flush();
  }

  /** Acknowledged batches not yet in InfluxDB stay in the spool and are sent after the next start. */
  close(): Promise<void> {
    this.drainer.close();
    this.spool.close();
    return Promise.resolve();
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
    return { kind: 'influxdb', ok: availability.ok && full === '', detail: `${state}; ${lines} lines spooled${age}${full}${refused}` };
  }

  private async influxql(statement: string): Promise<unknown[][]> {
    const path = `/query?db=${encodeURIComponent(this.opts.db)}&epoch=ms&q=${encodeURIComponent(statement)}`;
    const body = (await this.transport.request(path, '', { method: 'GET' })) as { results?: { series?: { values: unknown[][] }[]; error?: string }[] };
    const result = body.results?.[0];
    if (result?.error) throw new Error(`InfluxQL: ${result.error}`);
    return result?.series?.[0]?.values ?? [];
  }

  private async post(body: string): Promise<void> {
    try {
      await this.transport.request(this.writePath, body, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    } catch (err) {
      throw writeFailure(err);
    }
  }
}

/** Enterprises asked for at once after a restart: about 4,400 series at 88 points each. */
const LATEST_ENTERPRISES_PER_QUERY = 50;

/** An InfluxQL string literal. */
function quoted(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
