import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from './embedded.broker.js';

const TOPIC = 'sites/E1/GW1/telemetry';
const clientId = (name: string): string => `${name}-${Math.random().toString(36).slice(2)}`;

/** Resolves once `client`'s connection closes. */
const closed = (client: MqttClient): Promise<void> => new Promise((resolve) => client.once('close', () => resolve()));

/** Resolves with the first message on `topic` whose payload satisfies `match`. */
function received(client: MqttClient, match: (payload: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    const onMessage = (_topic: string, payload: Buffer): void => {
      if (!match(payload)) return;
      client.off('message', onMessage);
      resolve(payload);
    };
    client.on('message', onMessage);
  });
}

describe('EmbeddedBroker packet size limit', () => {
  let broker: EmbeddedBroker;
  let subscriber: MqttClient;
  let gateway: MqttClient;
  const problems: string[] = [];
  const sizes: number[] = [];

  beforeAll(async () => {
    broker = await EmbeddedBroker.start(0, '127.0.0.1', { onProblem: (p) => problems.push(p) });
    subscriber = await connectAsync(broker.url, { clientId: clientId('sub') });
    subscriber.on('message', (_t, payload) => sizes.push(payload.length));
    await subscriber.subscribeAsync(TOPIC, { qos: 1 });
    gateway = await connectAsync(broker.url, { clientId: clientId('gw') });
  });
  afterAll(async () => {
    await gateway?.endAsync();
    await subscriber?.endAsync();
    await broker?.close();
  });

  it('disconnects a client publishing 1 MB and keeps serving the others', async () => {
    const attacker = await connectAsync(broker.url, { clientId: clientId('big'), reconnectPeriod: 0 });
    const gone = closed(attacker);
    attacker.publish(TOPIC, Buffer.alloc(1 << 20, 0x61), { qos: 0 });
    await gone;
    expect(problems).toEqual([expect.stringMatching(/sent a packet of 1048\d{3} bytes, more than the 262144 allowed \(MQTT_MAX_PACKET_KB\); disconnected/)]);
    await attacker.endAsync(true);

    const next = received(subscriber, (p) => p.toString() === '{"after":true}');
    await gateway.publishAsync(TOPIC, '{"after":true}', { qos: 1 });
    await next;
    expect(sizes.every((n) => n < 1 << 20)).toBe(true);
    expect(gateway.connected).toBe(true);
  });

  it('passes packets up to the limit exactly, split over many TCP segments, and many small ones in a row', async () => {
    // A QoS 0 PUBLISH is 1 type byte + 3 length bytes + 2 + topic + payload.
    const fits = Buffer.alloc(256 * 1024 - 4 - 2 - TOPIC.length, 0x62);
    const big = received(subscriber, (p) => p.length === fits.length);
    gateway.publish(TOPIC, fits, { qos: 0 });
    await big;
    const last = received(subscriber, (p) => p.toString() === '999');
    for (let i = 0; i < 1000; i++) gateway.publish(TOPIC, String(i), { qos: 0 });
    await last;
    expect(gateway.connected).toBe(true);

    const over = await connectAsync(broker.url, { clientId: clientId('over'), reconnectPeriod: 0 });
    const gone = closed(over);
    over.publish(TOPIC, Buffer.concat([fits, Buffer.from('x')]), { qos: 0 });
    await gone;
    await over.endAsync(true);
    expect(problems.at(-1)).toContain(`a packet of ${256 * 1024 + 1} bytes`);
  });
});
