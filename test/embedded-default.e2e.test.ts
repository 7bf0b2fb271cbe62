import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alarm } from '#libs/contracts/index.js';
import { SqliteSeriesStore } from '#libs/store-embedded/index.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, signedIn } from './support/auth.js';
import { RecordingWsClient } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91370800MA3CD7LN28';

describe('the zero-set-up default: embedded broker and embedded stores', () => {
  const running: RunningMonitor[] = [];
  afterAll(async () => {
    for (const m of running) await m.close();
  });

  it('alarms from the embedded broker, keeps the series on disk and the alarm across a restart', async () => {
    const config = testConfig();
    const first = await startMonitor(config);
    fetch = await signedIn(first.url);
    running.push(first);
    const ws = await RecordingWsClient.connect(`${first.url.replace('http', 'ws')}/ws`, (await login(first.url)).token);
    const gateway = await connectAsync(first.mqttUrl, { clientId: 'embedded-e2e-gw' });
    await gateway.publishAsync(`sites/${E}/GW01/status`, 'online', { qos: 1, retain: true });
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: 1_795_000_000_000, readings: [{ point: 'DC1-TE', value: 72 }] }), { qos: 1 });
    const frame = await ws.waitFor((f) => f.type === 'alarm');
    expect(frame.alarm).toMatchObject({ pointCode: 'DC1-TE', level: 'HH', status: 'ACTIVE_UNACK' });
    await ws.waitFor((f) => f.type === 'gateway');
    const gateways = (await (await fetch(`${first.url}/api/gateways`)).json()) as unknown[];
    expect(gateways).toHaveLength(2);
    expect(gateways).toContainEqual(expect.objectContaining({ enterpriseCode: E, gatewayCode: 'GW01', state: 'online', registered: true }));
    expect(gateways).toContainEqual(expect.objectContaining({ gatewayCode: 'GW01', state: 'unknown', since: null }));
    const health = (await (await fetch(`${first.url}/health`)).json()) as { broker: { embedded: boolean; connected: boolean } };
    expect(health.broker).toEqual({ embedded: true, connected: true });
    const viaApi = (await (await fetch(`${first.url}/api/points/${E}/DC1-TE/series?from=1795000000000&to=1795000000000`)).json()) as Record<string, unknown>;
    expect(viaApi).toMatchObject({ samples: [{ ts: 1_795_000_000_000, value: 72 }] });
    await gateway.endAsync();
    // Shutting down with a client still connected: the server closes it and close() completes.
    await first.close();
    running.pop();
    expect(await ws.closed).toBeGreaterThan(0);

    const series = new SqliteSeriesStore(`${config.dataDir}/series.db`);
    const history = await series.query({ enterpriseCode: E, pointCode: 'DC1-TE', from: 0, to: Number.MAX_SAFE_INTEGER, stepMs: null, limit: 10 });
    expect(history).toMatchObject({ stepMs: null, samples: [{ value: 72, quality: 'good' }] });
    expect(history.samples).toHaveLength(1);
    await series.close();

    const second = await startMonitor({ ...config, mqttClientId: `${config.mqttClientId}-2` });
    fetch = await signedIn(second.url);
    running.push(second);
    const active = (await (await fetch(`${second.url}/api/alarms?status=active`)).json()) as Alarm[];
    expect(active).toEqual([expect.objectContaining({ id: (frame.alarm as Alarm).id, pointCode: 'DC1-TE' })]);
    const gw = await connectAsync(second.mqttUrl, { clientId: 'embedded-e2e-gw2' });
    const ws2 = await RecordingWsClient.connect(`${second.url.replace('http', 'ws')}/ws`, (await login(second.url)).token);
    await gw.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-TE', value: 40 }] }), { qos: 1 });
    const cleared = await ws2.waitFor((f) => f.type === 'alarm');
    expect(cleared.alarm).toMatchObject({ id: (frame.alarm as Alarm).id, status: 'CLEARED_UNACK' });
    ws2.close();
    await gw.endAsync();
  });

  it('after a restart the rule core goes on from the newest stored readings: a fan reported running before it still counts', async () => {
    const config = testConfig();
    const first = await startMonitor(config);
    fetch = await signedIn(first.url);
    running.push(first);
    const gateway = await connectAsync(first.mqttUrl, { clientId: 'embedded-e2e-fan' });
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-FAN', value: 1 }, { point: 'DC1-SPARK', value: 0 }] }), { qos: 1 });
    await gateway.endAsync();
    await first.close();
    running.pop();

    const second = await startMonitor({ ...config, mqttClientId: `${config.mqttClientId}-2` });
    fetch = await signedIn(second.url);
    running.push(second);
    const ws = await RecordingWsClient.ofMonitor(second.url);
    const gw = await connectAsync(second.mqttUrl, { clientId: 'embedded-e2e-fan2' });
    await gw.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-SPARK', value: 3 }] }), { qos: 1 });
    const composite = await ws.waitFor((f) => f.type === 'alarm' && (f.alarm as Alarm).condition === 'composite');
    expect(composite.alarm).toMatchObject({ name: 'spark-while-running', originatorCode: 'DC-1', status: 'ACTIVE_UNACK' });
    ws.close();
    await gw.endAsync();
  });
});
