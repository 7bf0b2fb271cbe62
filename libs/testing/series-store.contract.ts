import { expect, it } from 'vitest';
import type { SeriesStore } from '#libs/contracts/index.js';
import { aPoint, aReading } from './builders.js';

/**
 * The history contract every SeriesStore keeps, run against each store by its own integration test:
 * the same writes give the same raw and aggregated answers from InfluxDB and from the embedded store.
 */
export function seriesStoreContract(open: () => Promise<SeriesStore>): void {
  const E = '91320594MA1WKTRP3E';
  const t0 = Date.parse('2026-11-20T08:00:00Z'); // a whole minute: buckets of 60 s start here
  const point = aPoint({ enterpriseCode: E, code: "T'101" });
  const other = aPoint({ enterpriseCode: E, code: 'T102' });

  it('answers raw and aggregated history of one point alike (contract)', async () => {
    const store = await open();
    const readings = Array.from({ length: 60 }, (_, k) => aReading(point, k, t0 + k * 10_000, k === 5 ? 'bad' : 'good'));
    const noise = Array.from({ length: 60 }, (_, k) => aReading(other, 1000 + k, t0 + k * 10_000));
    await new Promise<void>((acked) => store.write([...readings, ...noise], acked));
    await store.flush();
    const q = { enterpriseCode: E, pointCode: point.code, from: t0, to: t0 + 100_000, stepMs: null, limit: 1000 };

    const raw = await store.query(q);
    expect(raw.truncated).toBe(false);
    expect(raw.samples.map((s) => s.ts)).toEqual(Array.from({ length: 11 }, (_, k) => t0 + k * 10_000));
    expect(raw.samples[5]).toEqual({ ts: t0 + 50_000, value: 5, quality: 'bad' });
    expect(raw.samples[10]).toEqual({ ts: t0 + 100_000, value: 10, quality: 'good' });

    const capped = await store.query({ ...q, limit: 3 });
    expect(capped).toMatchObject({ stepMs: null, truncated: true });
    expect(capped.samples.map((s) => s.ts)).toEqual([t0, t0 + 10_000, t0 + 20_000]);

    const minutes = await store.query({ ...q, to: t0 + 599_999, stepMs: 60_000 });
    if (minutes.stepMs === null) throw new Error('expected buckets');
    expect(minutes.samples).toHaveLength(10);
    // Bad-quality readings are left out of aggregates: the first minute holds 0..4 (5 is bad).
    expect(minutes.samples[0]).toMatchObject({ ts: t0, min: 0, max: 4, last: 4, count: 5 });
    expect(minutes.samples[0]?.mean).toBeCloseTo(2, 9);
    expect(minutes.samples[1]).toMatchObject({ ts: t0 + 60_000, min: 6, max: 11, last: 11, count: 6 });
    expect(minutes.samples[1]?.mean).toBeCloseTo(8.5, 9);

    const empty = await store.query({ ...q, from: t0 - 3_600_000, to: t0 - 1 });
    expect(empty).toEqual({ stepMs: null, samples: [], truncated: false });
    expect((await store.query({ ...q, stepMs: 60_000, from: t0 - 3_600_000, to: t0 - 1 })).samples).toEqual([]);
    await store.close();
  });

  it('gives the newest reading of each point since a time, for the rule core after a restart (contract)', async () => {
    const store = await open();
    // A day after the history test's readings, which a store opened again may still hold.
    const t1 = t0 + 86_400_000;
    const quiet = aPoint({ enterpriseCode: E, code: 'QUIET' });
    const writes = [aReading(point, 1, t1), aReading(point, 2, t1 + 10_000, 'bad'), aReading(other, 7, t1 + 5000), aReading(quiet, 3, t1 - 86_400_000)];
    await new Promise<void>((acked) => store.write(writes, acked));
    await store.flush();
    const latest = await store.latest([point, other, quiet], t1 - 1000);
    const byCode = new Map(latest.map((r) => [r.point.code, [r.ts, r.value, r.quality]]));
    expect(byCode).toEqual(
      new Map([
        [point.code, [t1 + 10_000, 2, 'bad']],
        [other.code, [t1 + 5000, 7, 'good']],
      ]),
    );
    expect(latest.find((r) => r.point.code === point.code)?.point).toBe(point);
    await store.close();
  });
}
