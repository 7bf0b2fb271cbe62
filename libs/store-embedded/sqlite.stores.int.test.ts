import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmBook } from '#libs/alarms/index.js';
import { aLimitChange, anAlarm, aPoint, aReading } from '#libs/testing/builders.js';
import { seriesStoreContract } from '#libs/testing/series-store.contract.js';
import { SqliteAlarmStore } from './sqlite.alarm-store.js';
import { SqliteAuditLog } from './sqlite.audit-log.js';
import Database from 'better-sqlite3';
import type { AuditRecord } from '#libs/contracts/index.js';
import { SqliteSeriesStore } from './sqlite.series-store.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sentinel-sqlite-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteSeriesStore', () => {
  seriesStoreContract(() => Promise.resolve(new SqliteSeriesStore(join(tempDir(), 'contract.db'))));

  it('keeps every reading on disk across a reopen, and a replayed reading once', async () => {
    const file = join(tempDir(), 'series.db');
    const point = aPoint();
    let store = new SqliteSeriesStore(file);
    const batch = Array.from({ length: 1000 }, (_, i) => aReading(point, i, 1000 + i));
    // Acknowledged only once committed: after the ack, the readings are on disk.
    const acked = Promise.all([batch, batch.slice(0, 10)].map((b) => new Promise<void>((resolve) => store.write(b, resolve))));
    await acked;
    await store.close();
    store = new SqliteSeriesStore(file);
    const result = await store.query({ enterpriseCode: point.enterpriseCode, pointCode: point.code, from: 0, to: 10_000, stepMs: null, limit: 5000 });
    const rows = result.stepMs === null ? result.samples : [];
    expect(rows).toHaveLength(1000);
    expect(rows[999]).toEqual({ ts: 1999, value: 999, quality: 'good' });
    await store.close();
  });
});

describe('SqliteSeriesStore retention', () => {
  it('deletes readings older than the retention at open, and on demand', async () => {
    const file = join(tempDir(), 'series.db');
    const day = 86_400_000;
    const now = Date.parse('2026-11-25T00:00:00Z');
    const point = aPoint();
    let store = new SqliteSeriesStore(file);
    await new Promise<void>((acked) => store.write([aReading(point, 1, now - 100 * day), aReading(point, 2, now - 89 * day), aReading(point, 3, now - day)], acked));
    await store.close();
    store = new SqliteSeriesStore(file, { retentionMs: 90 * day, now: () => now });
    const all = { enterpriseCode: point.enterpriseCode, pointCode: point.code, from: 0, to: now, stepMs: null, limit: 10 };
    expect((await store.query(all)).samples.map((s) => s.ts)).toEqual([now - 89 * day, now - day]);
    expect(store.pruneOlderThan(now - 2 * day)).toBe(1);
    expect((await store.query(all)).samples.map((s) => s.ts)).toEqual([now - day]);
    await store.close();
  });
});

describe('SqliteAlarmStore', () => {
  it('prunes closed alarms, risk history and dead letters older than the retention, never open alarms or the audit log', () => {
    const store = new SqliteAlarmStore(join(tempDir(), 'alarms.db'));
    const audit = new SqliteAuditLog(store.db);
    const old = '2025-01-01T00:00:00.000Z';
    const recent = '2026-11-01T00:00:00.000Z';
    store.saveAll([anAlarm({ id: 'closed-old', closedAt: old }, old), anAlarm({ id: 'open-old', key: 'k2' }, old), anAlarm({ id: 'closed-recent', closedAt: recent }, recent)]);
    store.recordRiskChanges([{ at: old, enterpriseCode: 'E', hazardSourceCode: null, from: null, to: 'blue', score: 0, reasons: [] }]);
    store.recordDeadLetter({ reason: 'bad_json', detail: 'd', topic: 't', payloadExcerpt: 'p', at: old });
    store.recordDeadLetter({ reason: 'bad_json', detail: 'd', topic: 't', payloadExcerpt: 'p', at: recent });
    audit.append([{ at: old, actor: 'system', origin: 'system', action: 'raise', alarmId: 'closed-old', detail: {} }]);
    expect(store.prune(Date.parse('2026-01-01T00:00:00Z'))).toEqual({ alarms: 1, riskChanges: 1, deadLetters: 1 });
    expect(store.query({ state: 'all', offset: 0, limit: 10 }).items.map((a) => a.id).sort()).toEqual(['closed-recent', 'open-old']);
    expect(store.listDeadLetters(10)).toHaveLength(1);
    expect(audit.list({ offset: 0, limit: 10 }).total).toBe(1);
    store.close();
  });

  it('commits alarms and audit with synchronous=FULL by default (a commit survives a power loss), NORMAL when asked', () => {
    const full = new SqliteAlarmStore(join(tempDir(), 'alarms.db'));
    const normal = new SqliteAlarmStore(join(tempDir(), 'alarms-normal.db'), 'normal');
    expect([full.db.pragma('synchronous', { simple: true }), full.db.pragma('journal_mode', { simple: true })]).toEqual([2, 'wal']);
    expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    full.close();
    normal.close();
  });

  const policy = { bySeverity: { critical: null, major: null, minor: null, warning: null }, disposalRequired: [], maxShelveS: 60 } as const;

  it('keeps open alarms and dead letters across a reopen, and answers filtered, paged queries', () => {
    const file = join(tempDir(), 'alarms.db');
    let store = new SqliteAlarmStore(file);
    let n = 0;
    const book = new AlarmBook([], policy, () => undefined, () => `alarm-${++n}`);
    const point = aPoint();
    const raised = book.apply(aLimitChange(point, null, 'HH', 55, 1000))[0]!.alarm;
    const other = book.apply(aLimitChange(aPoint({ code: 'T102-TE' }), null, 'H', 45, 2000))[0]!.alarm;
    store.saveAll([raised, other]);
    store.recordDeadLetter({ reason: 'bad_json', detail: 'x', topic: 't', payloadExcerpt: '{', at: '2026-11-25T00:00:00.000Z' });
    store.close();

    store = new SqliteAlarmStore(file);
    expect(store.loadOpen()).toEqual([raised, other]);
    const reopened = new AlarmBook(store.loadOpen(), policy);
    const cleared = reopened.apply(aLimitChange(point, 'HH', null, 30, 3000))[0]!.alarm;
    expect(cleared).toMatchObject({ id: 'alarm-1', status: 'CLEARED_UNACK', clearedAt: '1970-01-01T00:00:03.000Z' });
    const acked = reopened.act('alarm-1', { kind: 'ack', by: 'wang' }, '1970-01-01T00:00:04.000Z');
    expect(acked.ok && acked.alarm.closedAt).toBe('1970-01-01T00:00:04.000Z');
    if (acked.ok) store.saveAll([acked.alarm]);
    expect(store.loadOpen().map((a) => a.id)).toEqual(['alarm-2']);
    expect(store.get('alarm-1')).toMatchObject({ status: 'CLEARED_ACK', closedAt: '1970-01-01T00:00:04.000Z' });
    expect(store.query({ state: 'all', offset: 0, limit: 10 })).toMatchObject({ total: 2, items: [{ id: 'alarm-2' }, { id: 'alarm-1' }] });
    expect(store.query({ state: 'closed', offset: 0, limit: 10 }).items.map((a) => a.id)).toEqual(['alarm-1']);
    expect(store.query({ severity: 'critical', offset: 0, limit: 10 }).items.map((a) => a.id)).toEqual(['alarm-1']);
    expect(store.query({ enterpriseCodes: [], offset: 0, limit: 10 }).total).toBe(0);
    expect(store.query({ from: 1500, offset: 0, limit: 10 }).items.map((a) => a.id)).toEqual(['alarm-2']);
    expect(store.query({ state: 'all', offset: 1, limit: 1 })).toMatchObject({ total: 2, items: [{ id: 'alarm-1' }] });
    expect(store.listDeadLetters(5)).toMatchObject([{ reason: 'bad_json', topic: 't' }]);
    store.close();
  });
});

describe('SqliteAuditLog', () => {
  const record = (i: number): AuditRecord => ({ at: new Date(i * 1000).toISOString(), actor: i % 2 ? 'system' : 'wang', origin: 'system', action: 'raise', alarmId: `a${i}`, detail: { n: i } });

  it('chains every entry to the one before and finds an edited or a deleted entry', () => {
    const file = join(tempDir(), 'audit.db');
    const log = new SqliteAuditLog(file);
    log.append([record(1), record(2)]);
    log.append([record(3), record(4), record(5)]);
    const good = log.verify();
    expect(good).toMatchObject({ ok: true, entries: 5, problem: null });
    expect(log.list({ alarmId: 'a3', offset: 0, limit: 10 }).items).toMatchObject([{ seq: 3, actor: 'system', detail: { n: 3 } }]);
    log.close();

    const raw = new Database(file);
    raw.prepare("UPDATE audit SET actor = 'li' WHERE seq = 2").run();
    raw.close();
    const edited = new SqliteAuditLog(file);
    expect(edited.verify()).toMatchObject({ ok: false, problem: { seq: 2, reason: 'content does not match its hash (edited?)' } });
    edited.close();

    const raw2 = new Database(file);
    raw2.prepare("UPDATE audit SET actor = 'wang' WHERE seq = 2").run();
    raw2.prepare('DELETE FROM audit WHERE seq = 4').run();
    raw2.close();
    const cut = new SqliteAuditLog(file);
    expect(cut.verify()).toMatchObject({ ok: false, entries: 3, problem: { seq: 5, reason: 'entry 4 missing (deleted?)' } });
    cut.close();
  });
});
