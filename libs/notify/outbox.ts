import type { Delivery, DeliveryRecord, DeliveryState } from '#libs/contracts/index.js';
import { closeSqlite, openSqlite, type SqliteDb } from '#libs/sqlite/index.js';

interface Row {
  id: number;
  state: DeliveryState;
  attempts: number;
  created_at: number;
  next_at: number | null;
  sent_at: number | null;
  last_error: string | null;
  body: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function recordOf(r: Row): DeliveryRecord {
  const d = JSON.parse(r.body) as Delivery;
  return { ...d, id: r.id, state: r.state, attempts: r.attempts, createdAt: iso(r.created_at)!, nextAt: iso(r.next_at), sentAt: iso(r.sent_at), lastError: r.last_error };
}

/**
 * The durable outbox of notifications (SQLite, synchronous = FULL): a message is stored before anything tries to
 * send it, so a crash between deciding and sending costs nothing; after a restart the pending ones go out.
 */
export class Outbox {
  private readonly db: SqliteDb;

  constructor(file: string) {
    this.db = openSqlite(file, 'full');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS delivery (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        next_at INTEGER,
        sent_at INTEGER,
        last_error TEXT,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        alarm_id TEXT NOT NULL,
        alarm_key TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS delivery_due ON delivery(state, next_at);
      CREATE INDEX IF NOT EXISTS delivery_alarm ON delivery(alarm_id);
      CREATE INDEX IF NOT EXISTS delivery_to ON delivery(channel, recipient, created_at);
    `);
  }

  /** Stores decided messages in one transaction: `pending` to send, or `held` for a later summary. */
  add(items: readonly { readonly delivery: Delivery; readonly state: 'pending' | 'held' }[], now: number): number[] {
    const insert = this.db.prepare(
      'INSERT INTO delivery (state, created_at, next_at, channel, recipient, alarm_id, alarm_key, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const ids: number[] = [];
    this.db.transaction(() => {
      for (const { delivery: d, state } of items) {
        ids.push(Number(insert.run(state, now, state === 'pending' ? now : null, d.channel, recipientKey(d), d.alarmId, d.alarmKey, JSON.stringify(d)).lastInsertRowid));
      }
    })();
    return ids;
  }

  /** Pending messages due by `now`, oldest first. */
  due(now: number, limit: number): DeliveryRecord[] {
    return (this.db.prepare("SELECT * FROM delivery WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?").all(now, limit) as Row[]).map(recordOf);
  }

  /** When the next pending message is due (null: none). */
  nextDue(): number | null {
    const row = this.db.prepare("SELECT MIN(next_at) AS t FROM delivery WHERE state = 'pending'").get() as { t: number | null };
    return row.t;
  }

  sent(id: number, now: number): void {
    this.db.prepare("UPDATE delivery SET state = 'sent', sent_at = ?, attempts = attempts + 1, next_at = NULL, last_error = NULL WHERE id = ?").run(now, id);
  }

  /** A failed attempt: retried at `retryAt`, or marked failed for good when that is null. */
  failed(id: number, error: string, retryAt: number | null): void {
    this.db
      .prepare('UPDATE delivery SET state = ?, attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?')
      .run(retryAt === null ? 'failed' : 'pending', retryAt, error.slice(0, 500), id);
  }

  /** Messages stored (any state but held/folded) to this recipient on this channel since `since`. */
  countTo(channel: string, recipient: string, since: number): number {
    const row = this.db.prepare("SELECT COUNT(*) AS n FROM delivery WHERE channel = ? AND recipient = ? AND created_at >= ? AND state IN ('pending', 'sent', 'failed')").get(channel, recipient, since) as { n: number };
    return row.n;
  }

  /** Whether this recipient was told of this alarm condition on this channel since `since`. */
  toldOf(channel: string, recipient: string, alarmKey: string, since: number): boolean {
    return this.db.prepare("SELECT 1 FROM delivery WHERE channel = ? AND recipient = ? AND alarm_key = ? AND created_at >= ? AND state IN ('pending', 'sent', 'failed') LIMIT 1").get(channel, recipient, alarmKey, since) !== undefined;
  }

  /** Held messages whose first was held before `before`, grouped per channel, recipient and alarm condition. */
  heldGroups(before: number): { channel: string; recipient: string; alarmKey: string; ids: number[]; last: Delivery }[] {
    const rows = this.db.prepare("SELECT * FROM delivery WHERE state = 'held' ORDER BY id").all() as (Row & { channel: string; recipient: string; alarm_key: string })[];
    const groups = new Map<string, { channel: string; recipient: string; alarmKey: string; ids: number[]; first: number; last: Row }>();
    for (const r of rows) {
      const k = `${r.channel}\u0000${r.recipient}\u0000${r.alarm_key}`;
      const g = groups.get(k) ?? { channel: r.channel, recipient: r.recipient, alarmKey: r.alarm_key, ids: [], first: r.created_at, last: r };
      g.ids.push(r.id);
      g.last = r;
      groups.set(k, g);
    }
    return [...groups.values()].filter((g) => g.first < before).map((g) => ({ channel: g.channel, recipient: g.recipient, alarmKey: g.alarmKey, ids: g.ids, last: JSON.parse(g.last.body) as Delivery }));
  }

  /** Folds held messages into the summary stored in their place, in one transaction. */
  fold(ids: readonly number[], summary: Delivery, now: number): number {
    let id = 0;
    this.db.transaction(() => {
      const mark = this.db.prepare("UPDATE delivery SET state = 'folded' WHERE id = ? AND state = 'held'");
      for (const i of ids) mark.run(i);
      id = this.add([{ delivery: summary, state: 'pending' }], now)[0]!;
    })();
    return id;
  }

  forAlarm(alarmId: string): DeliveryRecord[] {
    return (this.db.prepare('SELECT * FROM delivery WHERE alarm_id = ? ORDER BY id').all(alarmId) as Row[]).map(recordOf);
  }

  counts(): Record<DeliveryState, number> {
    const out: Record<DeliveryState, number> = { pending: 0, sent: 0, failed: 0, held: 0, folded: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM delivery GROUP BY state').all() as { state: DeliveryState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  close(): void {
    closeSqlite(this.db);
  }
}

/** One person on one channel: by phone, else e-mail, else name. */
export function recipientKey(d: Pick<Delivery, 'recipient'>): string {
  return d.recipient.phone ?? d.recipient.email ?? d.recipient.name;
}
