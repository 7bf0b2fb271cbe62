import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aPoint, aReading } from '#libs/testing/builders.js';
import { startInfluxd, type InfluxService } from '#libs/testing/services.js';
import { InfluxSeriesStore } from './influx.series-store.js';

describe('InfluxSeriesStore against a real influxd', () => {
  let influx: InfluxService;
  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('writes every reading of many batches and reads them back with InfluxQL', async () => {
    const store = new InfluxSeriesStore({ url: influx.url, db: 'it_series', token: null, maxBatch: 1000, maxInFlight: 2 });
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

    const counts = await influx.query('SELECT COUNT(value) FROM reading GROUP BY point', 'it_series');
    const byPoint: Record<string, unknown> = Object.fromEntries(counts.map((s) => [s.tags?.point ?? "", s.values[0]?.[1]]));
    expect(byPoint).toEqual({ 'T 101,TE=x': 2500, 'P-201': 2500 });

    const rows = await influx.query(`SELECT value, quality, hazard_source, type FROM reading WHERE point = 'P-201' ORDER BY time LIMIT 2`, 'it_series');
    expect(rows[0]?.values).toEqual([
      [t0 + 1, 1.25, 'good', 'RX-1', 'pressure'],
      [t0 + 3, 3.25, 'bad', 'RX-1', 'pressure'],
    ]);
    await store.close();
  });

  it('reports a batch the server refuses (4xx) without retrying it forever', async () => {
    const store = new InfluxSeriesStore({ url: influx.url, db: 'no_such_db', token: null });
    store.write([aReading(aPoint(), 1)], () => undefined);
    await store.flush();
    expect(store.health().ok).toBe(false);
    expect(store.health().detail).toMatch(/HTTP 404/);
  });
});
