import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { isDemoRegistry, loadEnvConfig } from './env.config.js';

/** A copy of the shipped config folder, changed by `edit` (which gets its sites folder). */
function configCopy(edit: (sites: string) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-env-'));
  cpSync(resolve('config'), dir, { recursive: true });
  edit(join(dir, 'sites'));
  return dir;
}

const PLANT = `enterprises:
  - code: 91440300MA5FXXXX1Q
    name: a real plant
    industry: dust
    regionCode: "440300"
    gateways: [{ code: GW01 }]
`;

describe('loadEnvConfig', () => {
  it('defaults to the embedded broker and store', () => {
    const c = loadEnvConfig({});
    expect(c).toMatchObject({ port: 3000, mqttUrl: null, mqttPort: 1883, influx: null, simulate: true });
    expect(c.dataDir).toMatch(/\/data$/);
  });

  it('has the safety defaults: fsynced alarm commits, a year of history, 60 s of clock tolerance; and reads them', () => {
    expect(loadEnvConfig({})).toMatchObject({ alarmDbSync: 'full', historyRetentionDays: 365, rules: { clockSkewS: 60 } });
    expect(loadEnvConfig({ ALARM_DB_SYNC: 'normal', HISTORY_RETENTION_DAYS: '0', CLOCK_SKEW_S: '5' })).toMatchObject({ alarmDbSync: 'normal', historyRetentionDays: 0, rules: { clockSkewS: 5 } });
    expect(() => loadEnvConfig({ ALARM_DB_SYNC: 'off' })).toThrow(/ALARM_DB_SYNC="off".*"full" \(every alarm commit fsynced/);
  });

  it('reads InfluxDB and MQTT settings', () => {
    const c = loadEnvConfig({ MQTT_URL: 'mqtt://broker:1883', INFLUX_URL: 'http://influx:8086', INFLUX_DB: 'plant', SIMULATE: '0', PORT: '8080' });
    expect(c).toMatchObject({ port: 8080, mqttUrl: 'mqtt://broker:1883', influx: { url: 'http://influx:8086', db: 'plant', token: null }, simulate: false });
  });

  it('names every bad variable and what it expects', () => {
    let error: unknown;
    try {
      loadEnvConfig({ PORT: 'eighty', MQTT_URL: 'http://x', SIMULATE: 'yes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('environment variable PORT="eighty"'))).toContain('expected a TCP port number');
    expect(problems.find((p) => p.startsWith('environment variable MQTT_URL='))).toContain('mqtt://');
    expect(problems.find((p) => p.startsWith('environment variable SIMULATE='))).toContain('"0"');
  });

  it('reads the rule-core settings, with ISA-18.2 defaults', () => {
    expect(loadEnvConfig({}).rules).toEqual({ chatterMaxTransitions: 5, floodMaxAlarms: 10, gatewaySilencePeriods: 3, lateWindowS: 86_400, tickMs: 5000, clockSkewS: 60, watchdogIntervalS: 15, dataCompletenessMin: 0.9, dataQualityWindowMin: 60 });
    expect(loadEnvConfig({ CHATTER_MAX_TRANSITIONS: '0', RULE_TICK_MS: '250', WATCHDOG_INTERVAL_S: '5' }).rules).toMatchObject({ chatterMaxTransitions: 0, tickMs: 250, watchdogIntervalS: 5 });
    expect(() => loadEnvConfig({ WATCHDOG_INTERVAL_S: '0' })).toThrow(/WATCHDOG_INTERVAL_S="0".*expected an integer 1-3600/);
    expect(() => loadEnvConfig({ GATEWAY_SILENCE_PERIODS: '0' })).toThrow(/GATEWAY_SILENCE_PERIODS="0".*expected an integer 1-1000/);
  });

  it('runs the simulator, and watches CONFIG_DIR, by default only when CONFIG_DIR holds just the demo sites', () => {
    expect(loadEnvConfig({})).toMatchObject({ simulate: true, configWatch: true });
    expect(loadEnvConfig({ CONFIG_DIR: configCopy() })).toMatchObject({ simulate: true, configWatch: true });
    const withPlant = configCopy((sites) => writeFileSync(join(sites, 'plant.yaml'), PLANT));
    expect(loadEnvConfig({ CONFIG_DIR: withPlant })).toMatchObject({ simulate: false, configWatch: false });
    const demoEdited = configCopy((sites) => {
      const demo = join(sites, 'demo.yaml');
      writeFileSync(demo, readFileSync(demo, 'utf8').replace('code: 91370800MA3CD7LN28', 'code: 91440300MA5FXXXX1Q'));
    });
    expect(loadEnvConfig({ CONFIG_DIR: demoEdited }).simulate).toBe(false);
    expect(loadEnvConfig({ CONFIG_DIR: join(tmpdir(), 'no-such-sentinel-config') }).simulate).toBe(false);
  });

  it('SIMULATE and CONFIG_WATCH, when set, win over the default', () => {
    const plant = configCopy((sites) => writeFileSync(join(sites, 'plant.yaml'), PLANT));
    expect(loadEnvConfig({ CONFIG_DIR: plant, SIMULATE: '1' })).toMatchObject({ simulate: true, configWatch: true });
    expect(loadEnvConfig({ SIMULATE: '0' })).toMatchObject({ simulate: false, configWatch: false });
    expect(loadEnvConfig({ SIMULATE: '0', CONFIG_WATCH: '1' })).toMatchObject({ simulate: false, configWatch: true });
    expect(loadEnvConfig({ CONFIG_WATCH: '0' })).toMatchObject({ simulate: true, configWatch: false });
  });

  it('tells the demo from a real registry by its enterprises: unreadable, malformed or large site folders are not the demo', () => {
    expect(isDemoRegistry(resolve('config'))).toBe(true);
    expect(isDemoRegistry(configCopy((sites) => writeFileSync(join(sites, 'broken.yaml'), 'enterprises: [')))).toBe(false);
    expect(isDemoRegistry(configCopy((sites) => writeFileSync(join(sites, 'plant.json'), '{"enterprises": [{"code": "91440300MA5FXXXX1Q"}]}')))).toBe(false);
    expect(isDemoRegistry(configCopy((sites) => writeFileSync(join(sites, 'padding.yaml'), `# ${'x'.repeat(300_000)}\nenterprises: []\n`)))).toBe(false);
  });

  it('reads the reload guard and the MQTT packet limit', () => {
    expect(loadEnvConfig({})).toMatchObject({ reloadMaxRemovedPct: 10, mqttMaxPacketBytes: 256 * 1024 });
    expect(loadEnvConfig({ RELOAD_MAX_REMOVED_PCT: '0', MQTT_MAX_PACKET_KB: '64' })).toMatchObject({ reloadMaxRemovedPct: 0, mqttMaxPacketBytes: 65_536 });
    expect(() => loadEnvConfig({ RELOAD_MAX_REMOVED_PCT: '101' })).toThrow(/RELOAD_MAX_REMOVED_PCT="101".*expected an integer 0-100/);
    expect(() => loadEnvConfig({ MQTT_MAX_PACKET_KB: '0' })).toThrow(/MQTT_MAX_PACKET_KB="0".*expected an integer 1-262144/);
  });
});
