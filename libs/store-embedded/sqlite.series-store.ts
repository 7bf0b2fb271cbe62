import type { AggregateSample, Point, RawSample, Reading, ReadingBatch, SeriesQuery, SeriesResult, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import { closeSqlite, openSqlite, type SqliteDb } from '#libs/sqlite/index.js';

export interface StoredReading {
  readonly enterpriseCode: string;
  readonly pointCode: string;
  readonly ts: number;
  readonly value: number;
  readonly quality: 'good' | 'bad';
}

/**
 * Embedded series store (used when no InfluxDB is configured). A reading is keyed by (enterprise, point, ts),
 * so a replayed reading overwrites itself, as it does in InfluxDB. The batches of one event-loop turn are
 * committed in one transaction, and acknowledged once committed (durable on disk).
 */
export class SqliteSeriesStore implements SeriesStore {
  private readonly db: SqliteDb;
  private readonly insertAll: (batches: readonly ReadingBatch[]) => void;
  private pending: { batch: ReadingBatch; onAccepted: () => void }[] = [];
  private commitScheduled = false;
  private lastError: string | null = null;
  private readonly rawQuery;
  private readonly newest;
  private readonly bucketQuery;

  private readonly pruneTimer: NodeJS.Timeout | null = null;
  private readonly deleteBefore;

  /** `retentionMs`: readings older than this are deleted at open and every hour after. */
  constructor(file: string, opts: { retentionMs?: number; now?: () => number } = {}) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS readings (
      enterprise TEXT NOT NULL, point TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, bad INTEGER NOT NULL,
      PRIMARY KEY (enterprise, point, ts)) WITHOUT ROWID`);
    this.db.exec('CREATE INDEX IF NOT EXISTS readings_by_time ON readings (ts)');
    this.deleteBefore = this.db.prepare<[number]>('DELETE FROM readings WHERE ts < ?');
    const { retentionMs } = opts;
    if (retentionMs !== undefined) {
      const now = opts.now ?? Date.now;
      this.pruneOlderThan(now() - retentionMs);
      this.pruneTimer = setInterval(() => this.pruneOlderThan(now() - retentionMs), 3_600_000);
      this.pruneTimer.unref();
    }
    const insert = this.db.prepare('INSERT OR REPLACE INTO readings (enterprise, point, ts, value, bad) VALUES (?, ?, ?, ?, ?)');
    this.rawQuery = this.db.prepare<[string, string, number, number, number], { ts: number; value: number; bad: number }>(
      'SELECT ts, value, bad FROM readings WHERE enterprise = ? AND point = ? AND ts BETWEEN ? AND ? ORDER BY ts LIMIT ?',
    );
    // "last" is the value at the newest time of each bucket, found by joining back on the primary key.
    this.bucketQuery = this.db.prepare<[{ step: number; e: string; p: string; from: number; to: number }], { bucket: number; min: number; max: number; mean: number; last: number; count: number }>(`
      SELECT g.bucket, g.min, g.max, g.mean, r.value AS last, g.count FROM (
        SELECT ts - (ts % @step) AS bucket, min(value) AS min, max(value) AS max, avg(value) AS mean, count(*) AS count, max(ts) AS lastTs
        FROM readings WHERE enterprise = @e AND point = @p AND ts BETWEEN @from AND @to AND bad = 0 GROUP BY bucket) g
      JOIN readings r ON r.enterprise = @e AND r.point = @p AND r.ts = g.lastTs
      ORDER BY g.bucket`);
    this.newest = this.db.prepare<[string, string, number], { ts: number; value: number; bad: number }>(
      'SELECT ts, value, bad FROM readings WHERE enterprise = ? AND point = ? AND ts >= ? ORDER BY ts DESC LIMIT 1',
    );
    this.insertAll = this.db.transaction((batches: readonly ReadingBatch[]) => {
      for (const batch of batches) for (const r of batch) insert.run(r.point.enterpriseCode, r.point.code, Math.round(r.ts), r.value, r.quality === 'bad' ? 1 : 0);
    });
  }

  write(batch: ReadingBatch, onAccepted: () => void): void {
    this.pending.push({ batch, onAccepted });
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commit();
    });
  }

  /** One look-up by primary key per point: as cheap for a point that reported a second ago as a day ago. */
  latest(points: readonly Point[], since: number): Promise<Reading[]> {
    this.commit();
    const out: Reading[] = [];
    for (const point of points) {
      const row = this.newest.get(point.enterpriseCode, point.code, since);
      if (row) out.push({ point, ts: row.ts, value: row.value, quality: row.bad ? 'bad' : 'good' });
    }
    return Promise.resolve(out);
  }

  /** Nothing to do: the embedded alarm store (alarms.db) holds every alarm state already. */
  recordAlarmEvents(): void {}

  flush(): Promise<void> {
    this.commit();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.flush();
    closeSqlite(this.db);
  }

  /** Deletes readings stamped before `cutoff` (epoch ms); returns how many. */
  pruneOlderThan(cutoff: number): number {
    return this.deleteBefore.run(cutoff).changes;
  }

  health(): StoreHealth {
    return { kind: 'embedded-sqlite', ok: this.lastError === null, detail: this.lastError ?? 'writing' };
  }

  /** Commits what is pending; on a failed commit the batches stay pending (unacknowledged) for the next turn. */
  private commit(): void {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    try {
      this.insertAll(pending.map((p) => p.batch));
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      setTimeout(() => this.commit(), 1000).unref();
      return;
    }
    this.lastError = null;
    this.pending = this.pending.slice(pending.length);
    for (const p of pending) p.onAccepted();
  }

  query(q: SeriesQuery): Promise<SeriesResult> {
    this.commit();
    if (q.stepMs === null) {
      const rows = this.rawQuery.all(q.enterpriseCode, q.pointCode, q.from, q.to, q.limit + 1);
      const samples: RawSample[] = rows.slice(0, q.limit).map((r) => ({ ts: r.ts, value: r.value, quality: r.bad ? 'bad' : 'good' }));
      return Promise.resolve({ stepMs: null, samples, truncated: rows.length > q.limit });
    }
    const rows = this.bucketQuery.all({ step: q.stepMs, e: q.enterpriseCode, p: q.pointCode, from: q.from, to: q.to });
    const samples: AggregateSample[] = rows.map((r) => ({ ts: r.bucket, min: r.min, max: r.max, mean: r.mean, last: r.last, count: r.count }));
    return Promise.resolve({ stepMs: q.stepMs, samples, truncated: false });
  }
}
