import { SEVERITY_RANK, type AlarmSeverity, type Delivery, type DeliveryRecord, type DeliveryState } from '#libs/contracts/index.js';

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
      CREATE INDEX IF NOT EXISTS delivery_held ON delivery(state, channel, recipient, alarm_key);
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

  /**
   * A channel's pending messages due by `now`, oldest first. One scheduled implausibly far ahead (more than the
   * longest backoff) is due too: the wall clock went back since it was scheduled.
   */
  due(channel: string, now: number, maxBackoffMs: number, limit: number): DeliveryRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM delivery WHERE state = 'pending' AND channel = ? AND (next_at <= ? OR next_at > ?) ORDER BY next_at, id LIMIT ?")
        .all(channel, now, now + maxBackoffMs + 60_000, limit) as Row[]
    ).map(recordOf);
  }

  /** Pending messages of channels no longer configured: they fail with the reason at once. */
  dueUnknownChannel(known: readonly string[], now: number, limit: number): DeliveryRecord[] {
    const marks = known.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT * FROM delivery WHERE state = 'pending' AND next_at <= ? ${known.length > 0 ? `AND channel NOT IN (${marks})` : ''} LIMIT ?`).all(now, ...known, limit) as Row[]).map(recordOf);
  }

  /** The highest severity notified about this alarm (pending, sent or failed), for a rise after a restart. */
  severityNotified(alarmId: string): AlarmSeverity | undefined {
    const rows = this.db.prepare("SELECT body FROM delivery WHERE alarm_id = ? AND state IN ('pending', 'sent', 'failed')").all(alarmId) as { body: string }[];
    let best: AlarmSeverity | undefined;
    for (const r of rows) {
      const s = (JSON.parse(r.body) as Delivery).severity;
      if (best === undefined || SEVERITY_RANK[s] > SEVERITY_RANK[best]) best = s;
    }
    return best;
  }

  /** Deletes messages sent, failed or folded before `before`. */
  prune(before: number): void {
    this.db.prepare("DELETE FROM delivery WHERE state IN ('sent', 'failed', 'folded') AND created_at < ?").run(before);
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

  /**
   * The highest severity (as a rank, -1: none) this recipient was told of about this alarm condition on this
   * channel since `since`.
   */
  toldRank(channel: string, recipient: string, alarmKey: string, since: number): number {
    const rows = this.db
      .prepare("SELECT body FROM delivery WHERE channel = ? AND recipient = ? AND alarm_key = ? AND created_at >= ? AND state IN ('pending', 'sent', 'failed')")
      .all(channel, recipient, alarmKey, since) as { body: string }[];
    return rows.reduce((best, r) => Math.max(best, SEVERITY_RANK[(JSON.parse(r.body) as Delivery).severity]), -1);
  }

  /**
   * Held messages per channel, recipient and alarm condition whose first was held before `before` (or, the wall
   * clock having gone back, after `now`): their ids and the latest message.
   */
  heldGroups(before: number, now: number): { channel: string; recipient: string; alarmKey: string; ids: number[]; last: Delivery }[] {
    const groups = this.db
      .prepare("SELECT channel, recipient, alarm_key, MIN(created_at) AS first, MAX(id) AS last_id FROM delivery WHERE state = 'held' GROUP BY channel, recipient, alarm_key HAVING first < ? OR first > ?")
      .all(before, now + 60_000) as { channel: string; recipient: string; alarm_key: string; last_id: number }[];
    const ids = this.db.prepare("SELECT id FROM delivery WHERE state = 'held' AND channel = ? AND recipient = ? AND alarm_key = ?");
    const body = this.db.prepare('SELECT body FROM delivery WHERE id = ?');
    return groups.map((g) => ({
      channel: g.channel,
      recipient: g.recipient,
      alarmKey: g.alarm_key,
      ids: (ids.all(g.channel, g.recipient, g.alarm_key) as { id: number }[]).map((r) => r.id),
      last: JSON.parse((body.get(g.last_id) as { body: string }).body) as Delivery,
    }));
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
