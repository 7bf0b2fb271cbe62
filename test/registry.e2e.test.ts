import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, signedIn } from './support/auth.js';
import { RecordingWsClient, type WsFrame } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const E = '91320594MA1WKTRP3E';
const TELEMETRY = `sites/${E}/GW01/telemetry`;
const TOKEN = 'registry-e2e-admin-token';

function copyOfConfig(): { dir: string; siteFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-registry-e2e-'));
  cpSync(resolve('config'), dir, { recursive: true });
  return { dir, siteFile: join(dir, 'sites', 'demo.yaml') };
}

async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

const alarmOf = (code: string) => (f: WsFrame) => f.type === 'alarm' && (f.alarm as { pointCode: string }).pointCode === code;

describe('registry: REST, reload by an admin, file watch', () => {
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let ws: RecordingWsClient;
  let siteFile: string;
  const publish = (point: string, value: number) => gateway.publishAsync(TELEMETRY, JSON.stringify({ readings: [{ point, value }] }), { qos: 1 });
  const reload = (token: string | null) =>
    globalThis.fetch(`${monitor.url}/api/registry/reload`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    const config = copyOfConfig();
    siteFile = config.siteFile;
    monitor = await startMonitor(testConfig({ configDir: config.dir, adminToken: TOKEN }));
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(monitor.mqttUrl, { clientId: 'registry-e2e-gw' });
    ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
  });
  afterAll(async () => {
    ws.close();
    await gateway.endAsync();
    await monitor.close();
  });

  it('lists points by type, region and page, with the total and the next page in headers', async () => {
    const temps = await getJson<{ code: string }[]>(`${monitor.url}/api/points?type=temperature&limit=2`);
    expect(temps.body.map((p) => p.code)).toEqual(['T101-TE', 'T102-TE']);
    expect(temps.headers.get('x-total-count')).toBe('4');
    expect(temps.headers.get('link')).toBe('</api/points?type=temperature&offset=2&limit=2>; rel="next"');
    const shandong = await getJson<{ enterpriseCode: string }[]>(`${monitor.url}/api/points?regionCode=370000`);
    expect(shandong.body).toHaveLength(5);
    expect(new Set(shandong.body.map((p) => p.enterpriseCode))).toEqual(new Set(['91370800MA3CD7LN28']));
    const enterprise = await getJson<{ region: unknown; pointCount: number; gateways: unknown[] }>(`${monitor.url}/api/enterprises/${E}`);
    expect(enterprise.body).toMatchObject({ region: { province: '320000', city: '320500', county: '320594' }, pointCount: 11 });
    expect(enterprise.body.gateways).toEqual([expect.objectContaining({ code: 'GW01', reportingPeriodS: 10 })]);
    const source = await getJson<{ grade: number; points: unknown[] }>(`${monitor.url}/api/hazard-sources/${E}/TF-1`);
    expect(source.body).toMatchObject({ grade: 3, r: 12.8 });
    expect(source.body.points).toHaveLength(8);
  });

  it('shows where every effective limit of a point came from', async () => {
    const { body } = await getJson<{ settings: Record<string, unknown>; profile: { name: string } }>(`${monitor.url}/api/points/${E}/RX1-H2S/limits`);
    expect(body.profile.name).toBe('h2s-ppm');
    expect(body.settings.h).toEqual({
      value: 7,
      from: 'profile',
      profile: 'h2s-ppm',
      file: expect.stringMatching(/profiles\/standard\.yaml$/) as string,
      path: 'profiles[2].limits.h',
      source: expect.stringContaining('GBZ 2.1-2019') as string,
    });
    expect(body.settings.ll).toEqual({ value: null, from: 'default', file: null, path: null });
    const own = await getJson<{ settings: Record<string, unknown> }>(`${monitor.url}/api/points/${E}/T101-TE/limits`);
    expect(own.body.settings.hh).toEqual({ value: 50, from: 'point', file: expect.stringMatching(/sites\/demo\.yaml$/) as string, path: 'enterprises[0].points[0].limits.hh' });
  });

  it('refuses bad queries with 400 and unknown codes with 404, naming what is wrong', async () => {
    const bad = await getJson<{ message: string }>(`${monitor.url}/api/points?type=humidity`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('type must be one of temperature, pressure');
    expect((await getJson<{ message: string }>(`${monitor.url}/api/points?regionCode=32`)).body.message).toContain('regionCode must be a 6-digit division code');
    expect((await getJson<{ message: string }>(`${monitor.url}/api/points?limit=0`)).status).toBe(400);
    const missing = await getJson<{ message: string }>(`${monitor.url}/api/points/${E}/NOPE/limits`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe(`no point NOPE in enterprise ${E}`);
  });

  it('reloads for an admin only; an invalid config is refused whole and the old registry stays in force', async () => {
    expect((await reload(null)).status).toBe(401);
    expect((await reload('wrong-token-of-some-length')).status).toBe(401);

    const original = readFileSync(siteFile, 'utf8');
    writeFileSync(siteFile, original.replace('limits: { ll: -10, l: 0, h: 40, hh: 50 }, deadband: 1 }', 'limits: { ll: -10, l: 0, h: 40, hh: 30 }, deadband: 1 }'));
    const refused = await reload(TOKEN);
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as { ok: boolean; problems: string[] };
    expect(body.ok).toBe(false);
    expect(body.problems).toEqual([expect.stringMatching(/sites\/demo\.yaml: enterprises\[0\]\.points\[0\]\.limits: hh \(30\) must be above h \(40\)/)]);
    expect((await getJson<{ limits: { hh: number } }>(`${monitor.url}/api/points/${E}/T101-TE`)).body.limits.hh).toBe(50);
    expect((await getJson<{ lastReload: { ok: boolean } }>(`${monitor.url}/api/registry`)).body.lastReload.ok).toBe(false);
    writeFileSync(siteFile, original);
  });

  it('keeps rule state across a reload: an active alarm is neither re-raised nor forgotten, and new limits apply', async () => {
    await publish('T101-TE', 45);
    await ws.waitFor(alarmOf('T101-TE'));

    const original = readFileSync(siteFile, 'utf8');
    const extraPoint = '      - { code: T103-TE, name: T-103 温度, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C", limits: { h: 40 } }\n';
    const edited = original
      .replace('limits: { ll: -10, l: 0, h: 40, hh: 50 }, deadband: 1 }', 'limits: { ll: -10, l: 0, h: 40, hh: 60 }, deadband: 1 }')
      .replace('      - { code: R201-TE', `${extraPoint}      - { code: R201-TE`);
    writeFileSync(siteFile, edited);
    const res = await reload(TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, points: 17, added: 1, removed: 0, changed: 1 });
    await ws.waitFor((f) => f.type === 'registry');

    // 55 was HH under the old limits and is only H now; 45.5 is still H: neither changes the alarm.
    await publish('T101-TE', 45.5);
    await publish('T101-TE', 55);
    await publish('T103-TE', 41); // the new point is known at once and marks the end of the batch
    await ws.waitFor(alarmOf('T103-TE'));
    expect(ws.frames.filter(alarmOf('T101-TE'))).toHaveLength(1);
    await publish('T101-TE', 30);
    const cleared = await ws.waitFor((f) => alarmOf('T101-TE')(f) && (f.alarm as { status: string }).status === 'CLEARED_UNACK');
    expect(cleared.alarm).toMatchObject({ level: 'H', threshold: 40 });
    const letters = await getJson<{ detail: string }[]>(`${monitor.url}/api/dead-letters`);
    expect(letters.body.some((l) => l.detail.includes('T103-TE'))).toBe(false);
  });
});

describe('registry: file watch', () => {
  it('reloads when a site file changes (the demo simulator follows) and refuses a broken edit, keeping the registry in force', async () => {
    const { dir, siteFile } = copyOfConfig();
    const monitor = await startMonitor(testConfig({ configDir: dir, configWatch: true, simulate: true, simulatePeriodMs: 50 }));
    fetch = await signedIn(monitor.url);
    const ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    try {
      const original = readFileSync(siteFile, 'utf8');
      writeFileSync(siteFile, original.replace('      - { code: RX1-H2S', '      - { code: TF1-GAS4, hazardSource: TF-1, gateway: GW01, type: combustible_gas, unit: "%LEL" }\n      - { code: RX1-H2S'));
      await ws.waitFor((f) => f.type === 'registry' && f.points === 17);
      const added = await getJson<{ limits: unknown; profile: string }>(`${monitor.url}/api/points/${E}/TF1-GAS4`);
      expect(added.body).toMatchObject({ limits: { h: 25, hh: 50 }, profile: 'combustible-gas' });
      await ws.waitFor((f) => f.type === 'reading' && (f.readings as { point: string }[]).some((r) => r.point === 'TF1-GAS4'));

      const refused = firstValueFrom(monitor.runtime.registry.outcomes$.pipe(filter((o) => !o.ok)));
      writeFileSync(siteFile, 'enterprises: [');
      const last = await refused;
      expect(last.ok).toBe(false);
      if (last.ok) return;
      expect(last.problems?.[0]).toMatch(/demo\.yaml: YAML syntax error/);
      expect((await getJson<{ points: number }>(`${monitor.url}/api/registry`)).body.points).toBe(17);
    } finally {
      ws.close();
      await monitor.close();
    }
  });
});

describe('registry: a truncated site file', () => {
  it('is refused by the file watcher, so active alarms of the points it lacks stay active; an admin can force it', async () => {
    const { dir, siteFile } = copyOfConfig();
    const monitor = await startMonitor(testConfig({ configDir: dir, configWatch: true }));
    fetch = await signedIn(monitor.url);
    const ws = await RecordingWsClient.connect(`${monitor.url.replace('http', 'ws')}/ws`, (await login(monitor.url)).token);
    const gateway = await connectAsync(monitor.mqttUrl, { clientId: 'registry-e2e-truncated-gw' });
    const dust = '91370800MA3CD7LN28';
    try {
      await gateway.publishAsync(`sites/${dust}/GW01/telemetry`, JSON.stringify({ readings: [{ point: 'DC1-DP', value: 2000 }] }), { qos: 1 });
      const raised = await ws.waitFor(alarmOf('DC1-DP'));
      expect(raised.alarm).toMatchObject({ level: 'HH', status: 'ACTIVE_UNACK' });

      // A copy cut short at a line end still parses and validates: 3 of the 16 points, the dust collector's gone.
      const original = readFileSync(siteFile, 'utf8');
      const outcome = firstValueFrom(monitor.runtime.registry.outcomes$);
      writeFileSync(siteFile, original.slice(0, original.indexOf('      - { code: T102-TE')));
      const refused = await outcome;
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.problems[0]).toMatch(/would remove 13 of the 16 registered points \(81\.3 %.*RELOAD_MAX_REMOVED_PCT.*\?force=1/);
      expect((await getJson<{ points: number }>(`${monitor.url}/api/registry`)).body.points).toBe(16);
      const active = await getJson<{ pointCode: string }[]>(`${monitor.url}/api/alarms?state=active&enterpriseCode=${dust}`);
      expect(active.body.map((a) => a.pointCode)).toEqual(['DC1-DP']);
      expect(ws.frames.filter(alarmOf('DC1-DP'))).toHaveLength(1);

      const notForced = await fetch(`${monitor.url}/api/registry/reload`, { method: 'POST' });
      expect(notForced.status).toBe(422);
      expect(((await notForced.json()) as { problems: string[] }).problems[0]).toContain('would remove 13 of the 16');
      expect((await fetch(`${monitor.url}/api/registry/reload?force=yes`, { method: 'POST' })).status).toBe(400);

      const forced = await fetch(`${monitor.url}/api/registry/reload?force=1`, { method: 'POST' });
      expect(forced.status).toBe(200);
      expect(await forced.json()).toMatchObject({ ok: true, points: 3, removed: 13 });
      const retired = await ws.waitFor((f) => alarmOf('DC1-DP')(f) && (f.alarm as { status: string }).status === 'CLEARED_UNACK');
      expect((retired.alarm as { message: string }).message).toContain('no longer monitored');
    } finally {
      await gateway.endAsync();
      ws.close();
      await monitor.close();
    }
  });
});
