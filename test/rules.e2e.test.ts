import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '#libs/contracts/index.js';
import { startMosquitto, type TestService } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';
import { alarmWhere, RecordingWsClient } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';


/** The rules beyond limits, through the real app: mosquitto → decode → rule core → alarm book → WebSocket and REST. */
describe('rule core in the running monitor (demo sites)', () => {
  let mosquitto: TestService;
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let ws: RecordingWsClient;
  const publish = (enterprise: string, readings: { point: string; value: number; ts?: number; quality?: string }[], ts = Date.now()) =>
    gateway.publishAsync(`sites/${enterprise}/GW01/telemetry`, JSON.stringify({ ts, readings }), { qos: 1 });

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    monitor = await startMonitor(testConfig({ mqttUrl: mosquitto.url }));
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(mosquitto.url, { clientId: `rules-e2e-${Date.now()}` });
    ws = await RecordingWsClient.ofMonitor(monitor.url);
  });

  afterAll(async () => {
    ws?.close();
    await gateway?.endAsync();
    await monitor?.close();
    await mosquitto?.stop();
  });

  it('2 of 3 gas detectors at H raise one area alarm of their voting group', async () => {
    await publish(SUZHOU, [
      { point: 'TF1-GAS1', value: 30 },
      { point: 'TF1-GAS2', value: 3 },
    ]);
    await ws.waitFor(alarmWhere({ pointCode: 'TF1-GAS1', condition: 'limit_high', level: 'H' }));
    expect(ws.frames.some(alarmWhere({ condition: 'vote' }))).toBe(false);
    await publish(SUZHOU, [{ point: 'TF1-GAS3', value: 28 }]);
    const vote = await ws.waitFor(alarmWhere({ condition: 'vote', status: 'ACTIVE_UNACK' }));
    expect(vote.alarm).toMatchObject({ originatorKind: 'area', originatorCode: 'TF1-GAS', hazardSourceCode: 'TF-1', severity: 'critical', value: 2, threshold: 2 });
    await publish(SUZHOU, [{ point: 'TF1-GAS1', value: 2 }]);
    await ws.waitFor(alarmWhere({ condition: 'vote', status: 'CLEARED_UNACK' }));
  });

  it('a transmitter reading below its range is a sensor fault, not a low-low process alarm', async () => {
    await publish(SUZHOU, [{ point: 'T101-LT', value: -5 }]);
    const fault = await ws.waitFor(alarmWhere({ pointCode: 'T101-LT', condition: 'out_of_range' }));
    expect(fault.alarm).toMatchObject({ severity: 'minor', level: 'ACTIVE', message: 'T-101 液位: -5 % outside the measuring range [0, 100]: sensor fault, limits held' });
    expect(ws.frames.some(alarmWhere({ pointCode: 'T101-LT', condition: 'limit_low' }))).toBe(false);
    await publish(SUZHOU, [{ point: 'T101-LT', value: 50 }]);
    await ws.waitFor(alarmWhere({ pointCode: 'T101-LT', condition: 'out_of_range', status: 'CLEARED_UNACK' }));
  });

  it('spark while the collector fan runs: the dust composite rule from config/profiles/dust.yaml', async () => {
    await publish(JINING, [
      { point: 'DC1-FAN', value: 1 },
      { point: 'DC1-SPARK', value: 3 },
    ]);
    const composite = await ws.waitFor(alarmWhere({ condition: 'composite', name: 'spark-while-running' }));
    expect(composite.alarm).toMatchObject({ originatorKind: 'hazard_source', originatorCode: 'DC-1', enterpriseCode: JINING, severity: 'critical' });
    await publish(JINING, [{ point: 'DC1-FAN', value: 0 }]);
    await ws.waitFor(alarmWhere({ condition: 'composite', status: 'CLEARED_UNACK' }));
  });

  it('gateway offline on its status topic is one alarm, cleared when it comes back', async () => {
    await gateway.publishAsync(`sites/${JINING}/GW01/status`, 'offline', { qos: 1, retain: false });
    const offline = await ws.waitFor(alarmWhere({ condition: 'gateway_offline', enterpriseCode: JINING }));
    expect(offline.alarm).toMatchObject({ originatorKind: 'gateway', originatorCode: 'GW01', severity: 'major', message: 'gateway GW01: gateway reported offline on its status topic' });
    await gateway.publishAsync(`sites/${JINING}/GW01/status`, 'online', { qos: 1, retain: false });
    await ws.waitFor(alarmWhere({ condition: 'gateway_offline', enterpriseCode: JINING, status: 'CLEARED_UNACK' }));
  });

  it('a late reading showing an excursion that already passed is recorded as raised and returned', async () => {
    const now = Date.now();
    await publish(SUZHOU, [{ point: 'T102-TE', value: 20 }], now);
    await publish(SUZHOU, [{ point: 'T102-TE', value: 56 }], now - 60_000);
    const late = await ws.waitFor(alarmWhere({ pointCode: 'T102-TE', status: 'CLEARED_UNACK' }));
    expect(late.alarm).toMatchObject({ condition: 'limit_high', level: 'HH', peakValue: 56, raisedAt: new Date(now - 60_000).toISOString() });
    expect((late.alarm as Alarm).message).toMatch(/had already passed when it arrived/);
    const all = (await (await fetch(`${monitor.url}/api/alarms?status=all`)).json()) as Alarm[];
    expect(all).toContainEqual(expect.objectContaining({ id: (late.alarm as Alarm).id, status: 'CLEARED_UNACK' }));
  });

  it('serves the 15-minute power profile of an enterprise, 404 for an unknown one', async () => {
    const res = await fetch(`${monitor.url}/api/enterprises/${JINING}/power-profile`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ enterpriseCode: JINING, intervalS: 900, intervals: [] });
    expect((await fetch(`${monitor.url}/api/enterprises/91000000000000000X/power-profile`)).status).toBe(404);
  });
});
