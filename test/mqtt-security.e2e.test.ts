import { connect, connectAsync, type MqttClient } from 'mqtt';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type TestService } from '#libs/testing/services.js';
import { TestPki } from '#libs/testing/pki.js';
import type { Alarm } from '#libs/contracts/index.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { DEMO_GATEWAY_PASSWORD } from '#apps/monitor/mqtt-access.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn, TEST_ADMIN_PASSWORD } from './support/auth.js';
import { alarmWhere, RecordingWsClient } from './support/ws-client.js';

const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';

/** Resolves with the CONNACK refusal code, or rejects if the connection is accepted. */
function refusedWith(url: string, options: Parameters<typeof connectAsync>[1]): Promise<number> {
  return connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options }).then(
    async (client) => {
      await client.endAsync(true);
      throw new Error('connection accepted');
    },
    (err: unknown) => (err as { code?: number }).code ?? -1,
  );
}

describe('the embedded broker lets only a registered gateway speak, and only for itself', () => {
  let monitor: RunningMonitor;
  let api: typeof fetch;
  let suzhou: MqttClient;
  let ws: RecordingWsClient;

  beforeAll(async () => {
    monitor = await startMonitor(testConfig({ simulate: true, simulatePeriodMs: 200, mqttAuth: { allowAnonymous: false, username: null, password: null, credentialsFile: null } }));
    api = await signedIn(monitor.url);
    ws = await RecordingWsClient.ofMonitor(monitor.url);
    suzhou = await connectAsync(monitor.mqttUrl, { clientId: 'mqtt-sec-suzhou', username: `${SUZHOU}/GW01`, password: DEMO_GATEWAY_PASSWORD, reconnectPeriod: 0 });
  });

  afterAll(async () => {
    ws?.close();
    await suzhou?.endAsync();
    await monitor?.close();
  });

  it('refuses anonymous clients, wrong passwords and unregistered gateways at CONNACK', async () => {
    expect(await refusedWith(monitor.mqttUrl, { clientId: 'anonymous' })).toBe(5);
    expect(await refusedWith(monitor.mqttUrl, { clientId: 'wrong', username: `${SUZHOU}/GW01`, password: 'not the password' })).toBe(4);
    expect(await refusedWith(monitor.mqttUrl, { clientId: 'stranger', username: `${SUZHOU}/GW99`, password: DEMO_GATEWAY_PASSWORD })).toBe(4);
  });

  it("takes a gateway's own telemetry, and drops and counts what it publishes for another enterprise or gateway", async () => {
    await suzhou.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 2000 }] }), { qos: 1 });
    await suzhou.publishAsync(`sites/${JINING}/GW01/status`, 'online', { qos: 1, retain: true });
    await suzhou.publishAsync(`sites/${SUZHOU}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'T101-TE', value: 60 }] }), { qos: 1 });
    await ws.waitFor(alarmWhere({ pointCode: 'T101-TE', level: 'HH' }));
    // Messages of one connection arrive in order: the forged DC1-DP reading, had it passed, would have come first.
    expect(ws.frames.some(alarmWhere({ pointCode: 'DC1-DP' }))).toBe(false);
    const active = (await (await api(`${monitor.url}/api/alarms?state=active&enterpriseCode=${JINING}`)).json()) as Alarm[];
    expect(active.filter((a) => a.pointCode === 'DC1-DP')).toEqual([]);
    const metrics = await (await api(`${monitor.url}/metrics`)).text();
    expect(Number(/sentinel_mqtt_refusals_total\{kind="publish"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(suzhou.connected).toBe(true);
  });

  it("keeps each gateway's client ids to itself: another gateway cannot knock it off or fire its will", async () => {
    const will = { topic: `sites/${JINING}/GW01/status`, payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const victim = await connectAsync(monitor.mqttUrl, { clientId: 'jining-gw01', username: `${JINING}/GW01`, password: DEMO_GATEWAY_PASSWORD, reconnectPeriod: 0, will });
    let victimClosed = false;
    victim.on('close', () => (victimClosed = true));
    await victim.publishAsync(`sites/${JINING}/GW01/status`, 'online', { qos: 1, retain: true });
    // The same client id from another gateway opens a session of that gateway's own, and the victim's stays.
    const squatter = await connectAsync(monitor.mqttUrl, { clientId: 'jining-gw01', username: `${SUZHOU}/GW01`, password: DEMO_GATEWAY_PASSWORD, reconnectPeriod: 0 });
    await squatter.endAsync();
    await victim.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 1200 }] }), { qos: 1 });
    expect(victimClosed).toBe(false);
    await victim.publishAsync(`sites/${JINING}/GW01/status`, 'online', { qos: 1, retain: true });
    await victim.endAsync();
  });

  it('lets no gateway subscribe', async () => {
    // SUBACK 0x80 for the filter: MQTT.js turns it into a rejection.
    await expect(suzhou.subscribeAsync('sites/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(suzhou.connected).toBe(true);
  });

  it('runs the built-in simulator as the demo gateways, with their passwords', async () => {
    const simulated = await ws.waitFor((f) => f.type === 'reading' && (f.readings as { enterpriseCode: string }[]).some((r) => r.enterpriseCode === JINING));
    expect(simulated).toBeDefined();
    const gateways = (await (await api(`${monitor.url}/api/gateways`)).json()) as { enterpriseCode: string; state: string }[];
    expect(gateways.find((g) => g.enterpriseCode === JINING)?.state).toBe('online');
  });
});

describe('an MQTT 5 gateway through the shipped mosquitto deployment (generated password file and ACL)', () => {
  let mosquitto: TestService;
  let monitor: RunningMonitor;

  beforeAll(async () => {
    mosquitto = await startMosquitto(undefined, ['allow_anonymous false', `password_file ${resolve('deploy/mosquitto/passwd')}`, `acl_file ${resolve('deploy/mosquitto/acl')}`]);
    monitor = await startMonitor(testConfig({ mqttUrl: mosquitto.url, mqttAuth: { allowAnonymous: false, username: 'sentinel-monitor', password: 'demo-monitor-password', credentialsFile: null } }));
  });

  afterAll(async () => {
    await monitor?.close();
    await mosquitto?.stop();
  });

  it('raises the alarm of an MQTT 5 gateway logged in with its generated password (ACL refusals: test/deploy.int.test.ts)', async () => {
    const ws = await RecordingWsClient.ofMonitor(monitor.url);
    const gateway = await connectAsync(mosquitto.url, { protocolVersion: 5, clientId: 'mqtt5-gateway', username: `${JINING}/GW01`, password: DEMO_GATEWAY_PASSWORD, reconnectPeriod: 0 });
    try {
      await gateway.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 2000 }] }), { qos: 1 });
      const raised = await ws.waitFor(alarmWhere({ pointCode: 'DC1-DP' }));
      expect(raised.alarm).toMatchObject({ enterpriseCode: JINING, level: 'HH' });
    } finally {
      ws.close();
      await gateway.endAsync();
    }
  });
});

describe('the mqtts listener of the embedded broker, with mutual TLS, and /metrics on its own port', () => {
  const pki = new TestPki();
  let monitor: RunningMonitor;
  let tlsPort: number;

  beforeAll(async () => {
    pki.issued('broker', '127.0.0.1', 'IP:127.0.0.1');
    tlsPort = await freePort();
    monitor = await startMonitor(
      testConfig({
        auth: { adminPassword: TEST_ADMIN_PASSWORD, loginPerMinute: 1000, metricsPort: 0 },
        mqttAuth: { allowAnonymous: false, username: null, password: null, credentialsFile: null, tls: { port: tlsPort, certFile: pki.file('broker.crt'), keyFile: pki.file('broker.key'), caFile: pki.file('ca.crt') } },
      }),
    );
  });

  afterAll(async () => {
    await monitor?.close();
    pki.remove();
  });

  it("logs a gateway in by its certificate's CN and takes its telemetry; refuses a certificate of another CA", async () => {
    const ws = await RecordingWsClient.ofMonitor(monitor.url);
    const gw = pki.issued('jining', `${JINING}/GW01`);
    const tls = { ca: pki.ca.cert, reconnectPeriod: 0, connectTimeout: 5000 };
    const gateway = await connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ...tls, clientId: 'mtls-jining', cert: gw.cert, key: gw.key });
    try {
      await gateway.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 2000 }] }), { qos: 1 });
      expect((await ws.waitFor(alarmWhere({ pointCode: 'DC1-DP' }))).alarm).toMatchObject({ level: 'HH' });
    } finally {
      ws.close();
      await gateway.endAsync();
    }
    const other = new TestPki();
    try {
      const forged = other.issued('forged', `${JINING}/GW01`);
      // The handshake fails: MQTT.js reports a close (or an error), never a connect.
      const client = connect(`mqtts://127.0.0.1:${tlsPort}`, { ...tls, clientId: 'mtls-forged', cert: forged.cert, key: forged.key });
      const outcome = await new Promise<string>((done) => {
        client.once('connect', () => done('connected'));
        client.once('error', () => done('refused'));
        client.once('close', () => done('refused'));
      });
      client.end(true);
      expect(outcome).toBe('refused');
    } finally {
      other.remove();
    }
  });

  it('serves /metrics without sign-in on METRICS_PORT only, and with a token on the main port', async () => {
    expect(monitor.metricsUrl).not.toBeNull();
    const open = await fetch(monitor.metricsUrl!);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('sentinel_mqtt_refusals_total');
    expect((await fetch(`${monitor.url}/metrics`)).status).toBe(401);
  });
});
