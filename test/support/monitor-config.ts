import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AppConfig } from '#libs/config/index.js';
import { TEST_ADMIN_PASSWORD } from './auth.js';

/**
 * Config for an app under test: random ports, a fresh data folder, the demo registry, no simulator, the admin user
 * seeded with TEST_ADMIN_PASSWORD, and the embedded broker open to anonymous clients (the MQTT security tests close it).
 */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    mqttUrl: null,
    mqttPort: 0,
    mqttClientId: `sentinel-e2e-${Math.random().toString(36).slice(2)}`,
    influx: null,
    dataDir: mkdtempSync(join(tmpdir(), 'sentinel-e2e-')),
    configDir: resolve('config'),
    configWatch: false,
    spoolMaxBytes: 64 * 2 ** 20,
    retentionDays: 90,
    adminToken: null,
    simulate: false,
    simulatePeriodMs: 1000,
    rules: { chatterMaxTransitions: 5, floodMaxAlarms: 10, gatewaySilencePeriods: 3, lateWindowS: 86_400, tickMs: 5000 },
    logLevel: 'silent',
    auth: { adminPassword: TEST_ADMIN_PASSWORD, loginPerMinute: 1000 },
    mqttAuth: { allowAnonymous: true, username: null, password: null, credentialsFile: null },
    ...overrides,
  };
}
