import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, startMosquitto, type InfluxService, type TestService } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { loadScenarios } from '../simulators/scenario.js';
import { runScenarios, verdictTable } from '../simulators/scenario-runner.js';
import { testConfig } from './support/monitor-config.js';
import { login, TEST_ADMIN_PASSWORD } from './support/auth.js';
import { scenariosCommand } from '#apps/cli/scenarios.command.js';
import type { CliIo } from '#apps/cli/cli-io.js';

/**
 * Every staged hazard of simulators/scenarios against the app with real mosquitto and influxd: each raises the
 * alarms it must, within its time, and none it must not. The same runner is `npm run scenarios`.
 */
describe('scenarios', () => {
  let mosquitto: TestService;
  let influx: InfluxService;
  let monitor: RunningMonitor;

  beforeAll(async () => {
    [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxd()]);
    monitor = await startMonitor(testConfig({ mqttUrl: mosquitto.url, influx: { url: influx.url, db: 'scenarios', token: null, downsample: false } }));
  });
  afterAll(async () => {
    await monitor?.close();
    await Promise.all([mosquitto?.stop(), influx?.stop()]);
  });

  it('raises what each scenario must and nothing it must not', async () => {
    const scenarios = loadScenarios(resolve('simulators/scenarios')).filter((s) => !s.dayOnly);
    expect(scenarios.map((s) => s.name)).toEqual([
      'burst', 'clock-fast', 'dust-spark', 'flapping-network', 'gas-leak-vote', 'gateway-offline', 'hot-hopper', 'hovering-at-h', 'overflow',
      'replay-after-reconnect', 'replay-buffered-hour', 'runaway-reaction', 'sensor-out-of-range', 'stuck-sensor', 'tank-overpressure',
    ]);
    const verdicts = await runScenarios(scenarios, { mqttUrl: mosquitto.url, apiUrl: monitor.url, token: (await login(monitor.url)).token });
    console.log(verdictTable(verdicts));
    expect(verdicts.filter((v) => !v.ok)).toEqual([]);
    expect(verdicts.length).toBeGreaterThanOrEqual(38);
  }, 180_000);

  it('runs as `npm run scenarios` against a monitor with its embedded broker, the gateways logging in with their passwords', async () => {
    const embedded = await startMonitor(testConfig({ mqttAuth: { allowAnonymous: false, username: null, password: null, credentialsFile: null } }));
    try {
      const out: string[] = [];
      const io: CliIo = { env: { SENTINEL_PASSWORD: TEST_ADMIN_PASSWORD }, readStdin: () => Promise.resolve(''), out: (l) => out.push(l), err: (l) => out.push(l) };
      const code = await scenariosCommand(['--url', embedded.url, '--mqtt', embedded.mqttUrl, '--only', 'tank-overpressure,gateway-offline'], io);
      expect(out.at(-1)).toBe('6 of 6 expectations met in 2 scenarios');
      expect(code).toBe(0);
      expect(await scenariosCommand(['--url', embedded.url, '--only', 'no-such-thing'], io)).toBe(2);
      expect(out.at(-2)).toContain('--only: no scenario no-such-thing; there are burst, clock-fast');
    } finally {
      await embedded.close();
    }
  }, 120_000);
});
