import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, AuditEntry, RiskHistoryEntry } from '#libs/contracts/index.js';
import { freePort, startMosquitto, type TestService } from '#libs/testing/services.js';
import { RecordingWsClient, type WsFrame } from './support/ws-client.js';
import { login, signedIn, TEST_ADMIN_PASSWORD } from './support/auth.js';

/** Signed in as the seeded admin once the monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91320594MA1WKTRP3E';

/** The built monitor as its own process, so the test can kill -9 it. */
class MonitorProcess {
  private child: ChildProcess | null = null;
  readonly url: string;
  constructor(private readonly env: NodeJS.ProcessEnv & { PORT: string }) {
    this.url = `http://127.0.0.1:${env.PORT}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [resolve('dist/apps/monitor/main.js')], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'inherit'] });
    this.child = child;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`monitor exited with ${child.exitCode} during start`);
      const up = await globalThis.fetch(`${this.url}/health`).then((r) => r.ok, () => false);
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: no shutdown hooks, nothing flushed beyond what was committed. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const alarmEvent = (event: string, match: (a: Alarm) => boolean = () => true) => (f: WsFrame) => f.type === 'alarm' && f.event === event && match(f.alarm as Alarm);

describe('closed loop in the running monitor: escalation, kill -9, acknowledge, dispose, close, audit', () => {
  let mosquitto: TestService;
  let monitor: MonitorProcess;
  let gateway: MqttClient;
  let dataDir: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    mosquitto = await startMosquitto();
    const configDir = mkdtempSync(join(tmpdir(), 'sentinel-lifecycle-cfg-'));
    cpSync(resolve('config'), configDir, { recursive: true });
    // Short timers for the test: county after 2 s, city after 5 s without acknowledgement.
    writeFileSync(
      join(configDir, 'escalation.yaml'),
      'escalation:\n  critical: { countyAfterS: 2, cityAfterS: 5 }\n  major: null\n  minor: null\n  warning: null\ndisposalRequired: [critical, major]\nmaxShelveS: 600\n',
    );
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-lifecycle-data-'));
    monitor = new MonitorProcess(
      { PORT: String(await freePort()), HOST: '127.0.0.1', MQTT_URL: mosquitto.url, DATA_DIR: dataDir, CONFIG_DIR: configDir, CONFIG_WATCH: '0', SIMULATE: '0', RULE_TICK_MS: '200', LOG_LEVEL: 'error', MQTT_CLIENT_ID: 'lifecycle-e2e', SENTINEL_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD },
    );
    await monitor.start();
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(mosquitto.url, { clientId: 'lifecycle-gw' });
  }, 120_000);

  afterAll(async () => {
    await gateway?.endAsync();
    await monitor?.kill9();
    await mosquitto?.stop();
  });

  it('raises, escalates to the county, survives kill -9 with its pending escalation, reaches the city, then is acknowledged, disposed and closed', async () => {
    let ws = await RecordingWsClient.ofMonitor(monitor.url);
    const raisedAt = Date.now();
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: raisedAt, readings: [{ point: 'T101-TE', value: 56 }] }), { qos: 1 });
    const raise = await ws.waitFor(alarmEvent('raise', (a) => a.pointCode === 'T101-TE'));
    const id = (raise.alarm as Alarm).id;
    // Four-colour risk: the grade-3 tank farm (20 points) with one HH alarm (30) turns orange, and the enterprise with it.
    const orange = await ws.waitFor((f) => f.type === 'risk' && (f.changes as RiskHistoryEntry[]).some((c) => c.hazardSourceCode === 'TF-1' && c.to === 'orange'));
    expect((orange.changes as RiskHistoryEntry[]).find((c) => c.hazardSourceCode === 'TF-1')).toMatchObject({ from: 'blue', score: 50, reasons: [{ points: 20, reason: 'inherent grade 3 (GB 18218-2018)' }, { points: 30, reason: '1 critical alarm active (T101-TE)' }] });
    expect((orange.changes as RiskHistoryEntry[]).find((c) => c.hazardSourceCode === null)).toMatchObject({ enterpriseCode: E, to: 'orange' });
    const county = await ws.waitFor(alarmEvent('escalate', (a) => a.id === id));
    expect((county.alarm as Alarm).escalation).toMatchObject({ level: 'county', steps: [{ level: 'county', regionCode: '320594' }] });
    const countyAt = (county.alarm as Alarm).escalation.steps[0]!.at;
    expect(Date.parse(countyAt) - raisedAt).toBeGreaterThanOrEqual(2000);
    ws.close();

    // kill -9 between the county and the city step: the alarm, its escalation and the audit chain must survive.
    await monitor.kill9();
    await monitor.start();
    ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    const snapshot = await ws.waitFor((f) => f.type === 'snapshot');
    expect((snapshot.alarms as Alarm[]).map((a) => a.id)).toContain(id);
    const city = await ws.waitFor(alarmEvent('escalate', (a) => a.id === id));
    const steps = (city.alarm as Alarm).escalation.steps;
    expect(steps.map((s) => [s.level, s.regionCode])).toEqual([
      ['county', '320594'],
      ['city', '320500'],
    ]);
    expect(steps[0]!.at).toBe(countyAt);
    expect(Date.parse(steps[1]!.at) - raisedAt).toBeGreaterThanOrEqual(5000);

    const base = `${monitor.url}/api/alarms/${id}`;
    expect((await post(`${base}/dispose`, { cause: 'c', action: 'a', handler: 'wang' })).status).toBe(409);
    const ack = await post(`${base}/ack`, {});
    expect(ack).toMatchObject({ status: 200, body: { status: 'ACTIVE_ACK', acknowledged: { by: 'admin' } } });
    const again = await post(`${base}/ack`, {});
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/^already acknowledged by admin at /);
    const incomplete = await post(`${base}/dispose`, { action: 'a', handler: 'wang' });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.message).toMatch(/^cause: /);
    const disposed = await post(`${base}/dispose`, { cause: '冷却水中断 cooling water lost', action: '启用备用泵 standby pump started', handler: '王工 wang' });
    expect(disposed).toMatchObject({ status: 200, body: { disposal: { handler: '王工 wang' }, closedAt: null } });

    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: [{ point: 'T101-TE', value: 20 }] }), { qos: 1 });
    const closed = await ws.waitFor(alarmEvent('close', (a) => a.id === id));
    expect((closed.alarm as Alarm).status).toBe('CLEARED_ACK');
    expect((closed.alarm as Alarm).closedAt).not.toBeNull();
    expect((await post(`${base}/comments`, { text: 'late' })).status).toBe(409);
    await ws.waitFor((f) => f.type === 'risk' && (f.changes as RiskHistoryEntry[]).some((c) => c.hazardSourceCode === 'TF-1' && c.to === 'blue'));
    ws.close();
    const history = (await (await fetch(`${monitor.url}/api/risk/history?enterpriseCode=${E}`)).json()) as RiskHistoryEntry[];
    expect(history.filter((h) => h.hazardSourceCode === 'TF-1').map((h) => h.to)).toEqual(['blue', 'orange']);
    const cities = (await (await fetch(`${monitor.url}/api/risk/regions?level=city`)).json()) as { regionCode: string; enterprises: Record<string, number> }[];
    expect(cities.find((c) => c.regionCode === '320500')?.enterprises).toEqual({ red: 0, orange: 0, yellow: 0, blue: 1 });
    const sources = (await (await fetch(`${monitor.url}/api/risk/hazard-sources?enterpriseCode=${E}`)).json()) as { hazardSourceCode: string; colour: string }[];
    expect(sources.map((x) => [x.hazardSourceCode, x.colour]).sort()).toEqual([['RX-1', 'blue'], ['TF-1', 'blue']]);
    const report = (await (await fetch(`${monitor.url}/api/reports/alarms?enterpriseCode=${E}`)).json()) as { enterprises: Record<string, unknown>[]; isa: Record<string, unknown> };
    expect(report.enterprises).toEqual([expect.objectContaining({ enterpriseCode: E, raised: 1, escalated: 1, overdue: 0, bySeverity: { critical: 1, major: 0, minor: 0, warning: 0 } })]);
    expect(report.enterprises[0]!.meanMinutesToAcknowledge).toBeGreaterThan(0.08);
    expect(report.isa).toMatchObject({ alarmsPer10MinPeak: 1, stale: 0 });

    const trail = (await (await fetch(`${base}/audit`)).json()) as AuditEntry[];
    expect(trail.map((e) => [e.action, e.actor])).toEqual([
      ['raise', 'system'],
      ['escalate', 'system'],
      ['escalate', 'system'],
      ['ack', 'admin'],
      ['dispose', 'admin'],
      ['clear', 'system'],
      ['close', 'system'],
    ]);
    expect(trail[3]!.origin).toMatch(/^127\.0\.0\.1 \(session:[0-9a-f]+\)$/);
    expect(await (await fetch(`${monitor.url}/api/audit/verify`)).json()).toMatchObject({ ok: true, problem: null });
    const closedList = (await (await fetch(`${monitor.url}/api/alarms?state=closed&severity=critical`)).json()) as Alarm[];
    expect(closedList.map((a) => a.id)).toContain(id);
  });

  it('answers 404 for an unknown alarm or action and 400 naming a bad query parameter', async () => {
    expect((await post(`${monitor.url}/api/alarms/nope/ack`, {})).status).toBe(404);
    expect((await post(`${monitor.url}/api/alarms/nope/explode`, {})).status).toBe(404);
    const bad = await fetch(`${monitor.url}/api/alarms?severity=loud`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('severity must be one of critical, major, minor, warning, got "loud"');
  });

  it('takes a point out of service: its alarm is recorded with the mark and does not colour the risk map', async () => {
    const point = `${monitor.url}/api/points/${E}/R201-TE`;
    expect((await post(`${point}/in-service`, {})).status).toBe(409);
    const window = await post(`${point}/out-of-service`, { reason: '检修 calibration', forS: 600 });
    expect(window).toMatchObject({ status: 200, body: { pointCode: 'R201-TE', reason: '检修 calibration' } });
    expect((await post(`${monitor.url}/api/points/${E}/NOPE/out-of-service`, { reason: 'x', forS: 60 })).status).toBe(404);
    expect((await post(`${point}/out-of-service`, { reason: 'x', forS: 0 })).status).toBe(400);

    const ws = await RecordingWsClient.ofMonitor(monitor.url);
    await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: [{ point: 'R201-TE', value: 140 }] }), { qos: 1 });
    const raise = await ws.waitFor(alarmEvent('raise', (a) => a.pointCode === 'R201-TE' && a.condition === 'limit_high'));
    expect((raise.alarm as Alarm).outOfService).toMatchObject({ reason: '检修 calibration' });
    const risk = (await (await fetch(`${monitor.url}/api/risk/hazard-sources?enterpriseCode=${E}`)).json()) as { hazardSourceCode: string; colour: string }[];
    expect(risk.find((r) => r.hazardSourceCode === 'RX-1')?.colour).toBe('blue');

    expect(await post(`${point}/in-service`, {})).toMatchObject({ status: 200, body: { inService: true } });
    const back = await ws.waitFor(alarmEvent('in_service', (a) => a.pointCode === 'R201-TE'));
    expect((back.alarm as Alarm).outOfService).toBeNull();
    expect(await (await fetch(`${monitor.url}/api/maintenance`)).json()).toEqual([]);
    ws.close();
    const trail = (await (await fetch(`${monitor.url}/api/audit?alarmId=point:${E}/R201-TE`)).json()) as AuditEntry[];
    expect(trail.map((e) => [e.action, e.actor])).toEqual([
      ['out_of_service', 'admin'],
      ['in_service', 'admin'],
    ]);
  });

  it('the audit verify command finds the chain intact, and finds an edited entry', async () => {
    await monitor.kill9();
    const run = (): { code: number; out: string } => {
      try {
        return { code: 0, out: execFileSync(process.execPath, [resolve('dist/apps/monitor/audit-verify.js')], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8', stdio: 'pipe' }) };
      } catch (err) {
        const e = err as { status: number; stderr: string };
        return { code: e.status, out: e.stderr };
      }
    };
    const intact = run();
    expect(intact.code).toBe(0);
    expect(intact.out).toMatch(/^audit log intact: \d+ entries; head [0-9a-f]{64}/);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(dataDir, 'alarms.db'));
    db.prepare("UPDATE audit SET actor = 'nobody' WHERE action = 'ack'").run();
    db.close();
    const broken = run();
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^audit log BROKEN at entry \d+: content does not match its hash \(edited\?\)/);
  });
});
