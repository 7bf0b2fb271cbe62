import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { startInfluxd, startMosquitto, type InfluxService, type TestService } from '#libs/testing/services.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91320594MA1WKTRP3E';
const POINTS = ['T101-TE', 'T101-PT', 'T101-LT', 'T102-TE', 'T102-LT'];
const OUTAGE_MS = 60_000;
const RATE_PER_S = 40; // messages of 25 readings: 1,000 readings/s

describe('InfluxDB outage under load', () => {
  let mosquitto: TestService;
  let influx: InfluxService;
  let monitor: RunningMonitor;
  afterAll(async () => {
    await monitor?.close();
    await Promise.all([mosquitto?.stop(), influx?.stop()]);
  });

  it('loses no reading when influxd is stopped for 60 s while gateways keep publishing', { timeout: 240_000 }, async () => {
    [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxd()]);
    monitor = await startMonitor(testConfig({ mqttUrl: mosquitto.url, influx: { url: influx.url, db: 'outage', token: null, downsample: true } }));
    fetch = await signedIn(monitor.url);
    const gateway = await connectAsync(mosquitto.url, { clientId: 'outage-gw' });
    const t0 = Date.now() - 3_600_000;
    let sent = 0;
    let published = 0;
    const publishOne = async (): Promise<void> => {
      const readings = Array.from({ length: 25 }, (_, i) => ({ point: POINTS[i % POINTS.length]!, value: 20 + (i % 7), ts: t0 + sent + i }));
      sent += readings.length;
      await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings }), { qos: 1 });
      published++;
    };
    // The load: a steady stream of QoS 1 messages for the whole test, acknowledged by the broker one by one.
    let load = true;
    const loadDone = (async () => {
      while (load) {
        const started = Date.now();
        await publishOne();
        const wait = 1000 / RATE_PER_S - (Date.now() - started);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();

    const healthOf = async () => ((await (await fetch(`${monitor.url}/health`)).json()) as { status: string; stores: { series: { ok: boolean; detail: string } } });
    await monitor.runtime.seriesStore.flush();
    await influx.pause();
    const outageStart = Date.now();
    // Alarms keep working while InfluxDB is down.
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'R201-PT', value: 1.7, ts: t0 - 1 }] }), { qos: 1 });
    sent += 1;
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const active = (await (await fetch(`${monitor.url}/api/alarms?status=active`)).json()) as { pointCode: string; type: string }[];
    expect(active).toContainEqual(expect.objectContaining({ pointCode: 'R201-PT', level: 'HH' }));
    const during = await healthOf();
    expect(during.status).toBe('degraded');
    expect(during.stores.series.detail).toMatch(/lines spooled/);
    const metrics = await (await fetch(`${monitor.url}/metrics`)).text();
    const spooled = Number(/^sentinel_spool_lines (\d+)/m.exec(metrics)?.[1]);
    expect(spooled).toBeGreaterThan(RATE_PER_S * 25 * (OUTAGE_MS / 1000) * 0.5);
    await influx.resume();
    const outageMs = Date.now() - outageStart;

    load = false;
    await loadDone;
    await monitor.runtime.seriesStore.flush();
    const rows = await influx.query('SELECT COUNT(value) FROM reading', 'outage');
    expect(rows[0]?.values[0]?.[1]).toBe(sent);
    expect(outageMs).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(published * 25 + 1).toBe(sent);
    expect((await healthOf()).status).toBe('ok');
    await gateway.endAsync();
  });
});
