import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestService } from '#libs/testing/services.js';

// The broker set-up shipped for docker-compose (deploy/mosquitto), run on a real mosquitto.
describe('deploy/mosquitto: passwords and ACL', () => {
  let broker: TestService;
  const clients: MqttClient[] = [];
  const login = async (username: string, password: string, clientId = `acl-${username.replace('/', '-')}`): Promise<MqttClient> => {
    const c = await connectAsync(broker.url, { username, password, clientId, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    broker = await startMosquitto(undefined, [
      'allow_anonymous false',
      `password_file ${resolve('deploy/mosquitto/passwd')}`,
      `acl_file ${resolve('deploy/mosquitto/acl')}`,
    ]);
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker.stop();
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connectAsync(broker.url, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad username or password/i);
    await expect(connectAsync(broker.url, { username: 'sentinel-monitor', password: 'nope', reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad username or password/i);
  });

  it('lets a gateway publish only its own topics, and the monitor read them', async () => {
    const monitor = await login('sentinel-monitor', 'demo-monitor-password');
    const received: string[] = [];
    monitor.on('message', (topic) => received.push(topic));
    await monitor.subscribeAsync('sites/#', { qos: 1 });
    // Another enterprise's topic: the broker drops the message (mosquitto 2.0.11 also ends that connection).
    const intruder = await login('91320594MA1WKTRP3E/GW01', 'demo-gateway-password', 'acl-intruder');
    await intruder.publishAsync('sites/91370800MA3CD7LN28/GW01/telemetry', 'foreign', { qos: 0 });
    const gateway = await login('91320594MA1WKTRP3E/GW01', 'demo-gateway-password');
    await gateway.publishAsync('sites/91320594MA1WKTRP3E/GW01/telemetry', 'own', { qos: 1 });
    await gateway.publishAsync('sites/91320594MA1WKTRP3E/GW01/status', 'online', { qos: 1 });
    await new Promise<void>((done) => {
      const check = (): void => void (received.length >= 2 && done());
      monitor.on('message', check);
      check();
    });
    expect(received).toEqual(['sites/91320594MA1WKTRP3E/GW01/telemetry', 'sites/91320594MA1WKTRP3E/GW01/status']);
  });
});

describe('deploy/mosquitto: packet size', () => {
  it('drops a client publishing a packet over the shipped max_packet_size, and keeps serving the others', async () => {
    const limits = readFileSync('deploy/mosquitto/mosquitto.conf', 'utf8').split('\n').filter((l) => l.startsWith('max_packet_size '));
    expect(limits).toEqual(['max_packet_size 262144']);
    const broker = await startMosquitto(undefined, ['allow_anonymous true', ...limits]);
    try {
      const big = await connectAsync(broker.url, { clientId: 'big', reconnectPeriod: 0 });
      const closed = new Promise<void>((done) => big.once('close', () => done()));
      big.publish('sites/x/y/telemetry', Buffer.alloc(300 * 1024, 0x20), { qos: 0 });
      await closed;
      const ok = await connectAsync(broker.url, { clientId: 'ok', reconnectPeriod: 0 });
      const got = new Promise<string>((done) => ok.once('message', (_t, m: Buffer) => done(m.toString())));
      await ok.subscribeAsync('sites/#', { qos: 1 });
      await ok.publishAsync('sites/x/y/telemetry', 'small', { qos: 1 });
      expect(await got).toBe('small');
      big.end(true);
      await ok.endAsync();
    } finally {
      await broker.stop();
    }
  });
});
