import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadEnvConfig } from './env.config.js';

describe('loadEnvConfig', () => {
  it('defaults to the embedded broker and store', () => {
    const c = loadEnvConfig({});
    expect(c).toMatchObject({ port: 3000, mqttUrl: null, mqttPort: 1883, influx: null, simulate: true });
    expect(c.dataDir).toMatch(/\/data$/);
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
    expect(loadEnvConfig({}).rules).toEqual({ chatterMaxTransitions: 5, floodMaxAlarms: 10, gatewaySilencePeriods: 3, lateWindowS: 300, tickMs: 5000 });
    expect(loadEnvConfig({ CHATTER_MAX_TRANSITIONS: '0', RULE_TICK_MS: '250' }).rules).toMatchObject({ chatterMaxTransitions: 0, tickMs: 250 });
    expect(() => loadEnvConfig({ GATEWAY_SILENCE_PERIODS: '0' })).toThrow(/GATEWAY_SILENCE_PERIODS="0".*expected an integer 1-1000/);
  });
});
