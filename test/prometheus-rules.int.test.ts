import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxService } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';

const RULES = resolve('deploy/prometheus/alerts.yml');

/** The shipped Prometheus alert rules: valid, firing on the series they are for (promtool), on metrics that exist. */
describe('Prometheus alert rules (deploy/prometheus)', () => {
  let monitor: RunningMonitor;
  let influx: InfluxService;
  let configDir: string;

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'sentinel-prom-config-'));
    cpSync(resolve('config'), configDir, { recursive: true });
    writeFileSync(join(configDir, 'notify.yaml'), 'notify:\n  channels: [{ name: hook, type: webhook, url: "http://127.0.0.1:9/hook" }]\n  routes: [{ level: enterprise, channels: [hook] }]\n');
    // With InfluxDB, as the outage buffer's metrics exist only then.
    influx = await startInfluxd();
    monitor = await startMonitor(testConfig({ configDir, influx: { url: influx.url, db: 'prom', token: null, downsample: false } }));
  });
  afterAll(async () => {
    await monitor?.close();
    await influx?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('pass promtool check and the unit tests of alerts.test.yml', () => {
    expect(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })).toContain('SUCCESS: 6 rules found');
    expect(execFileSync('promtool', ['test', 'rules', resolve('deploy/prometheus/alerts.test.yml')], { encoding: 'utf8' })).toContain('SUCCESS');
  });

  it('use only metrics the monitor exposes', async () => {
    const fetch = await signedIn(monitor.url);
    const exposed = await (await fetch(`${monitor.url}/metrics`)).text();
    const used = [...new Set(readFileSync(RULES, 'utf8').match(/sentinel_[a-z_]+/g) ?? [])];
    expect(used.length).toBeGreaterThanOrEqual(6);
    for (const name of used) expect(exposed, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });
});
