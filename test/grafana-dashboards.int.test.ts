import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '#libs/contracts/index.js';
import { startInfluxd, type InfluxSeries, type InfluxService } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { RecordingWsClient, type WsFrame } from './support/ws-client.js';

const DASHBOARDS = resolve('dashboards/grafana/dashboards');
const DB = 'sentinel';
const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';
/** The value each variable takes in the test: where the published data has alarms of every kind. */
const CHOSEN: Record<string, string> = { enterprise: SUZHOU, hazard_source: 'TF-1', point: 'T101-TE' };

interface Target {
  readonly refId?: string;
  readonly query?: string;
  readonly resultFormat?: string;
}
interface Panel {
  readonly title?: string;
  readonly targets?: Target[];
  readonly panels?: Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly templating?: { list: { name: string; type: string; query?: string }[] };
  readonly panels?: Panel[];
  readonly annotations?: { list: { name: string; query?: string }[] };
}

/** Every InfluxQL query of a dashboard: variables, panel targets (rows included) and annotations, each with where it is. */
function queriesOf(d: Dashboard): { where: string; query: string; format: string }[] {
  const out: { where: string; query: string; format: string }[] = [];
  const walk = (panels: Panel[] = []): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.query) out.push({ where: `panel "${p.title ?? '?'}" ${t.refId ?? ''}`, query: t.query, format: t.resultFormat ?? 'time_series' });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const a of d.annotations?.list ?? []) if (a.query) out.push({ where: `annotation "${a.name}"`, query: a.query, format: 'annotation' });
  return out;
}

/** What Grafana puts in: the time filter, the interval, and each variable's value. */
function substituted(query: string, values: Record<string, string>): string {
  let q = query.replaceAll('$timeFilter', 'time > now() - 1h').replaceAll('$__interval', '30s');
  for (const [name, value] of Object.entries(values)) q = q.replaceAll(`$${name}`, value);
  return q;
}

/**
 * The provisioned Grafana dashboards against a real influxd holding what the monitor wrote from gateway messages:
 * every query of every dashboard, with its variables and time macros filled in as Grafana would, runs and returns
 * rows of the shape its panel expects.
 */
describe('Grafana dashboards: every query against real InfluxDB data', () => {
  let influx: InfluxService;
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let ws: RecordingWsClient;
  const dashboards = readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as Dashboard);

  beforeAll(async () => {
    influx = await startInfluxd();
    monitor = await startMonitor(testConfig({ influx: { url: influx.url, db: DB, token: null, downsample: true } }));
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `grafana-int-${Date.now()}` });
    ws = await RecordingWsClient.ofMonitor(monitor.url);
    const isAlarm = (match: (a: Alarm) => boolean) => (f: WsFrame) => f.type === 'alarm' && match(f.alarm as Alarm);
    const now = Date.now();
    // Six rounds 30 s apart: T101-TE through H, then HH (an update), and back, a bad reading of T102-LT, and a second enterprise.
    for (let r = 0; r < 6; r++) {
      const ts = now - (6 - r) * 30_000;
      const readings = [
        { point: 'T101-TE', value: r === 1 ? 45 : r === 2 ? 55 : 20 + r },
        { point: 'T101-PT', value: 5 + r * 0.1 },
        { point: 'T101-LT', value: 50 },
        { point: 'T102-TE', value: 21 },
        { point: 'T102-LT', value: 60, ...(r === 4 && { quality: 'bad' }) },
        { point: 'TF1-GAS1', value: 0 },
      ];
      await gateway.publishAsync(`sites/${SUZHOU}/GW01/telemetry`, JSON.stringify({ ts, readings }), { qos: 1 });
      await gateway.publishAsync(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ ts, readings: [{ point: 'DC1-DP', value: 900 }, { point: 'DC1-TE', value: 40 }] }), { qos: 1 });
    }
    await ws.waitFor(isAlarm((a) => a.pointCode === 'T101-TE' && a.status === 'CLEARED_UNACK'));
    await gateway.publishAsync(`sites/${SUZHOU}/GW01/status`, 'offline', { qos: 1 });
    await ws.waitFor(isAlarm((a) => a.condition === 'gateway_offline' && a.status === 'ACTIVE_UNACK'));
    await gateway.publishAsync(`sites/${SUZHOU}/GW01/status`, 'online', { qos: 1 });
    await ws.waitFor(isAlarm((a) => a.condition === 'gateway_offline' && a.status === 'CLEARED_UNACK'));
    await monitor.runtime.seriesStore.flush();
  });

  afterAll(async () => {
    ws?.close();
    await gateway?.endAsync();
    await monitor?.close();
    await influx?.stop();
  });

  it('provisions the regional overview, trends, completeness, ingest and live-value dashboards, each with a unique uid', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['sentinel-completeness', 'sentinel-ingest', 'sentinel-live', 'sentinel-overview', 'sentinel-trends']);
  });

  it('every variable query lists the values the data has, each one filled in from the variables before it', async () => {
    for (const d of dashboards) {
      const values: Record<string, string> = {};
      for (const v of d.templating?.list ?? []) {
        if (v.type !== 'query' || !v.query) continue;
        const series = await influx.query(substituted(v.query, values), DB);
        const listed = series.flatMap((s) => s.values.map((row) => String(row[1])));
        expect(listed, `${d.uid}: variable ${v.name}`).toContain(CHOSEN[v.name]);
        values[v.name] = CHOSEN[v.name]!;
      }
    }
  });

  it('every panel and annotation query runs and returns rows of its panel\'s shape', async () => {
    const checked: string[] = [];
    for (const d of dashboards) {
      const values = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, CHOSEN[v.name] ?? '']));
      for (const { where, query, format } of queriesOf(d)) {
        const label = `${d.uid}: ${where}: ${substituted(query, values)}`;
        let series: InfluxSeries[] = [];
        await expect(
          influx.query(substituted(query, values), DB).then((s) => {
            series = s;
          }),
          label,
        ).resolves.toBeUndefined();
        expect(series.length, label).toBeGreaterThan(0);
        for (const s of series) {
          expect(s.columns[0], label).toBe('time');
          expect(s.columns.length, label).toBeGreaterThanOrEqual(2);
          expect(s.values.length, label).toBeGreaterThan(0);
        }
        // A series grouped by a tag carries it, for the legend ($tag_…) or the table's column.
        const groupBy = /GROUP BY (?:time\([^)]*\), )?"(\w+)"/.exec(query)?.[1];
        if (groupBy !== undefined) for (const s of series) expect(s.tags?.[groupBy], label).toBeTruthy();
        if (format === 'annotation') expect(series[0]!.columns, label).toContain('message');
        if (format === 'time_series' && !/GROUP BY "/.test(query)) {
          // A time series has numbers to draw.
          expect(series.some((s) => s.values.some((row) => row.slice(1).some((v) => typeof v === 'number' && v > 0))), label).toBe(true);
        }
        checked.push(`${d.uid} ${where}`);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(12);
  });

  it('the trend panel draws the limit the point\'s alarm crossed, and the overview counts every raise under its severity', async () => {
    const limits = await influx.query(substituted('SELECT last("threshold") AS "limit" FROM "alarm" WHERE "enterprise" = \'$enterprise\' AND "code" = \'$point\' AND $timeFilter GROUP BY time($__interval), "level" fill(previous)', CHOSEN), DB);
    expect(limits.find((s) => s.tags?.level === 'HH')?.values.some((row) => row[1] === 50)).toBe(true);
    const raises = await influx.query(substituted('SELECT count("id") AS "raises" FROM "alarm" WHERE "kind" = \'raise\' AND "enterprise" =~ /^$enterprise$/ AND $timeFilter GROUP BY "severity"', CHOSEN), DB);
    const bySeverity = new Map(raises.map((s) => [s.tags?.severity ?? '', Number(s.values[0]![1])]));
    // T101-TE's raise at H (minor) and the gateway's going offline (major) are among them, and the groups add up.
    expect([...bySeverity.keys()]).toEqual(expect.arrayContaining(['minor', 'major']));
    const all = await influx.query(`SELECT count("id") FROM "alarm" WHERE "kind" = 'raise' AND "enterprise" = '${SUZHOU}' AND time > now() - 1h`, DB);
    expect([...bySeverity.values()].reduce((a, b) => a + b, 0)).toBe(Number(all[0]!.values[0]![1]));
  });
});
