import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type TestService } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, signedIn } from './support/auth.js';
import { RecordingWsClient } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91320594MA1WKTRP3E';

describe('broker unreachable at boot', () => {
  let monitor: RunningMonitor | null = null;
  let mosquitto: TestService | null = null;
  afterAll(async () => {
    await monitor?.close();
    await mosquitto?.stop();
  });

  it('serves degraded, then connects, subscribes and alarms once the broker comes up', async () => {
    const port = await freePort();
    monitor = await startMonitor(testConfig({ mqttUrl: `mqtt://127.0.0.1:${port}` }), { brokerWaitMs: 200 });
    fetch = await signedIn(monitor.url);
    const degraded = (await (await fetch(`${monitor.url}/health`)).json()) as { status: string; broker: { connected: boolean } };
    expect(degraded).toMatchObject({ status: 'degraded', broker: { connected: false } });

    mosquitto = await startMosquitto(port);
    expect(await monitor.runtime.ingest.whenSubscribed(30_000)).toBe(true);
    const healthy = (await (await fetch(`${monitor.url}/health`)).json()) as { status: string };
    expect(healthy.status).toBe('ok');

    const ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    const gw = await connectAsync(mosquitto.url, { clientId: 'outage-gw' });
    await gw.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'TF1-GAS1', value: 30 }] }), { qos: 1 });
    const frame = await ws.waitFor((f) => f.type === 'alarm');
    expect(frame.alarm).toMatchObject({ pointCode: 'TF1-GAS1', level: 'H', severity: 'major', threshold: 25 });
    ws.close();
    await gw.endAsync();
  });
});
