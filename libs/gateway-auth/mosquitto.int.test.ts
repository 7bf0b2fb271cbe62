import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '#libs/registry/index.js';
import { startMosquitto, type TestService } from '#libs/testing/services.js';
import { GatewayCredentials } from './credentials.store.js';
import { mosquittoFiles } from './mosquitto-files.js';
import { mosquittoHash, verifyMosquittoHash } from './mosquitto-hash.js';
import { arrival } from '#libs/testing/mqtt.js';

// The demo registry: two enterprises, one gateway each (credentialsRef suzhou-demo-gw01 and jining-demo-gw01).
const SUZHOU = '91320594MA1WKTRP3E/GW01';
const JINING = '91370800MA3CD7LN28/GW01';
const MONITOR = { username: 'sentinel-monitor', password: 'monitor-password-1' };

describe('mosquitto hashes', () => {
  it('reads the hash mosquitto_passwd writes, and writes the same format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-mosquitto-passwd-'));
    try {
      const file = join(dir, 'passwd');
      writeFileSync(file, '');
      execFileSync('mosquitto_passwd', ['-b', file, SUZHOU, 'a gateway password'], { stdio: 'pipe' });
      const [username, hash] = readFileSync(file, 'utf8').trim().split(/:(.*)/s);
      expect(username).toBe(SUZHOU);
      expect(verifyMosquittoHash(hash!, 'a gateway password')).toBe(true);
      expect(verifyMosquittoHash(hash!, 'another password')).toBe(false);
      const ours = mosquittoHash('a gateway password');
      expect(ours.split('$').map((part) => part.length)).toEqual(hash!.split('$').map((part) => part.length));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generated passwd and acl on a real mosquitto', () => {
  let dir: string;
  let broker: TestService;
  let monitor: MqttClient;
  const seen: string[] = [];
  const clients: MqttClient[] = [];
  const connect = async (options: IClientOptions): Promise<MqttClient> => {
    const c = await connectAsync(broker.url, { clientId: `mq-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 0, ...options });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-mosquitto-config-'));
    const credentials = GatewayCredentials.load(join(dir, 'gateway-credentials.json'));
    await credentials.setPassword('suzhou-demo-gw01', 'suzhou-password-1');
    await credentials.setPassword('jining-demo-gw01', 'jining-password-1');
    const files = mosquittoFiles({
      gateways: loadRegistry(resolve('config')).allGateways(),
      credential: (key) => credentials.entry(key),
      monitor: { username: MONITOR.username, passwordHash: mosquittoHash(MONITOR.password) },
    });
    expect(files.included).toEqual([SUZHOU, JINING]);
    // mosquitto started as root reads these after dropping to its own user.
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'passwd'), files.passwd, { mode: 0o644 });
    writeFileSync(join(dir, 'acl'), files.acl, { mode: 0o644 });
    broker = await startMosquitto(undefined, ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`, `acl_file ${join(dir, 'acl')}`]);
    monitor = await connect({ ...MONITOR, protocolVersion: 4 });
    monitor.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await monitor.subscribeAsync('sites/#', { qos: 1 });
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a gateway publish its own telemetry with its password, for the monitor to read', async () => {
    const gw = await connect({ username: SUZHOU, password: 'suzhou-password-1' });
    const own = arrival(monitor, `sites/${SUZHOU}/telemetry`, 'suzhou');
    await gw.publishAsync(`sites/${SUZHOU}/telemetry`, 'suzhou', { qos: 1 });
    await own;
  });

  it("does not deliver a gateway's message on another gateway's topic", async () => {
    seen.length = 0;
    const intruder = await connect({ username: SUZHOU, password: 'suzhou-password-1' });
    const closed = new Promise<void>((done) => intruder.once('close', () => done()));
    // mosquitto 2.0.11 ends an MQTT 3.1.1 client's connection on a denied publish instead of acknowledging it.
    await Promise.race([intruder.publishAsync(`sites/${JINING}/telemetry`, 'forged', { qos: 1 }), closed]);
    const gw = await connect({ username: SUZHOU, password: 'suzhou-password-1' });
    const own = arrival(monitor, `sites/${SUZHOU}/status`, 'online');
    await gw.publishAsync(`sites/${SUZHOU}/status`, 'online', { qos: 1 });
    await own;
    expect(seen).toEqual([`sites/${SUZHOU}/status online`]);
  });

  it('refuses a wrong password, a gateway of another password and the monitor publishing', async () => {
    await expect(connect({ username: SUZHOU, password: 'jining-password-1' })).rejects.toThrow(/Not authorized|Bad username or password/);
    await expect(connect({ username: 'sentinel-monitor', password: 'suzhou-password-1' })).rejects.toThrow(/Not authorized|Bad username or password/);
    await expect(connect({})).rejects.toThrow(/Not authorized|Bad username or password/);
  });

  it('carries the telemetry of an MQTT 5 gateway to MQTT 5 and MQTT 3.1.1 monitors', async () => {
    const v5monitor = await connect({ username: MONITOR.username, password: MONITOR.password, protocolVersion: 5 });
    await v5monitor.subscribeAsync('sites/+/+/telemetry', { qos: 1 });
    const gw = await connect({ username: JINING, password: 'jining-password-1', protocolVersion: 5 });
    const payload = JSON.stringify({ ts: Date.now(), readings: [{ point: 'DC1-TE', value: 41.5 }] });
    const both = Promise.all([arrival(v5monitor, `sites/${JINING}/telemetry`, payload), arrival(monitor, `sites/${JINING}/telemetry`, payload)]);
    await gw.publishAsync(`sites/${JINING}/telemetry`, payload, { qos: 1 });
    await both;
    // MQTT 5 tells the gateway it may not publish there (PUBACK reason code 0x87), where 3.1.1 cannot.
    await expect(gw.publishAsync(`sites/${SUZHOU}/telemetry`, payload, { qos: 1 })).rejects.toThrow(/Not authorized/);
    expect(gw.connected).toBe(true);
  });
});
