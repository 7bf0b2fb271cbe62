import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteAlarmStore } from '#libs/store-embedded/index.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { syntheticCreditCode } from '../simulators/national-registry.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';
import { alarmWhere, RecordingWsClient } from './support/ws-client.js';

const ENTERPRISE = syntheticCreditCode(11, '370811');
const POINTS = 150;
const pointCode = (i: number): string => `P${String(i).padStart(3, '0')}`;

/** The demo registry's files with one more site: an enterprise of 150 temperature points with HH 50 on one gateway. */
function stormConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-storm-config-'));
  cpSync(resolve('config'), dir, { recursive: true });
  mkdirSync(join(dir, 'sites'), { recursive: true });
  const lines = [
    'enterprises:',
    `  - code: ${ENTERPRISE}`,
    '    name: 告警风暴测试企业 (alarm storm test enterprise)',
    '    industry: hazardous_chemicals',
    '    regionCode: "370811"',
    '    gateways:',
    '      - { code: GW01, reportingPeriodS: 60 }',
    '    hazardSources:',
    '      - { code: TF-1, name: tank farm, kind: tank_farm, grade: 3 }',
    '    points:',
    ...Array.from({ length: POINTS }, (_, i) => `      - { code: ${pointCode(i)}, hazardSource: TF-1, gateway: GW01, type: temperature, unit: "°C", range: [-40, 150], limits: { h: 40, hh: 50 }, deadband: 1 }`),
  ];
  writeFileSync(join(dir, 'sites', 'storm.yaml'), `${lines.join('\n')}\n`);
  return dir;
}

/**
 * The group commit under an alarm storm: a message that changes 150 alarms at once is pushed at once, then stored in
 * transactions of a bounded size with the event loop free between them, in order, with the audit chain whole, also
 * when the store fails between two of them.
 */
describe('alarm storm and the group commit', () => {
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let ws: RecordingWsClient;
  let reader: Database.Database;
  const publishAll = (value: number) =>
    gateway.publishAsync(`sites/${ENTERPRISE}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: Array.from({ length: POINTS }, (_, i) => ({ point: pointCode(i), value })) }), { qos: 1 });
  const commits = async (): Promise<number> => (await monitor.runtime.metrics.alarmCommit.get()).values.find((v) => v.metricName === 'sentinel_alarm_commit_seconds_count')?.value ?? 0;
  /** Waits, reading the file through a connection of its own (an API read would write what waits at once), until `sql` counts `n`. */
  const storedCount = async (sql: string, n: number): Promise<void> => {
    for (let count = -1; count !== n; ) {
      count = (reader.prepare(sql).get() as { n: number }).n;
      if (count !== n) await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    const config = testConfig({ configDir: stormConfig(), rules: { chatterMaxTransitions: 0, floodMaxAlarms: 0, gatewaySilencePeriods: 1000, lateWindowS: 300, tickMs: 500 } });
    monitor = await startMonitor(config);
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `storm-e2e-${Date.now()}` });
    ws = await RecordingWsClient.ofMonitor(monitor.url);
    reader = new Database(join(config.dataDir, 'alarms.db'), { readonly: true });
  });

  afterAll(async () => {
    reader?.close();
    ws?.close();
    await gateway?.endAsync();
    await monitor?.close();
  });

  let fetch: typeof globalThis.fetch = globalThis.fetch;
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${monitor.url}${path}`)).json()) as T;

  it('150 alarms raised and cleared by two messages: pushed at once, stored in several bounded transactions, every step in order', async () => {
    const before = await commits();
    await publishAll(60);
    await ws.waitFor(alarmWhere({ pointCode: pointCode(POINTS - 1), status: 'ACTIVE_UNACK' }));
    await storedCount(`SELECT COUNT(*) AS n FROM alarms WHERE status = 'ACTIVE_UNACK' AND json_extract(body, '$.enterpriseCode') = '${ENTERPRISE}'`, POINTS);
    // 150 alarm states and 150 audit entries (and the risk changes) do not fit one slice of 128 records.
    expect((await commits()) - before).toBeGreaterThanOrEqual(3);

    await publishAll(20);
    await ws.waitFor(alarmWhere({ pointCode: pointCode(POINTS - 1), status: 'CLEARED_UNACK' }));
    await storedCount(`SELECT COUNT(*) AS n FROM alarms WHERE status = 'CLEARED_UNACK' AND json_extract(body, '$.enterpriseCode') = '${ENTERPRISE}'`, POINTS);
    expect((await commits()) - before).toBeGreaterThanOrEqual(6);

    const trails = reader.prepare("SELECT alarm_id, group_concat(action, ',') AS steps FROM (SELECT alarm_id, action FROM audit ORDER BY seq) GROUP BY alarm_id").all() as { alarm_id: string; steps: string }[];
    const stormAlarms = new Set((reader.prepare(`SELECT id FROM alarms WHERE json_extract(body, '$.enterpriseCode') = '${ENTERPRISE}'`).all() as { id: string }[]).map((r) => r.id));
    expect(stormAlarms.size).toBe(POINTS);
    for (const t of trails.filter((t) => stormAlarms.has(t.alarm_id))) expect(t.steps).toBe('raise,clear');
    expect(trails.filter((t) => stormAlarms.has(t.alarm_id))).toHaveLength(POINTS);
    expect(await get<{ ok: boolean; entries: number }>('/api/audit/verify')).toMatchObject({ ok: true });
  });

  it('the store turning read-only between slices: the rest waits in memory and is stored after, in order, the audit chain whole', async () => {
    const store = monitor.runtime.alarmStore as SqliteAlarmStore;
    const transaction = store.transaction.bind(store);
    let calls = 0;
    store.transaction = <T>(work: () => T): T => {
      if (++calls === 2) store.db.pragma('query_only = 1');
      return transaction(work);
    };
    const active = `SELECT COUNT(*) AS n FROM alarms WHERE status = 'ACTIVE_UNACK' AND json_extract(body, '$.enterpriseCode') = '${ENTERPRISE}'`;
    try {
      await publishAll(60);
      await ws.waitFor(alarmWhere({ condition: 'storage_unavailable', originatorCode: 'alarm-store', status: 'ACTIVE_UNACK' }));
      const partial = (reader.prepare(active).get() as { n: number }).n;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(POINTS);
    } finally {
      store.transaction = transaction;
      store.db.pragma('query_only = 0');
    }
    await ws.waitFor(alarmWhere({ condition: 'storage_unavailable', originatorCode: 'alarm-store', status: 'CLEARED_UNACK' }));
    await storedCount(active, POINTS);
    const raises = reader
      .prepare(`SELECT json_extract(x.body, '$.pointCode') AS point FROM audit a JOIN alarms x ON x.id = a.alarm_id WHERE a.action = 'raise' AND x.status = 'ACTIVE_UNACK' AND json_extract(x.body, '$.enterpriseCode') = '${ENTERPRISE}' ORDER BY a.seq`)
      .all() as { point: string }[];
    expect(raises.map((r) => r.point)).toEqual(Array.from({ length: POINTS }, (_, i) => pointCode(i)));
    expect(await get<{ ok: boolean }>('/api/audit/verify')).toMatchObject({ ok: true });
  });
});
