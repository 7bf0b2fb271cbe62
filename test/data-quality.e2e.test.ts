import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '#libs/contracts/index.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import type { DataQuality } from '#apps/monitor/data-quality.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';

const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';
const SUZHOU_POINTS = ['T101-TE', 'T101-PT', 'T101-LT', 'T102-TE', 'T102-LT', 'TF1-GAS1', 'TF1-GAS2', 'TF1-GAS3', 'R201-TE', 'R201-PT', 'RX1-H2S'];

/**
 * Data completeness per enterprise (数据完整率), with the window's minutes shortened to seconds (10 buckets of 1 s):
 * an enterprise sending nothing gets its own data_incomplete alarm once the window is observed, one sending all its
 * points does not, and the alarm clears when its data comes back.
 */
describe('data quality per enterprise', () => {
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let fetch: typeof globalThis.fetch;
  let feeding: NodeJS.Timeout | null = null;

  beforeAll(async () => {
    monitor = await startMonitor(testConfig({ rules: { ...testConfig().rules, tickMs: 200, dataQualityWindowMin: 10, dataQualityBucketMs: 1000, dataCompletenessMin: 0.5 } }));
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `dq-e2e-${Date.now()}` });
  });
  afterAll(async () => {
    if (feeding) clearInterval(feeding);
    await gateway?.endAsync();
    await monitor?.close();
  });

  const send = (enterprise: string, points: readonly string[], value: number): void => {
    void gateway.publishAsync(`sites/${enterprise}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: points.map((point) => ({ point, value })) }), { qos: 1 });
  };
  const incomplete = async (): Promise<Alarm[]> => (await (await fetch(`${monitor.url}/api/alarms?state=active&condition=data_incomplete`)).json()) as Alarm[];

  it('raises data_incomplete for the enterprise that sends nothing, and not for the one sending every point', async () => {
    // Values inside every point's normal band, every second (their periods call for one every 10 s).
    feeding = setInterval(() => send(SUZHOU, SUZHOU_POINTS, 8), 1000);
    send(SUZHOU, SUZHOU_POINTS, 8);
    await expect.poll(incomplete, { timeout: 25_000, interval: 500 }).toHaveLength(1);
    const [alarm] = await incomplete();
    expect(alarm).toMatchObject({ enterpriseCode: JINING, originatorKind: 'enterprise', condition: 'data_incomplete', severity: 'major', value: 0, threshold: 50, unit: '%' });
    expect(alarm!.message).toMatch(/^数据完整率 data completeness 0 % over 1?\d(\.\d)? min \(0 of \d+ readings expected\) is below 50 %$/);

    const list = (await (await fetch(`${monitor.url}/api/data-quality`)).json()) as DataQuality[];
    expect(list.map((q) => q.enterpriseCode)).toEqual([JINING, SUZHOU]);
    expect(list[0]).toMatchObject({ received: 0, completeness: 0, timeliness: null });
    expect(list[1]!.completeness).toBe(1);
    expect(list[1]!.timeliness).toBe(1);
    const one = (await (await fetch(`${monitor.url}/api/enterprises/${SUZHOU}/data-quality`)).json()) as DataQuality;
    expect(one).toMatchObject({ enterpriseCode: SUZHOU, points: 11, completeness: 1 });
    expect(await (await fetch(`${monitor.url}/metrics`)).text()).toMatch(/^sentinel_enterprises_data_incomplete 1$/m);
  });

  it('clears it once the enterprise sends its data again', async () => {
    const alarmId = (await incomplete())[0]!.id;
    if (feeding) clearInterval(feeding);
    feeding = setInterval(() => {
      send(SUZHOU, SUZHOU_POINTS, 8);
      send(JINING, ['DC1-TE', 'DC1-DP'], 800);
    }, 500);
    await expect.poll(incomplete, { timeout: 15_000, interval: 500 }).toHaveLength(0);
    const cleared = (await (await fetch(`${monitor.url}/api/alarms/${alarmId}`)).json()) as Alarm;
    expect(cleared.status).toBe('CLEARED_UNACK');
    expect(cleared.message).toMatch(/^data completeness back to \d+(\.\d)? %$/);
  });
});
