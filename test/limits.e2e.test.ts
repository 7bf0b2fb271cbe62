import { connectAsync } from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, signedIn } from './support/auth.js';
import { RecordingWsClient } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91320594MA1WKTRP3E';

describe('bounds on what a client can make the monitor hold', () => {
  let monitor: RunningMonitor;
  beforeAll(async () => {
    monitor = await startMonitor(testConfig());
    fetch = await signedIn(monitor.url);
  });
  afterAll(async () => {
    await monitor.close();
  });

  it('disconnects an MQTT client sending 1 MB to the embedded broker, and keeps ingesting from the others', async () => {
    const ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    const attacker = await connectAsync(monitor.mqttUrl, { clientId: 'limits-e2e-big', reconnectPeriod: 0 });
    const gone = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    attacker.publish(`sites/${E}/GW01/telemetry`, Buffer.alloc(1 << 20, 0x20), { qos: 1 });
    await gone;
    await attacker.endAsync(true);

    const gateway = await connectAsync(monitor.mqttUrl, { clientId: 'limits-e2e-gw' });
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'T101-TE', value: 45 }] }), { qos: 1 });
    const alarm = await ws.waitFor((f) => f.type === 'alarm' && (f.alarm as { pointCode: string }).pointCode === 'T101-TE');
    expect(alarm.alarm).toMatchObject({ level: 'H' });
    await gateway.endAsync();
    ws.close();
  });

  it('answers 413 to a JSON body above 64 KiB (Express alone allows 100 KiB), before any handler runs', async () => {
    const post = (body: string) => fetch(`${monitor.url}/api/alarms/no-such-alarm/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post(JSON.stringify({ by: 'x'.repeat(80 * 1024) }))).status).toBe(413);
    expect((await post(JSON.stringify({ by: 'operator' }))).status).toBe(404);
  });

  it('closes a WebSocket whose client sends a frame above 64 KiB (1009)', async () => {
    const ws = new WebSocket(`${monitor.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${(await login(monitor.url)).token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.send(Buffer.alloc(100 * 1024));
    expect(await closed).toBe(1009);
  });
});
