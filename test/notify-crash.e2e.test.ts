import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, DeliveryRecord } from '#libs/contracts/index.js';
import { freePort } from '#libs/testing/services.js';
import { HttpReceiver } from '#libs/testing/receivers.js';
import { login, signedIn } from './support/auth.js';
import { buildMonitor, startMonitorProcess } from './support/monitor-process.js';

const E = '91320594MA1WKTRP3E';
const ADMIN_PASSWORD = 'notify-crash-admin-password-1';

/**
 * kill -9 between deciding a notification and sending it: the monitor as shipped, in its own process, decides the
 * SMS of an HH alarm while the gateway is down, is killed with SIGKILL, and sends that SMS once after its restart.
 */
describe('notification outbox across kill -9', () => {
  let http: HttpReceiver;
  let dir: string;
  let configDir: string;
  let monitor: ChildProcess | null = null;
  let port: number;
  let mqttPort: number;

  const start = async (): Promise<void> => {
    monitor = await startMonitorProcess(port, { MQTT_PORT: String(mqttPort), DATA_DIR: join(dir, 'data'), CONFIG_DIR: configDir, SENTINEL_ADMIN_PASSWORD: ADMIN_PASSWORD });
  };

  beforeAll(async () => {
    buildMonitor();
    http = await HttpReceiver.start();
    dir = mkdtempSync(join(tmpdir(), 'sentinel-notify-crash-'));
    configDir = join(dir, 'config');
    cpSync(resolve('config'), configDir, { recursive: true });
    writeFileSync(join(configDir, 'notify.yaml'), `notify:\n  channels: [{ name: sms, type: sms, url: "${http.url}/sms", template: SMS_ALARM }]\n  routes: [{ level: enterprise, channels: [sms], severities: [critical] }]\n`);
    [port, mqttPort] = [await freePort(), await freePort()];
  }, 120_000);

  afterAll(async () => {
    monitor?.kill('SIGKILL');
    await http?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the SMS decided before the crash once, after the restart', async () => {
    http.answer = () => ({ status: 503, body: '{}' }); // the SMS gateway down: the message waits in the outbox
    await start();
    const url = `http://127.0.0.1:${port}`;
    const admin = async (): Promise<typeof globalThis.fetch> => signedIn(url, (await login(url, 'admin', ADMIN_PASSWORD)).token);
    let api = await admin();
    const gateway = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: `${E}/GW01`, password: 'demo-gateway-password', clientId: `crash-gw-${Date.now()}` });
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: [{ point: 'T101-TE', value: 55.5 }] }), { qos: 1 });
    await gateway.endAsync();
    const t101 = async (): Promise<Alarm | undefined> => ((await (await api(`${url}/api/alarms?state=active`)).json()) as Alarm[]).find((a) => a.pointCode === 'T101-TE');
    await expect.poll(t101).toBeDefined();
    const id = (await t101())!.id;
    const states = async (): Promise<string[]> => ((await (await api(`${url}/api/alarms/${id}/notifications`)).json()) as DeliveryRecord[]).map((r) => r.state);
    await expect.poll(states).toEqual(['pending']);

    monitor!.kill('SIGKILL');
    await new Promise((r) => monitor!.once('exit', r));
    http.answer = () => ({ status: 200, body: '{}' });
    await start();
    api = await admin();
    await http.taken(1);
    await new Promise((r) => setTimeout(r, 2500)); // time for a second send, were there one
    expect(http.received.filter((r) => r.path === '/sms')).toHaveLength(1);
    expect(JSON.parse(http.received[0]!.body)).toMatchObject({ phone: '+86 512 6000 0001', template: 'SMS_ALARM', params: { point: 'T101-TE', level: 'HH' } });
    expect(await states()).toEqual(['sent']);
    monitor!.kill('SIGTERM');
    await new Promise((r) => monitor!.once('exit', r));
  });
});
