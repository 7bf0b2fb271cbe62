import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '#libs/contracts/index.js';
import { startInfluxd, startMosquitto, type InfluxService, type TestService } from '#libs/testing/services.js';
import { launchChromium, type Chromium } from '#libs/testing/chromium.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, signedIn, TEST_ADMIN_PASSWORD } from './support/auth.js';
import { RecordingWsClient, type WsFrame } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91320594MA1WKTRP3E';
const TELEMETRY = `sites/${E}/GW01/telemetry`;
const isAlarm = (pointCode: string, status: string) => (f: WsFrame) =>
  f.type === 'alarm' && (f.alarm as Alarm).pointCode === pointCode && (f.alarm as Alarm).status === status;

describe('monitor end to end: mosquitto → rules → alarm → WebSocket, REST, InfluxDB and the page', () => {
  let mosquitto: TestService;
  let influx: InfluxService;
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let chromium: Chromium | null = null;
  const config = () => testConfig({ mqttUrl: mosquitto.url, influx: { url: influx.url, db: 'e2e', token: null, downsample: true } });

  beforeAll(async () => {
    [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxd()]);
    monitor = await startMonitor(config());
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(mosquitto.url, { clientId: `e2e-gateway-${Date.now()}` });
  });

  afterAll(async () => {
    await chromium?.close();
    await gateway?.endAsync();
    await monitor?.close();
    await Promise.all([mosquitto?.stop(), influx?.stop()]);
  });

  it('raises an HH alarm on WebSocket, lists it in /api/alarms and stores the reading in InfluxDB', async () => {
    const ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    const snapshot = await ws.waitFor((f) => f.type === 'snapshot');
    expect(snapshot.alarms).toEqual([]);

    const ts = Date.now();
    await gateway.publishAsync(TELEMETRY, JSON.stringify({ ts, readings: [{ point: 'T101-TE', value: 55.5 }, { point: 'T101-PT', value: 5 }] }), { qos: 1 });
    const frame = await ws.waitFor(isAlarm('T101-TE', 'ACTIVE_UNACK'));
    expect(frame.seq).toBe((snapshot.seq as number) + 1);
    expect(frame.alarm).toMatchObject({ level: 'HH', severity: 'critical', value: 55.5, threshold: 50, hazardSourceCode: 'TF-1', enterpriseCode: E });

    const res = await fetch(`${monitor.url}/api/alarms?status=active`);
    expect(res.status).toBe(200);
    const active = (await res.json()) as Alarm[];
    expect(active).toEqual([expect.objectContaining({ id: (frame.alarm as Alarm).id, pointCode: 'T101-TE', level: 'HH', status: 'ACTIVE_UNACK', raisedAt: new Date(ts).toISOString() })]);

    await monitor.runtime.seriesStore.flush();
    const series = await influx.query(`SELECT value FROM reading WHERE point = 'T101-TE'`, 'e2e');
    expect(series[0]?.values).toEqual([[ts, 55.5]]);
    // The alarm change is a series of its own, for chart annotations.
    const events = await influx.query(`SELECT kind, status, value, threshold, severity FROM alarm WHERE code = 'T101-TE' AND "condition" = 'limit_high'`, 'e2e');
    expect(events[0]?.values).toEqual([[ts, 'raise', 'ACTIVE_UNACK', 55.5, 50, 'critical']]);

    // The history API reads the same back from InfluxDB, with the limits to draw.
    const history = (await (await fetch(`${monitor.url}/api/points/${E}/T101-TE/series?from=${ts - 1000}&to=${ts + 1000}`)).json()) as Record<string, unknown>;
    expect(history).toMatchObject({ point: 'T101-TE', unit: '°C', limits: { hh: 50 }, stepMs: null, truncated: false, samples: [{ ts, value: 55.5, quality: 'good' }] });
    const source = (await (await fetch(`${monitor.url}/api/hazard-sources/${E}/TF-1/series?from=${ts - 60_000}&to=${ts + 60_000}&step=1m`)).json()) as {
      series: { point: string; samples: { min: number; count: number }[] }[];
    };
    expect(source.series).toHaveLength(8);
    expect(source.series.find((s) => s.point === 'T101-PT')?.samples).toEqual([expect.objectContaining({ min: 5, max: 5, last: 5, count: 1 })]);
    const bad = await fetch(`${monitor.url}/api/points/${E}/T101-TE/series?step=1x`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('step must be "raw" or a width of at least 1 s');
    ws.close();
  });

  it('dead-letters garbage with a reason and keeps alarming on the next good reading', async () => {
    const ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    await gateway.publishAsync(TELEMETRY, '{"readings": [', { qos: 1 });
    await gateway.publishAsync(TELEMETRY, JSON.stringify({ readings: [{ point: 'NO-SUCH-POINT', value: 1 }] }), { qos: 1 });
    await gateway.publishAsync(TELEMETRY, JSON.stringify({ readings: [{ point: 'R201-PT', value: 1.7 }] }), { qos: 1 });
    await ws.waitFor(isAlarm('R201-PT', 'ACTIVE_UNACK'));

    const letters = (await (await fetch(`${monitor.url}/api/dead-letters`)).json()) as { reason: string; topic: string; detail: string }[];
    expect(letters.map((l) => l.reason).slice(0, 2).sort()).toEqual(['bad_json', 'unknown_point']);
    expect(letters.find((l) => l.reason === 'unknown_point')?.detail).toContain('NO-SUCH-POINT');
    const metrics = await (await fetch(`${monitor.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`sentinel_dead_letters_total\\{reason="bad_json",enterprise="${E}",gateway="GW01"\\} 1`));
    expect(metrics).toMatch(new RegExp(`sentinel_dead_letters_total\\{reason="unknown_point",enterprise="${E}",gateway="GW01"\\} 1`));
    const gateways = (await (await fetch(`${monitor.url}/api/gateways`)).json()) as { enterpriseCode: string; refused: Record<string, number> }[];
    expect(gateways.find((g) => g.enterpriseCode === E)?.refused).toEqual({ bad_json: 1, unknown_point: 1 });
    expect((await fetch(`${monitor.url}/health`)).status).toBe(200);
    // The same message twice, as a QoS 1 repeat brings it: its reading counts once in the aggregates.
    const late = async (): Promise<number> => Number(/^sentinel_rollup_late_readings (\d+)/m.exec(await (await fetch(`${monitor.url}/metrics`)).text())?.[1]);
    const before = await late();
    const repeat = JSON.stringify({ ts: Date.now(), readings: [{ point: 'R201-PT', value: 1.6 }] });
    await gateway.publishAsync(TELEMETRY, repeat, { qos: 1 });
    await gateway.publishAsync(TELEMETRY, repeat, { qos: 1 });
    expect(await late()).toBe(before + 1);
    ws.close();
  });

  it('refuses bad API input with a 400 and a reason', async () => {
    const res = await fetch(`${monitor.url}/api/alarms?status=bogus`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe('status must be one of ACTIVE_UNACK, ACTIVE_ACK, CLEARED_UNACK, CLEARED_ACK, got "bogus"');
    expect((await fetch(`${monitor.url}/api/points`)).status).toBe(200);
  });

  it('serves its OpenAPI document and UI at /api/docs', async () => {
    const doc = (await (await fetch(`${monitor.url}/api/docs/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/api/alarms', '/api/alarms/{id}/{verb}', '/api/risk/enterprises', '/api/reports/alarms', '/api/audit/verify', '/api/points/{enterpriseCode}/{code}/series']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const actions = doc.paths['/api/alarms/{id}/{verb}']!;
    expect(Object.keys(actions)).toEqual(['post']);
    expect(actions.post).toMatchObject({ tags: ['alarms'], summary: expect.stringContaining('ack, dispose, shelve') as unknown, requestBody: { content: { 'application/json': { schema: expect.any(Object) as unknown } } } });
    const ui = await fetch(`${monitor.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('/api/docs/init.js');
    expect(await (await fetch(`${monitor.url}/api/docs/init.js`)).text()).toContain('/api/docs/openapi.json');
    expect((await globalThis.fetch(`${monitor.url}/api/docs/openapi.json`)).status).toBe(401);
    expect((await fetch(`${monitor.url}/api/docs/ui/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it('shows the alarm on the command-centre page in headless Chromium, and its clearing', async () => {
    chromium = await launchChromium();
    try {
      const page = await chromium.browser.newPage();
      await page.goto(monitor.url);
      // Signed out: the page starts with the sign-in form; signing in as admin shows the command centre.
      await page.fill('#login-username', 'admin');
      await page.fill('#login-password', TEST_ADMIN_PASSWORD);
      await page.click('#login-submit');
      await page.locator('#whoami', { hasText: 'admin · admin · 全部 all' }).waitFor();
      const row = page.locator('tr.alarm', { hasText: 'T101-TE' });
      await row.waitFor();
      expect(await row.textContent()).toContain('HH');
      await page.locator('.conn.up').waitFor();
      // The tank farm with its HH alarm shows orange in the enterprise's drill-down.
      await page.locator(`#risk .risk-tile[data-enterprise="${E}"]`).click();
      await page.locator(`.risk-tile.risk-orange[data-source="${E}/TF-1"]`).waitFor();

      // Acknowledge from the page, through its dialog: recorded as the signed-in user.
      await row.locator('button.ack').click();
      await page.click('#action-ok');
      await row.filter({ hasText: 'active, acked' }).waitFor();
      expect(await row.locator('td.handle').textContent()).toContain('✓ admin');
      expect(await page.locator('#action-msg').textContent()).toContain('acknowledged by admin');

      await gateway.publishAsync(`sites/${E}/GW01/status`, 'offline', { qos: 1, retain: true });
      await page.locator(`.gw.offline[data-gateway="${E}/GW01"]`).waitFor();

      // Cleared, the critical alarm stays on the console until its disposal is recorded.
      await gateway.publishAsync(TELEMETRY, JSON.stringify({ readings: [{ point: 'T101-TE', value: 20 }] }), { qos: 1 });
      await page.locator('tr.alarm.cleared', { hasText: 'T101-TE' }).waitFor();
      const active = (await (await fetch(`${monitor.url}/api/alarms?status=active`)).json()) as Alarm[];
      expect(active.map((a) => a.pointCode)).toEqual(['R201-PT']);

      // A dropped connection resumes from the last change the page saw: what came meanwhile is replayed, not lost.
      const received: { url: string; frame: string }[] = [];
      page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => received.push({ url: socket.url(), frame: String(payload) })));
      await page.evaluate('window.sentinel.dropConnection()');
      await gateway.publishAsync(TELEMETRY, JSON.stringify({ readings: [{ point: 'T102-TE', value: 55 }] }), { qos: 1 });
      await page.locator('tr.alarm', { hasText: 'T102-TE' }).waitFor();
      const first = received[0]!;
      expect(first.url).toMatch(/\/ws\?values=none&resume=[0-9a-f]{16}\.\d+$/);
      expect(JSON.parse(first.frame)).toMatchObject({ type: 'resume', seq: 0 });
      expect(JSON.parse(received[1]!.frame)).toMatchObject({ type: 'alarm', seq: 1, alarm: { pointCode: 'T102-TE', level: 'HH' } });
    } finally {
      await chromium.close();
      chromium = null;
    }
  });
});
