import type { Reading, ReadingBatch, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import { BatchWriter } from '#libs/batching/index.js';
import { openSqlite, type SqliteDb } from './sqlite.js';

export interface StoredReading {
  readonly enterpriseCode: string;
  readonly pointCode: string;
  readonly ts: number;
  readonly value: number;
  readonly quality: 'good' | 'bad';
}

/**
 * Embedded series store (used when no InfluxDB is configured). A reading is keyed by (enterprise, point, ts),
 * so a replayed reading overwrites itself, as it does in InfluxDB.
 */
export class SqliteSeriesStore implements SeriesStore {
  private readonly db: SqliteDb;
  private readonly writer: BatchWriter<Reading>;
  private readonly insertMany: (rows: Reading[]) => void;

  constructor(file: string, opts: { maxBatch?: number; flushMs?: number; maxBuffered?: number } = {}) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS readings (
      enterprise TEXT NOT NULL, point TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, bad INTEGER NOT NULL,
      PRIMARY KEY (enterprise, point, ts)) WITHOUT ROWID`);
    const insert = this.db.prepare('INSERT OR REPLACE INTO readings (enterprise, point, ts, value, bad) VALUES (?, ?, ?, ?, ?)');
    this.insertMany = this.db.transaction((rows: Reading[]) => {
      for (const r of rows) insert.run(r.point.enterpriseCode, r.point.code, Math.round(r.ts), r.value, r.quality === 'bad' ? 1 : 0);
    });
    this.writer = new BatchWriter<Reading>({
      maxBatch: opts.maxBatch ?? 5000,
      flushMs: opts.flushMs ?? 100,
      maxInFlight: 1,
      maxBuffered: opts.maxBuffered ?? 50_000,
      send: (rows) => {
        this.insertMany(rows);
        return Promise.resolve();
      },
    });
  }

  write(batch: ReadingBatch, onAccepted: () => void): void {
    this.writer.add(batch, onAccepted);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    this.db.close();
  }

  health(): StoreHealth {
    return { kind: 'embedded-sqlite', ok: this.writer.error === null, detail: this.writer.error ?? `${this.writer.bufferedItems} readings buffered` };
  }

  /** Readings of one point between two instants (inclusive), oldest first. */
  query(enterpriseCode: string, pointCode: string, from: number, to: number): StoredReading[] {
    const rows = this.db
      .prepare('SELECT ts, value, bad FROM readings WHERE enterprise = ? AND point = ? AND ts BETWEEN ? AND ? ORDER BY ts')
      .all(enterpriseCode, pointCode, from, to) as { ts: number; value: number; bad: number }[];
    return rows.map((r) => ({ enterpriseCode, pointCode, ts: r.ts, value: r.value, quality: r.bad ? 'bad' : 'good' }));
  }
}
