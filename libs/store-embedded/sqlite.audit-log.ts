import { createHash } from 'node:crypto';
import type { AuditEntry, AuditLog, AuditRecord, AuditVerification } from '#libs/contracts/index.js';
import { closeSqlite, openSqlite, type SqliteDb, type SqliteTransaction } from '#libs/sqlite/index.js';

const GENESIS = '0'.repeat(64);

interface Row {
  seq: number;
  at: string;
  actor: string;
  origin: string;
  action: string;
  alarm_id: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** The hash of an entry: SHA-256 over the previous hash and the entry's fields in a fixed order. */
export function entryHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const canonical = JSON.stringify([e.seq, e.at, e.actor, e.origin, e.action, e.alarmId, e.detail]);
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/**
 * Append-only audit log, each entry chained to the one before by hash, so an edited or deleted entry breaks the
 * chain at that point (verify). The head hash, kept elsewhere, also guards the tail. It lives in the alarm
 * database (pass its handle) so an alarm change and its audit entry commit in one transaction.
 */
export class SqliteAuditLog implements AuditLog {
  private readonly db: SqliteDb;
  private readonly owned: boolean;
  private readonly appendAll: SqliteTransaction<(records: readonly AuditRecord[]) => void>;

  constructor(fileOrDb: string | SqliteDb) {
    this.owned = typeof fileOrDb === 'string';
    this.db = typeof fileOrDb === 'string' ? openSqlite(fileOrDb) : fileOrDb;
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, origin TEXT NOT NULL, action TEXT NOT NULL,
      alarm_id TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_alarm ON audit (alarm_id, seq);`);
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    const insert = this.db.prepare('INSERT INTO audit (seq, at, actor, origin, action, alarm_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.appendAll = this.db.transaction((records: readonly AuditRecord[]) => {
      const head = last.get() as { seq: number; hash: string } | undefined;
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS;
      for (const r of records) {
        seq++;
        const hash = entryHash(prevHash, { seq, at: r.at, actor: r.actor, origin: r.origin, action: r.action, alarmId: r.alarmId, detail: r.detail });
        insert.run(seq, r.at, r.actor, r.origin, r.action, r.alarmId, JSON.stringify(r.detail), prevHash, hash);
        prevHash = hash;
      }
    });
  }

  append(records: readonly AuditRecord[]): void {
    // IMMEDIATE takes the write lock first (waiting out another writer, such as `npm run users`), instead of
    // failing at once when a read had to become a write.
    if (records.length > 0) this.appendAll.immediate(records);
  }

  list(filter: { alarmId?: string; offset: number; limit: number }): { total: number; items: AuditEntry[] } {
    const where = filter.alarmId === undefined ? '' : 'WHERE alarm_id = ?';
    const args = filter.alarmId === undefined ? [] : [filter.alarmId];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM audit ${where}`).get(...args) as { n: number };
    const rows = this.db.prepare(`SELECT * FROM audit ${where} ORDER BY seq LIMIT ? OFFSET ?`).all(...args, filter.limit, filter.offset) as Row[];
    return { total: n, items: rows.map(toEntry) };
  }

  verify(): AuditVerification {
    let prevHash = GENESIS;
    let expected = 1;
    for (const row of this.db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<Row>) {
      const e = toEntry(row);
      const fail = (reason: string): AuditVerification => ({ ok: false, entries: expected - 1, head: prevHash, problem: { seq: e.seq, reason } });
      if (e.seq !== expected) return fail(`entry ${expected}${e.seq > expected + 1 ? `–${e.seq - 1}` : ''} missing (deleted?)`);
      if (e.prevHash !== prevHash) return fail('does not chain to the entry before it');
      if (entryHash(prevHash, e) !== e.hash) return fail('content does not match its hash (edited?)');
      prevHash = e.hash;
      expected++;
    }
    return { ok: true, entries: expected - 1, head: prevHash, problem: null };
  }

  close(): void {
    if (this.owned) closeSqlite(this.db);
  }
}

function toEntry(r: Row): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    origin: r.origin,
    action: r.action as AuditEntry['action'],
    alarmId: r.alarm_id,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
