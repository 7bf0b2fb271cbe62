import type { Alarm, AlarmStore, DeadLetter, StoreHealth } from '#libs/contracts/index.js';
import { openSqlite, type SqliteDb } from '#libs/sqlite/index.js';

const DEAD_LETTERS_KEPT = 10_000;

/** Durable alarm state and dead-letter records; every save is committed before it returns. */
export class SqliteAlarmStore implements AlarmStore {
  private readonly db: SqliteDb;
  private readonly upsertAll: (alarms: readonly Alarm[]) => void;
  private readonly insertDeadLetter: (letter: DeadLetter) => void;
  private deadLetterInserts = 0;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS alarms (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, raised_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS alarms_status ON alarms (status, updated_at);
      CREATE TABLE IF NOT EXISTS dead_letters (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
        topic TEXT NOT NULL, payload TEXT NOT NULL);`);
    const upsert = this.db.prepare(
      `INSERT INTO alarms (id, status, raised_at, updated_at, body) VALUES (@id, @status, @raisedAt, @updatedAt, @body)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, body = excluded.body`,
    );
    this.upsertAll = this.db.transaction((alarms: readonly Alarm[]) => {
      for (const a of alarms) upsert.run({ id: a.id, status: a.status, raisedAt: a.raisedAt, updatedAt: a.updatedAt, body: JSON.stringify(a) });
    });
    const insertDl = this.db.prepare('INSERT INTO dead_letters (at, reason, detail, topic, payload) VALUES (?, ?, ?, ?, ?)');
    this.insertDeadLetter = (l) => insertDl.run(l.at, l.reason, l.detail, l.topic, l.payloadExcerpt);
  }

  loadActive(): Alarm[] {
    return this.bodies(this.db.prepare("SELECT body FROM alarms WHERE status IN ('ACTIVE_UNACK', 'ACTIVE_ACK') ORDER BY raised_at").all());
  }

  list(filter: { status?: 'active' | 'all'; limit: number }): Alarm[] {
    const rows =
      filter.status === 'active'
        ? this.db.prepare("SELECT body FROM alarms WHERE status IN ('ACTIVE_UNACK', 'ACTIVE_ACK') ORDER BY updated_at DESC LIMIT ?").all(filter.limit)
        : this.db.prepare('SELECT body FROM alarms ORDER BY updated_at DESC LIMIT ?').all(filter.limit);
    return this.bodies(rows);
  }

  saveAll(alarms: readonly Alarm[]): void {
    this.upsertAll(alarms);
  }

  recordDeadLetter(letter: DeadLetter): void {
    this.insertDeadLetter(letter);
    if (++this.deadLetterInserts % 1000 === 0) {
      this.db.prepare('DELETE FROM dead_letters WHERE seq <= (SELECT MAX(seq) FROM dead_letters) - ?').run(DEAD_LETTERS_KEPT);
    }
  }

  listDeadLetters(limit: number): DeadLetter[] {
    const rows = this.db
      .prepare('SELECT at, reason, detail, topic, payload FROM dead_letters ORDER BY seq DESC LIMIT ?')
      .all(limit) as { at: string; reason: DeadLetter['reason']; detail: string; topic: string; payload: string }[];
    return rows.map((r) => ({ at: r.at, reason: r.reason, detail: r.detail, topic: r.topic, payloadExcerpt: r.payload }));
  }

  close(): void {
    this.db.close();
  }

  health(): StoreHealth {
    return { kind: 'embedded-sqlite', ok: this.db.open };
  }

  private bodies(rows: unknown[]): Alarm[] {
    return (rows as { body: string }[]).map((r) => upgraded(JSON.parse(r.body) as Alarm | LimitAlarmV1));
  }
}

/** An alarm as stored before the rule core had conditions other than limits (one per point and side). */
interface LimitAlarmV1 extends Omit<Alarm, 'key' | 'originatorKind' | 'originatorCode' | 'condition' | 'name' | 'level' | 'message' | 'chattering' | 'floodKey'> {
  readonly side: 'high' | 'low';
  readonly type: 'HH' | 'H' | 'L' | 'LL';
  readonly pointCode: string;
}

function upgraded(a: Alarm | LimitAlarmV1): Alarm {
  if (!('side' in a)) return a;
  const { side, type, ...rest } = a;
  return {
    ...rest,
    key: `${a.enterpriseCode}/point:${a.pointCode}/limit_${side}`,
    originatorKind: 'point',
    originatorCode: a.pointCode,
    condition: side === 'high' ? 'limit_high' : 'limit_low',
    name: null,
    level: type,
    message: `${a.pointCode}: ${a.value} ${a.unit ?? ''} (${type})`,
    chattering: false,
    floodKey: null,
  };
}
