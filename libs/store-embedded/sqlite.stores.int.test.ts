import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmBook } from '#libs/alarms/index.js';
import { aLimitChange, aPoint, aReading } from '#libs/testing/builders.js';
import { seriesStoreContract } from '#libs/testing/series-store.contract.js';
import { SqliteAlarmStore } from './sqlite.alarm-store.js';
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
  it('keeps alarms and dead letters across a reopen', () => {
    const file = join(tempDir(), 'alarms.db');
    let store = new SqliteAlarmStore(file);
    const book = new AlarmBook([], () => 'alarm-1');
    const point = aPoint();
    const raised = book.apply(aLimitChange(point, null, 'HH', 55, 1000))!.alarm;
    store.saveAll([raised]);
    store.recordDeadLetter({ reason: 'bad_json', detail: 'x', topic: 't', payloadExcerpt: '{', at: '2026-11-25T00:00:00.000Z' });
    store.close();

    store = new SqliteAlarmStore(file);
    expect(store.loadActive()).toEqual([raised]);
    const cleared = new AlarmBook(store.loadActive()).apply(aLimitChange(point, 'HH', null, 30, 2000))!.alarm;
    expect(cleared).toMatchObject({ id: 'alarm-1', status: 'CLEARED_UNACK', clearedAt: '1970-01-01T00:00:02.000Z' });
    store.saveAll([cleared]);
    expect(store.loadActive()).toEqual([]);
    expect(store.list({ status: 'all', limit: 10 })).toEqual([cleared]);
    expect(store.listDeadLetters(5)).toMatchObject([{ reason: 'bad_json', topic: 't' }]);
    store.close();
  });
});
