import type { ReadingBatch, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import { openSqlite, type SqliteDb } from '#libs/sqlite/index.js';

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

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS readings (
      enterprise TEXT NOT NULL, point TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, bad INTEGER NOT NULL,
      PRIMARY KEY (enterprise, point, ts)) WITHOUT ROWID`);
    const insert = this.db.prepare('INSERT OR REPLACE INTO readings (enterprise, point, ts, value, bad) VALUES (?, ?, ?, ?, ?)');
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

  flush(): Promise<void> {
    this.commit();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.flush();
    this.db.close();
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

  /** Readings of one point between two instants (inclusive), oldest first. */
  query(enterpriseCode: string, pointCode: string, from: number, to: number): StoredReading[] {
    const rows = this.db
      .prepare('SELECT ts, value, bad FROM readings WHERE enterprise = ? AND point = ? AND ts BETWEEN ? AND ? ORDER BY ts')
      .all(enterpriseCode, pointCode, from, to) as { ts: number; value: number; bad: number }[];
    return rows.map((r) => ({ enterpriseCode, pointCode, ts: r.ts, value: r.value, quality: r.bad ? 'bad' : 'good' }));
  }
}
