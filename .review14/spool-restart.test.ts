import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InfluxSeriesStore } from '../libs/store-influx/influx.series-store.js';
import { LineSpool } from '../libs/store-influx/line-spool.js';
import { fakeInflux } from './fake-influx.js';

const lines = (prefix: string, n: number, t0: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => `${prefix} value=${i}.5 ${t0 + i}\n`).join(''));

describe('LineSpool after a restart', () => {
  it('appends after the entries an earlier run left (fd opened r+ at position 0: the append overwrites them)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r14r-'));
    const before = new LineSpool(dir);
    const a = lines('reading,point=A', 3, 1_700_000_000_000);
    const b = lines('reading,point=B', 3, 1_700_000_001_000);
    before.append([{ bytes: a, lines: 3 }, { bytes: b, lines: 3 }]);
    before.close();

    const after = new LineSpool(dir);
    const c = lines('reading,point=C', 2, 1_700_000_002_000);
    after.append([{ bytes: c, lines: 2 }]);
    const read = after.readAfter(0, 100).map((e) => e.bytes.toString());
    console.log('read back after restart + one append:', read);
    after.close();
    const [seg] = readdirSync(dir);
    console.log('segment file now:', JSON.stringify(readFileSync(join(dir, seg!)).toString('latin1')));
    expect(read).toEqual([a.toString(), b.toString(), c.toString()]);
  });

  it('end to end: acknowledged readings spooled during an outage, a restart, the next acknowledged batch', async () => {
    const influx = await fakeInflux();
    const dir = mkdtempSync(join(tmpdir(), 'r14r-'));
    const point = (code: string) => ({ enterpriseCode: 'E1', hazardSourceCode: 'H1', code, gatewayCode: 'G1', type: 'temperature' }) as any;
    const t0 = Date.parse('2026-11-30T08:00:00Z');
    const opts = { url: influx.url, db: 'x', token: null, spoolDir: dir, lingerMs: 0, maxBackoffMs: 50 };
    influx.state.writeStatus = 503;
    const first = new InfluxSeriesStore(opts);
    await first.ensureDatabase();
    const acked: string[] = [];
    first.write([{ point: point('T1'), ts: t0 + 1, value: 21.5, quality: 'good' }, { point: point('T1'), ts: t0 + 2, value: 22.5, quality: 'good' }], () => acked.push('m1'));
    await new Promise((r) => setTimeout(r, 50));
    await first.close();

    // InfluxDB still down when the monitor comes back (outage spanning the restart)
    const second = new InfluxSeriesStore(opts);
    await second.ensureDatabase();
    second.write([{ point: point('P9'), ts: t0 + 3, value: 1.25, quality: 'good' }], () => acked.push('m2'));
    await new Promise((r) => setTimeout(r, 50));
    influx.state.writeStatus = 204; // InfluxDB back
    await second.flush();
    await new Promise((r) => setTimeout(r, 50));
    await second.close();
    influx.server.close();
    const got = influx.writes.flatMap((w) => w.body.split('\n')).filter((l) => l.length > 0);
    console.log('acknowledged:', acked);
    console.log('InfluxDB received:', got.map((l) => JSON.stringify(l)));
    expect(got.sort()).toEqual(
      [
        `reading,enterprise=E1,hazard_source=H1,point=T1 value=21.5 ${t0 + 1}`,
        `reading,enterprise=E1,hazard_source=H1,point=T1 value=22.5 ${t0 + 2}`,
        `reading,enterprise=E1,hazard_source=H1,point=P9 value=1.25 ${t0 + 3}`,
      ].sort(),
    );
  });
});
