import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker, type RefusalEvent } from '#libs/broker-aedes/index.js';
import { GatewayAuthority, GatewayCredentials, credentialKey } from '#libs/gateway-auth/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { startSimulator } from './gateway.simulator.js';

const MONITOR = { username: 'sentinel-monitor', password: 'monitor-password-1' };

describe('gateway simulator on a broker that checks gateways', () => {
  const registry = loadRegistry(resolve('config'));
  const passwordOf = (g: { enterpriseCode: string; gatewayCode: string }): string => `${g.gatewayCode}@${g.enterpriseCode}-password`;
  let dir: string;
  let broker: EmbeddedBroker;
  let monitor: MqttClient;
  const refusals: RefusalEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-sim-auth-'));
    const credentials = GatewayCredentials.load(join(dir, 'gateway-credentials.json'));
    for (const g of registry.allGateways()) await credentials.setPassword(credentialKey(g), passwordOf({ enterpriseCode: g.enterpriseCode, gatewayCode: g.code }));
    broker = await EmbeddedBroker.start(0, '127.0.0.1', {
      auth: new GatewayAuthority((e, g) => registry.findGateway(e, g), credentials),
      internalClient: MONITOR,
      onRefused: (e) => refusals.push(e),
    });
    monitor = await connectAsync(broker.url, { ...MONITOR, clientId: 'sim-auth-monitor', reconnectPeriod: 0 });
    await monitor.subscribeAsync('sites/#', { qos: 1 });
  });
  afterAll(async () => {
    await monitor?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in as each demo gateway with its password and publishes its telemetry', async () => {
    const expected = new Set(registry.allGateways().map((g) => `sites/${g.enterpriseCode}/${g.code}/telemetry`));
    const telemetry = new Promise<void>((done) => {
      monitor.on('message', (topic) => {
        expected.delete(topic);
        if (expected.size === 0) done();
      });
    });
    const sim = await startSimulator({ url: broker.url, points: registry.allPoints(), periodMs: 20, excursionEveryMs: 0, password: passwordOf });
    await telemetry;
    await sim.stop();
    expect(refusals).toEqual([]);
  });

  it('is refused without passwords or with wrong ones', async () => {
    await expect(startSimulator({ url: broker.url, points: registry.allPoints(), periodMs: 20, clientIdPrefix: 'anon' })).rejects.toThrow(/Not authorized/);
    await expect(startSimulator({ url: broker.url, points: registry.allPoints(), periodMs: 20, password: () => 'wrong-password-1' })).rejects.toThrow(/Bad username or password/);
    expect(refusals.map((r) => r.kind)).toEqual(['connect', 'connect']);
  });
});
