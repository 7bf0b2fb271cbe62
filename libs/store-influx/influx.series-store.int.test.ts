import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aPoint, aReading } from '#libs/testing/builders.js';
import { seriesStoreContract } from '#libs/testing/series-store.contract.js';
import { startInfluxd, type InfluxService } from '#libs/testing/services.js';
import { AGGREGATE_POLICY, ROLLUPS, rollupSelect } from './downsampling.js';
import { InfluxSeriesStore, type InfluxStoreOptions } from './influx.series-store.js';
import type { Availability } from './spool-drainer.js';

const spoolDir = (): string => mkdtempSync(join(tmpdir(), 'sentinel-spool-'));

const reasonOf = (a: Availability): string => (a.ok ? 'ok' : a.reason);

async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

async function countOf(influx: InfluxService, db: string): Promise<number> {
  const rows = await influx.query('SELECT COUNT(value) FROM reading', db);
  return Number(rows[0]?.values[0]?.[1] ?? 0);
}

describe('InfluxSeriesStore against a real influxd', () => {
  let influx: InfluxService;
  const logged: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const options = (db: string, more: Partial<InfluxStoreOptions> = {}): InfluxStoreOptions => ({
    url: influx.url,
    db,
    token: null,
    spoolDir: spoolDir(),
    maxBackoffMs: 200,
    log: (level, msg, fields) => logged.push({ level, msg, fields }),
    ...more,
  });
  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  seriesStoreContract(async () => {
    const store = new InfluxSeriesStore(options('it_contract'));
    await store.ensureDatabase();
    return store;
  });

  it('writes every reading of many batches and reads them back with InfluxQL', async () => {
    const store = new InfluxSeriesStore(options('it_series', { maxBatch: 1000, maxInFlight: 2 }));
    await store.ensureDatabase();
    const point = aPoint({ code: 'T 101,TE=x' }); // escaping of tag values
    const other = aPoint({ code: 'P-201', type: 'pressure', hazardSourceCode: 'RX-1' });
    const t0 = Date.parse('2026-11-25T00:00:00Z');
    let accepted = 0;
    for (let b = 0; b < 10; b++) {
      const batch = Array.from({ length: 500 }, (_, i) => aReading(i % 2 ? other : point, b * 500 + i + 0.25, t0 + b * 500 + i, i === 3 ? 'bad' : 'good'));
      store.write(batch, () => accepted++);
    }
    await store.flush();
    expect(accepted).toBe(10);
    expect(store.health()).toMatchObject({ kind: 'influxdb', ok: true });
    expect(store.spoolStats()).toMatchObject({ entries: 0, lines: 0 });

    // Good readings are field `value`, bad ones `bad_value` (with quality "bad"): one series per point either way.
    const counts = await influx.query('SELECT COUNT(value), COUNT(bad_value) FROM reading GROUP BY point', 'it_series');
    const byPoint: Record<string, unknown[] | undefined> = Object.fromEntries(counts.map((s) => [s.tags?.point ?? '', s.values[0]?.slice(1)]));
    expect(byPoint['P-201']).toEqual([2490, 10]);
    expect(byPoint['T 101,TE=x']?.[0]).toBe(2500);

    const rows = await influx.query(`SELECT value, bad_value, quality, enterprise, hazard_source FROM reading WHERE point = 'P-201' ORDER BY time LIMIT 2`, 'it_series');
    expect(rows[0]?.values).toEqual([
      [t0 + 1, 1.25, null, null, other.enterpriseCode, 'RX-1'],
      [t0 + 3, null, 3.25, 'bad', other.enterpriseCode, 'RX-1'],
    ]);
    const tagKeys = await influx.query('SHOW TAG KEYS FROM reading', 'it_series');
    expect(tagKeys[0]?.values.map((v) => v[0])).toEqual(['enterprise', 'hazard_source', 'point']);
    await store.close();
  });

  it('acknowledges from its disk spool while influxd is down and delivers everything once it is back', async () => {
    const store = new InfluxSeriesStore(options('it_outage', { maxBatch: 700 }));
    await store.ensureDatabase();
    const point = aPoint();
    const t0 = Date.parse('2026-11-25T01:00:00Z');
    const write = (from: number, n: number): Promise<void> =>
      new Promise((acked) => store.write(Array.from({ length: n }, (_, i) => aReading(point, i, t0 + from + i)), acked));
    await write(0, 1000);
    await influx.pause();
    // Acknowledged while InfluxDB is unreachable: the spool on disk holds them.
    for (let b = 1; b <= 20; b++) await write(b * 1000, 1000);
    expect(store.spoolStats().lines).toBeGreaterThanOrEqual(20_000);
    expect(store.health().ok).toBe(false);
    expect(reasonOf(store.availability())).toMatch(/^InfluxDB unreachable: .*ECONNREFUSED/);
    await influx.resume();
    await store.flush();
    expect(await countOf(influx, 'it_outage')).toBe(21_000);
    expect(store.spoolStats()).toMatchObject({ entries: 0, lines: 0, bytes: 0, oldestAt: null });
    expect(store.health().ok).toBe(true);
    await store.close();
  });

  it('keeps acknowledged readings across a restart of Sentinel and sends them after it', async () => {
    const dir = spoolDir();
    const first = new InfluxSeriesStore(options('it_restart', { spoolDir: dir }));
    await first.ensureDatabase();
    await influx.pause();
    const t0 = Date.parse('2026-11-25T02:00:00Z');
    await new Promise<void>((acked) => first.write(Array.from({ length: 3000 }, (_, i) => aReading(aPoint(), i, t0 + i)), acked));
    await first.close();
    await influx.resume();
    const second = new InfluxSeriesStore(options('it_restart', { spoolDir: dir }));
    await second.flush();
    expect(await countOf(influx, 'it_restart')).toBe(3000);
    await second.close();
  });

  it('isolates a line the server refuses (field type conflict), keeps the rest of its batch and reports the line', async () => {
    const store = new InfluxSeriesStore(options('it_conflict'));
    await store.ensureDatabase();
    const t0 = Date.parse('2026-11-25T03:00:00Z');
    // A month earlier (another shard), field "value" already holds a string: a float there conflicts with it.
    const earlier = t0 - 30 * 86_400_000;
    const res = await fetch(`${influx.url}/write?db=it_conflict&precision=ms`, { method: 'POST', body: `reading,enterprise=E,point=OLD value="text" ${earlier}` });
    expect(res.status).toBe(204);
    const good = aPoint({ code: 'GOOD' });
    const bad = aPoint({ code: 'BAD' });
    const batch = Array.from({ length: 64 }, (_, i) => (i === 40 ? aReading(bad, i, earlier + 1) : aReading(good, i, t0 + i)));
    store.write(batch, () => undefined);
    await store.flush();
    const rows = await influx.query(`SELECT COUNT(value) FROM reading WHERE point = 'GOOD'`, 'it_conflict');
    expect(rows[0]?.values[0]?.[1]).toBe(63);
    const refused = logged.filter((l) => l.msg === 'influx refused a line; dropped');
    expect(refused).toHaveLength(1);
    expect(String(refused[0]?.fields.line)).toContain('point=BAD');
    expect(String(refused[0]?.fields.reason)).toMatch(/HTTP 400.*field type conflict/);
    expect(store.availability()).toEqual({ ok: true }); // the server works; it refused one line
    expect(store.health()).toMatchObject({ ok: true, detail: 'writing; 0 lines spooled; refused lines dropped: 1' });
    await store.close();
  });

  it('keeps every line while the database does not exist (HTTP 404), says so in health, and delivers all once it is created', async () => {
    const db = 'it_not_yet';
    const mine: string[] = [];
    const store = new InfluxSeriesStore(options(db, { maxBatch: 400, log: (_level, msg) => mine.push(msg) }));
    const t0 = Date.parse('2026-11-25T05:00:00Z');
    const point = aPoint({ code: 'LATE-DB' });
    for (let b = 0; b < 3; b++) {
      await new Promise<void>((acked) => store.write(Array.from({ length: 500 }, (_, i) => aReading(point, i, t0 + b * 500 + i)), acked));
    }
    // Refused and retried more than once, not dropped: the lines stay in the spool.
    await until(() => mine.filter((m) => m === 'influx write failed; kept in the spool, retrying').length >= 8, 'retries of the refused writes');
    expect(mine).not.toContain('influx refused a line; dropped');
    expect(store.spoolStats().lines).toBe(1500);
    const availability = store.availability();
    expect(reasonOf(availability)).toBe(`InfluxDB refuses writes: HTTP 404 database not found: "${db}"`);
    expect(!availability.ok && availability.since).toBeGreaterThan(t0 - 1);
    expect(store.health().ok).toBe(false);
    expect(store.health().detail).toMatch(/^InfluxDB refuses writes: HTTP 404 database not found: "it_not_yet"; 1500 lines spooled, oldest \d+ s$/);

    const created = await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });
    expect(created.status).toBe(200);
    await store.flush();
    expect(await countOf(influx, db)).toBe(1500);
    expect(store.availability()).toEqual({ ok: true });
    expect(store.health()).toMatchObject({ ok: true, detail: 'writing; 0 lines spooled' });
    expect(store.spoolStats()).toMatchObject({ entries: 0, lines: 0 });
    expect(mine).not.toContain('influx refused a line; dropped');
    await store.close();
  });

  it('reads lines written before `bad_value` existed (`value` with a `quality` string) with their quality', async () => {
    const store = new InfluxSeriesStore(options('it_legacy'));
    await store.ensureDatabase();
    const t0 = Date.parse('2026-11-25T05:00:00Z');
    const legacy = [`value=1.5,quality="good" ${t0}`, `value=2.5,quality="bad" ${t0 + 1000}`].map((f) => `reading,enterprise=E,hazard_source=TF-1,point=OLD,type=temperature ${f}`).join('\n');
    expect((await fetch(`${influx.url}/write?db=it_legacy&precision=ms`, { method: 'POST', body: legacy })).status).toBe(204);
    const point = aPoint({ code: 'OLD', enterpriseCode: 'E' });
    await new Promise<void>((acked) => store.write([aReading(point, 3.5, t0 + 2000, 'bad'), aReading(point, 4.5, t0 + 3000)], acked));
    await store.flush();
    const raw = await store.query({ enterpriseCode: 'E', pointCode: 'OLD', from: t0, to: t0 + 5000, stepMs: null, limit: 10 });
    expect(raw.samples).toEqual([
      { ts: t0, value: 1.5, quality: 'good' },
      { ts: t0 + 1000, value: 2.5, quality: 'bad' },
      { ts: t0 + 2000, value: 3.5, quality: 'bad' },
      { ts: t0 + 3000, value: 4.5, quality: 'good' },
    ]);
    const latest = await store.latest([point], t0);
    expect(latest).toEqual([expect.objectContaining({ ts: t0 + 3000, value: 4.5, quality: 'good' })]);
    await store.close();
  });

  it('sets up raw retention and the aggregate policy, drops the old continuous queries, and writes right aggregates as readings pass (1.x)', async () => {
    const db = 'it_rollup';
    const dir = spoolDir();
    // A database set up by an older version, whose continuous queries computed the aggregates.
    await influx.query(`CREATE DATABASE ${db}`, db);
    await influx.query(`CREATE CONTINUOUS QUERY reading_1m_cq ON ${db} BEGIN ${rollupSelect(db, ROLLUPS[0]!).replace('"raw".', '"autogen".').replace('"aggregates".', '"autogen".')} END`, db);
    const store = new InfluxSeriesStore(options(db, { spoolDir: dir, rollupEveryMs: 20 }));
    const before = logged.length;
    await store.ensureDatabase({ retentionDays: 90, aggregateDays: 1825 });
    await store.ensureDatabase({ retentionDays: 90, aggregateDays: 1825 }); // again at the next start: no complaints
    expect(logged.slice(before)).toEqual([]);
    const policies = await influx.query('SHOW RETENTION POLICIES', db);
    expect(policies[0]?.values).toEqual(
      expect.arrayContaining([expect.arrayContaining(['raw', '2160h0m0s', true]), expect.arrayContaining([AGGREGATE_POLICY, '43800h0m0s', false])]),
    );
    const cqs = await influx.query('SHOW CONTINUOUS QUERIES', db);
    expect(cqs.find((s) => s.name === db)?.values ?? []).toEqual([]);

    // Two minutes of a point long past: written once their windows are a grace past their end, i.e. at once.
    const t0 = Date.parse('2026-11-25T04:00:00Z');
    const point = aPoint({ code: 'ROLL' });
    await new Promise<void>((acked) => store.write(Array.from({ length: 12 }, (_, k) => aReading(point, k, t0 + k * 10_000, k === 5 ? 'bad' : 'good')), acked));
    const rollup = (measurement: string): string => `SELECT min, max, mean, last, "count" FROM "${AGGREGATE_POLICY}".${measurement} WHERE point = 'ROLL'`;
    let rows = await influx.query(rollup('reading_1m'), db);
    for (const deadline = Date.now() + 5000; (rows[0]?.values.length ?? 0) < 2 && Date.now() < deadline; rows = await influx.query(rollup('reading_1m'), db)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows[0]?.values).toEqual([
      [t0, 0, 4, 2, 4, 5],
      [t0 + 60_000, 6, 11, 8.5, 11, 6],
    ]);
    expect((await influx.query(rollup('reading_15m'), db))[0]?.values).toEqual([[t0, 0, 11, (66 - 5) / 11, 11, 11]]);
    // The same rollup rebuilt from the raw readings by the backfill statement agrees.
    await store.flush();
    const backfill = rollupSelect(db, ROLLUPS[0]!, `time >= ${t0}ms AND time < ${t0 + 120_000}ms`).replace('reading_1m', 'reading_1m_backfill');
    const res = await fetch(`${influx.url}/query?db=${db}&q=${encodeURIComponent(backfill)}`, { method: 'POST' });
    expect(res.status).toBe(200);
    let again = await influx.query(rollup('reading_1m_backfill'), db);
    for (const deadline = Date.now() + 5000; (again[0]?.values.length ?? 0) < 2 && Date.now() < deadline; again = await influx.query(rollup('reading_1m_backfill'), db)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(again[0]?.values).toEqual(rows[0]?.values);
    await store.close();
  });

  it('keeps the aggregate windows still filling over a restart and continues them', async () => {
    const db = 'it_rollup_restart';
    const dir = spoolDir();
    const point = aPoint({ code: 'KEEP' });
    const t0 = Date.parse('2026-11-26T04:00:00Z');
    const first = new InfluxSeriesStore(options(db, { spoolDir: dir, rollupEveryMs: 60_000 }));
    await first.ensureDatabase({ retentionDays: 90, aggregateDays: 1825 });
    await new Promise<void>((acked) => first.write([aReading(point, 1, t0), aReading(point, 3, t0 + 1000)], acked));
    await first.close(); // before its first sweep: the window is still filling
    const second = new InfluxSeriesStore(options(db, { spoolDir: dir, rollupEveryMs: 20 }));
    await second.ensureDatabase({ retentionDays: 90, aggregateDays: 1825 });
    await new Promise<void>((acked) => second.write([aReading(point, 5, t0 + 2000)], acked));
    const rollup = `SELECT min, max, mean, last, "count" FROM "${AGGREGATE_POLICY}".reading_1m WHERE point = 'KEEP'`;
    let rows = await influx.query(rollup, db);
    for (const deadline = Date.now() + 5000; rows.length === 0 && Date.now() < deadline; rows = await influx.query(rollup, db)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows[0]?.values).toEqual([[t0, 1, 5, 3, 5, 3]]);
    await second.close();
  });

});
