import { UNHANDLED, type Alarm, type AlarmFilter, type AlarmStore, type DeadLetter, type MaintenanceWindow, type RiskHistoryEntry, type StoreHealth } from '#libs/contracts/index.js';
import { closeSqlite, openSqlite, type SqliteDb, type SqliteSync } from '#libs/sqlite/index.js';

const DEAD_LETTERS_KEPT = 10_000;

/**
 * Durable alarm state, audit log (same database), risk history, maintenance windows and dead-letter records; every
 * save is committed before it returns, and with `full` (the default) fsynced, so it survives a power loss too.
 */
export class SqliteAlarmStore implements AlarmStore {
  readonly db: SqliteDb;
  private readonly upsertAll: (alarms: readonly Alarm[]) => void;
  private readonly insertDeadLetter: (letter: DeadLetter) => void;
  private readonly insertRiskChanges: (changes: readonly RiskHistoryEntry[]) => void;
  private deadLetterInserts = 0;

  constructor(file: string, sync: SqliteSync = 'full') {
    this.db = openSqlite(file, sync);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS alarms (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, raised_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS alarms_status ON alarms (status, updated_at);
      CREATE TABLE IF NOT EXISTS dead_letters (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
        topic TEXT NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS risk_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, enterprise TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS risk_changes_enterprise ON risk_changes (enterprise, seq);
      CREATE TABLE IF NOT EXISTS maintenance (enterprise TEXT NOT NULL, point TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (enterprise, point));`);
    const columns = this.db.prepare('PRAGMA table_info(alarms)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'closed_at')) {
      // Alarms stored before the closed loop existed: a cleared one was final then, so it is closed now.
      this.db.exec(`ALTER TABLE alarms ADD COLUMN closed_at TEXT;
        UPDATE alarms SET closed_at = updated_at WHERE status IN ('CLEARED_UNACK', 'CLEARED_ACK');`);
    }
    this.db.exec('CREATE INDEX IF NOT EXISTS alarms_open ON alarms (closed_at, raised_at); CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_at)');
    const upsert = this.db.prepare(
      `INSERT INTO alarms (id, status, raised_at, updated_at, closed_at, body) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, closed_at = excluded.closed_at, body = excluded.body`,
    );
    this.upsertAll = this.db.transaction((alarms: readonly Alarm[]) => {
      for (const a of alarms) upsert.run(a.id, a.status, a.raisedAt, a.updatedAt, a.closedAt, JSON.stringify(a));
    });
    const insertDl = this.db.prepare('INSERT INTO dead_letters (at, reason, detail, topic, payload) VALUES (?, ?, ?, ?, ?)');
    this.insertDeadLetter = (l) => insertDl.run(l.at, l.reason, l.detail, l.topic, l.payloadExcerpt);
    const insertRisk = this.db.prepare('INSERT INTO risk_changes (at, enterprise, body) VALUES (?, ?, ?)');
    this.insertRiskChanges = this.db.transaction((changes: readonly RiskHistoryEntry[]) => {
      for (const c of changes) insertRisk.run(c.at, c.enterpriseCode, JSON.stringify(c));
    });
  }

  loadOpen(): Alarm[] {
    return this.bodies(this.db.prepare('SELECT body FROM alarms WHERE closed_at IS NULL ORDER BY raised_at').all());
  }

  get(id: string): Alarm | undefined {
    return this.bodies(this.db.prepare('SELECT body FROM alarms WHERE id = ?').all(id))[0];
  }

  query(f: AlarmFilter): { total: number; items: Alarm[] } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, ...values: (string | number)[]): void => {
      where.push(sql);
      args.push(...values);
    };
    if (f.state === 'active') add("status IN ('ACTIVE_UNACK', 'ACTIVE_ACK')");
    else if (f.state === 'open') add('closed_at IS NULL');
    else if (f.state === 'closed') add('closed_at IS NOT NULL');
    if (f.status !== undefined) add('status = ?', f.status);
    for (const [field, value] of [['severity', f.severity], ['condition', f.condition], ['enterpriseCode', f.enterpriseCode], ['hazardSourceCode', f.hazardSourceCode]] as const) {
      if (value !== undefined) add(`json_extract(body, '$.${field}') = ?`, value);
    }
    if (f.enterpriseCodes !== undefined) add(`json_extract(body, '$.enterpriseCode') IN (${f.enterpriseCodes.map(() => '?').join(', ') || 'NULL'})`, ...f.enterpriseCodes);
    if (f.from !== undefined) add('raised_at >= ?', new Date(f.from).toISOString());
    if (f.to !== undefined) add('raised_at <= ?', new Date(f.to).toISOString());
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM alarms ${clause}`).get(...args) as { n: number };
    const rows = this.db.prepare(`SELECT body FROM alarms ${clause} ORDER BY raised_at DESC, id LIMIT ? OFFSET ?`).all(...args, f.limit, f.offset);
    return { total: n, items: this.bodies(rows) };
  }

  saveAll(alarms: readonly Alarm[]): void {
    this.upsertAll(alarms);
  }

  /** IMMEDIATE: the write lock first, so that another writer of the file (`npm run users` auditing) is waited for, not failed on. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
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

  loadMaintenance(): MaintenanceWindow[] {
    return (this.db.prepare('SELECT body FROM maintenance').all() as { body: string }[]).map((r) => JSON.parse(r.body) as MaintenanceWindow);
  }

  saveMaintenance(w: MaintenanceWindow): void {
    this.db.prepare('INSERT OR REPLACE INTO maintenance (enterprise, point, body) VALUES (?, ?, ?)').run(w.enterpriseCode, w.pointCode, JSON.stringify(w));
  }

  removeMaintenance(enterpriseCode: string, pointCode: string): void {
    this.db.prepare('DELETE FROM maintenance WHERE enterprise = ? AND point = ?').run(enterpriseCode, pointCode);
  }

  recordRiskChanges(changes: readonly RiskHistoryEntry[]): void {
    this.insertRiskChanges(changes);
  }

  riskHistory(filter: { enterpriseCode?: string; offset: number; limit: number }): { total: number; items: RiskHistoryEntry[] } {
    const where = filter.enterpriseCode === undefined ? '' : 'WHERE enterprise = ?';
    const args = filter.enterpriseCode === undefined ? [] : [filter.enterpriseCode];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM risk_changes ${where}`).get(...args) as { n: number };
    const rows = this.db.prepare(`SELECT body FROM risk_changes ${where} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...args, filter.limit, filter.offset) as { body: string }[];
    return { total: n, items: rows.map((r) => JSON.parse(r.body) as RiskHistoryEntry) };
  }

  /**
   * Forgets what is older than `before` (epoch ms): closed alarms, risk history and dead letters. The audit log is
   * never pruned: it keeps every step of every alarm, forgotten or not.
   */
  prune(before: number): { alarms: number; riskChanges: number; deadLetters: number } {
    const iso = new Date(before).toISOString();
    return this.db.transaction(() => ({
      alarms: this.db.prepare('DELETE FROM alarms WHERE closed_at IS NOT NULL AND closed_at < ?').run(iso).changes,
      riskChanges: this.db.prepare('DELETE FROM risk_changes WHERE at < ?').run(iso).changes,
      deadLetters: this.db.prepare('DELETE FROM dead_letters WHERE at < ?').run(iso).changes,
    }))();
  }

  close(): void {
    closeSqlite(this.db);
  }

  health(): StoreHealth {
    return { kind: 'embedded-sqlite', ok: this.db.open };
  }

  private bodies(rows: unknown[]): Alarm[] {
    return (rows as { body: string }[]).map((r) => upgraded(JSON.parse(r.body) as Alarm | LimitAlarmV1));
  }
}

/** An alarm as stored before the rule core had conditions other than limits (one per point and side). */
interface LimitAlarmV1 extends Omit<Alarm, 'detectedAt' | 'key' | 'originatorKind' | 'originatorCode' | 'condition' | 'name' | 'level' | 'message' | 'chattering' | 'floodKey' | keyof typeof UNHANDLED> {
  readonly side: 'high' | 'low';
  readonly type: 'HH' | 'H' | 'L' | 'LL';
  readonly pointCode: string;
}

function upgraded(a: Alarm | LimitAlarmV1): Alarm {
  // Alarms stored before `detectedAt` existed count their escalation from `raisedAt`, as they did then.
  // Alarms stored before the closed loop existed take its fields as an alarm nobody has handled yet.
  if (!('side' in a)) return { ...UNHANDLED, ...a, detectedAt: a.detectedAt ?? a.raisedAt };
  const { side, type, ...rest } = a;
  return {
    ...UNHANDLED,
    ...rest,
    detectedAt: a.raisedAt,
    closedAt: a.clearedAt,
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
