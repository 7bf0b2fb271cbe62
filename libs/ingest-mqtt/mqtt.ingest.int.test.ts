import { connectAsync } from 'mqtt';
import { Observable, firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '#libs/broker-aedes/index.js';
import type { RawMessage } from '#libs/contracts/index.js';
import { startMosquitto, type TestService } from '#libs/testing/services.js';
import { MqttIngest } from './mqtt.ingest.js';

const brokers: [string, () => Promise<TestService>][] = [
  ['mosquitto', startMosquitto],
  [
    'embedded aedes',
    async () => {
      const b = await EmbeddedBroker.start(0, '127.0.0.1');
      return { url: b.url, stop: () => b.close() };
    },
  ],
];

describe.each(brokers)('MqttIngest against %s', (_name, start) => {
  let broker: TestService;
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('delivers every QoS 1 message in order, one at a time until each is acknowledged', async () => {
    const ingest = new MqttIngest({ url: broker.url, clientId: `it-ingest-${Math.random().toString(36).slice(2)}` });
    ingest.start();
    const N = 2000;
    let outstanding = 0;
    let maxOutstanding = 0;
    const received = firstValueFrom(
      new Observable<RawMessage>((sub) =>
        ingest.messages().subscribe((msg) => {
          outstanding++;
          maxOutstanding = Math.max(maxOutstanding, outstanding);
          sub.next(msg);
          setImmediate(() => {
            outstanding--;
            msg.ack();
          });
        }),
      ).pipe(take(N), toArray()),
    );
    expect(await ingest.whenSubscribed(10_000)).toBe(true);
    const pub = await connectAsync(broker.url, { clientId: `it-pub-${Math.random().toString(36).slice(2)}` });
    for (let i = 0; i < N; i++) pub.publish('sites/E1/GW1/telemetry', JSON.stringify({ i }), { qos: 1 });
    pub.publish('other/topic', 'ignored', { qos: 1 });
    const messages = await received;
    expect(messages.map((m) => (JSON.parse(m.payload.toString()) as { i: number }).i)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(messages.every((m) => m.topic === 'sites/E1/GW1/telemetry')).toBe(true);
    expect(maxOutstanding).toBe(1);
    expect(ingest.connected).toBe(true);
    await pub.endAsync();
    await ingest.close();
  });
});
