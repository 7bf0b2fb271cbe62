import { openSqlite, type SqliteDb } from '#libs/sqlite/index.js';

export interface SpoolEntry {
  readonly id: number;
  /** Line protocol, one line per reading, joined by "\n". */
  readonly text: string;
  readonly lines: number;
}

export interface SpoolStats {
  readonly entries: number;
  readonly lines: number;
  readonly bytes: number;
  /** Epoch ms when the oldest entry still waiting was spooled; null when empty. */
  readonly oldestAt: number | null;
}

/**
 * A first-in first-out queue of line-protocol batches in a SQLite file. An entry is durable once `append`
 * returns (WAL, synchronous=NORMAL: it survives a crash of the process); it leaves only through `remove`, after
 * InfluxDB has taken it. Ids only grow, across restarts too, so reading in id order is reading in arrival order.
 */
export class LineSpool {
  private readonly db: SqliteDb;
  private readonly insertAll: (entries: readonly { text: string; lines: number }[], at: number) => SpoolEntry[];
  private readonly selectAfter;
  private readonly deleteOne;
  private readonly selectOldest;
  private counts = { entries: 0, lines: 0, bytes: 0 };

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, lines INTEGER NOT NULL, text TEXT NOT NULL)');
    const insert = this.db.prepare<[number, number, string]>('INSERT INTO spool (at, lines, text) VALUES (?, ?, ?)');
    this.insertAll = this.db.transaction((entries: readonly { text: string; lines: number }[], at: number) =>
      entries.map((e) => ({ id: Number(insert.run(at, e.lines, e.text).lastInsertRowid), text: e.text, lines: e.lines })),
    );
    this.selectAfter = this.db.prepare<[number, number], SpoolEntry>('SELECT id, text, lines FROM spool WHERE id > ? ORDER BY id LIMIT ?');
    this.deleteOne = this.db.prepare<[number]>('DELETE FROM spool WHERE id = ?');
    this.selectOldest = this.db.prepare<[], { at: number }>('SELECT at FROM spool ORDER BY id LIMIT 1');
    const row = this.db.prepare<[], { entries: number; lines: number | null; bytes: number | null }>('SELECT count(*) AS entries, sum(lines) AS lines, sum(length(CAST(text AS BLOB))) AS bytes FROM spool').get();
    this.counts = { entries: row?.entries ?? 0, lines: row?.lines ?? 0, bytes: row?.bytes ?? 0 };
  }

  /** Appends the entries in one transaction and returns them with their ids. */
  append(entries: readonly { text: string; lines: number }[], now: number = Date.now()): SpoolEntry[] {
    const stored = this.insertAll(entries, now);
    for (const e of stored) this.count(e, 1);
    return stored;
  }

  /** Entries after `afterId`, oldest first, up to about `maxLines` lines (always at least one when any is left). */
  readAfter(afterId: number, maxLines: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let lines = 0;
    let cursor = afterId;
    while (lines < maxLines) {
      const page = this.selectAfter.all(cursor, 64);
      if (page.length === 0) break;
      for (const e of page) {
        if (out.length > 0 && lines + e.lines > maxLines) return out;
        out.push(e);
        lines += e.lines;
        cursor = e.id;
      }
    }
    return out;
  }

  remove(entries: readonly SpoolEntry[]): void {
    this.db.transaction(() => {
      for (const e of entries) if (this.deleteOne.run(e.id).changes > 0) this.count(e, -1);
    })();
  }

  stats(): SpoolStats {
    return { ...this.counts, oldestAt: this.counts.entries === 0 ? null : (this.selectOldest.get()?.at ?? null) };
  }

  close(): void {
    this.db.close();
  }

  private count(e: SpoolEntry, sign: 1 | -1): void {
    this.counts.entries += sign;
    this.counts.lines += sign * e.lines;
    this.counts.bytes += sign * Buffer.byteLength(e.text);
  }
}
