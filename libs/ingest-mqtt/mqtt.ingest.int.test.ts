import { connectAsync } from 'mqtt';
import { Observable, firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '#libs/broker-aedes/index.js';
import type { RawMessage } from '#libs/contracts/index.js';
import { freePort, startMosquitto, type TestService } from '#libs/testing/services.js';
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

  it('delivers every QoS 1 message in order, handing over several before their acknowledgement', async () => {
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
    // The broker's in-flight window and the ingest's own bound (1,000) limit what is handed over unacknowledged.
    expect(maxOutstanding).toBeGreaterThan(1);
    expect(maxOutstanding).toBeLessThanOrEqual(1001);
    expect(ingest.connected).toBe(true);
    await pub.endAsync();
    await ingest.close();
  });

  it('sends no PUBACK before the acknowledgement: what was handed over but not acknowledged comes again to the next session', async () => {
    const clientId = `it-ingest-redeliver-${Math.random().toString(36).slice(2)}`;
    const first = new MqttIngest({ url: broker.url, clientId });
    first.start();
    const seen: RawMessage[] = [];
    const fiveSeen = new Promise<void>((resolve) =>
      first.messages().subscribe((msg) => {
        seen.push(msg);
        if (seen.length === 5) resolve();
      }),
    );
    expect(await first.whenSubscribed(10_000)).toBe(true);
    const pub = await connectAsync(broker.url, { clientId: `it-pub-${Math.random().toString(36).slice(2)}` });
    for (let i = 0; i < 5; i++) await pub.publishAsync('sites/E1/GW1/telemetry', JSON.stringify({ i }), { qos: 1 });
    await fiveSeen;
    // The first two are durable: acknowledged. The other three never are before this session ends.
    seen[0]!.ack();
    seen[1]!.ack();
    await new Promise((r) => setTimeout(r, 200));
    await first.close();

    const second = new MqttIngest({ url: broker.url, clientId });
    second.start();
    const again = firstValueFrom(second.messages().pipe(take(3), toArray()));
    const payloads = (await again).map((m) => (JSON.parse(m.payload.toString()) as { i: number }).i);
    expect(payloads).toEqual([2, 3, 4]);
    await pub.endAsync();
    await second.close();
  });
});

describe('MqttIngest against an external broker sending an oversize message', () => {
  let broker: TestService;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  /** An ingest that acknowledges at once and records payloads (as text) and problems. */
  async function started(clientId: string): Promise<{ ingest: MqttIngest; payloads: string[]; problems: string[]; next: (text: string) => Promise<void> }> {
    const payloads: string[] = [];
    const problems: string[] = [];
    const ingest = new MqttIngest({ url: broker.url, clientId, maxPacketBytes: 64 * 1024 }, (p) => problems.push(p));
    ingest.start();
    let waiting: { text: string; resolve: () => void } | null = null;
    ingest.messages().subscribe((m) => {
      const text = m.payload.length > 100 ? `<${m.payload.length} bytes>` : m.payload.toString();
      payloads.push(text);
      m.ack();
      if (waiting?.text === text) waiting.resolve();
    });
    expect(await ingest.whenSubscribed(10_000)).toBe(true);
    const next = (text: string): Promise<void> => new Promise((resolve) => (waiting = { text, resolve }));
    return { ingest, payloads, problems, next };
  }

  it('drops it unread and acknowledged, keeps the connection and the messages after it, and is not sent it again', async () => {
    const clientId = `it-ingest-big-${Math.random().toString(36).slice(2)}`;
    const first = await started(clientId);
    const pub = await connectAsync(broker.url, { clientId: `it-pub-${Math.random().toString(36).slice(2)}` });
    const after = first.next('after');
    await pub.publishAsync('sites/E1/GW1/telemetry', 'before', { qos: 1 });
    await pub.publishAsync('sites/E1/GW1/telemetry', Buffer.alloc(1 << 20, 0x61), { qos: 1 });
    await pub.publishAsync('sites/E1/GW1/telemetry', 'after', { qos: 1 });
    await after;
    expect(first.payloads).toEqual(['before', 'after']);
    expect(first.problems).toEqual([expect.stringMatching(/sites\/E1\/GW1\/telemetry of 1048\d{3} bytes dropped unread: more than the 65536 allowed.*acknowledged/)]);
    expect(first.ingest.connected).toBe(true);
    await first.ingest.close();

    // The persistent session resumes: had the big message not been acknowledged, mosquitto would send it first.
    const second = await started(clientId);
    const marker = second.next('marker');
    await pub.publishAsync('sites/E1/GW1/telemetry', 'marker', { qos: 1 });
    await marker;
    expect(second.payloads).toEqual(['marker']);
    expect(second.problems).toEqual([]);
    await second.ingest.close();
    await pub.endAsync();
  });
});

describe('MqttIngest through its size-limited connection', () => {
  it('reconnects and subscribes again after the broker restarts', async () => {
    const port = await freePort();
    let broker = await startMosquitto(port);
    const ingest = new MqttIngest({ url: broker.url, clientId: `it-ingest-restart-${Math.random().toString(36).slice(2)}` });
    const payloads: string[] = [];
    let resolveAfter: () => void = () => undefined;
    const after = new Promise<void>((resolve) => (resolveAfter = resolve));
    ingest.start();
    ingest.messages().subscribe((m) => {
      payloads.push(m.payload.toString());
      m.ack();
      if (m.payload.toString() === 'after restart') resolveAfter();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      expect(await ingest.whenSubscribed(10_000)).toBe(true);
      await broker.stop();
      broker = await startMosquitto(port);
      const pub = await connectAsync(broker.url, { clientId: `it-pub-${Math.random().toString(36).slice(2)}` });
      // Until the ingest has subscribed again, a message has no subscriber: publish until one arrives.
      timer = setInterval(() => pub.publish('sites/E1/GW1/telemetry', 'after restart', { qos: 1 }), 100);
      await after;
      clearInterval(timer);
      expect(payloads[0]).toBe('after restart');
      await pub.endAsync();
    } finally {
      clearInterval(timer);
      await ingest.close();
      await broker.stop();
    }
  });
});

describe('MqttIngest never acknowledges what it did not make durable, around the end of a session or a connection', () => {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('does not acknowledge a message that arrives once nobody takes messages any more: the next session gets it', async () => {
    const broker = await startMosquitto();
    const clientId = `it-ingest-after-${Math.random().toString(36).slice(2)}`;
    const first = new MqttIngest({ url: broker.url, clientId });
    first.start();
    const taking = first.messages().subscribe((m) => m.ack());
    expect(await first.whenSubscribed(10_000)).toBe(true);
    taking.unsubscribe(); // what pipeline.stop() does
    const pub = await connectAsync(broker.url, { clientId: `it-pub-${clientId}` });
    await pub.publishAsync('sites/E1/GW1/telemetry', 'late reading', { qos: 1 });
    await sleep(300); // delivered to the first session, which must not acknowledge it
    await first.close();
    const second = new MqttIngest({ url: broker.url, clientId });
    second.start();
    const again = await firstValueFrom(second.messages());
    expect(again.payload.toString()).toBe('late reading');
    again.ack();
    await second.close();
    await pub.endAsync();
    await broker.stop();
  });

  it('sends no PUBACK on a later connection for a message of an ended one', async () => {
    const broker = await EmbeddedBroker.start(0, '127.0.0.1');
    const clientId = `it-ingest-stale-${Math.random().toString(36).slice(2)}`;
    const ingest = new MqttIngest({ url: broker.url, clientId });
    ingest.start();
    interface Internals {
      stream: { destroy(): void };
      _writePacket: (p: { cmd: string }, cb?: () => void) => void;
      once(event: 'close' | 'connect', listener: () => void): unknown;
    }
    const client = (ingest as unknown as { client: Internals }).client;
    let ended: unknown = null;
    const pubacksOnLaterConnections: string[] = [];
    const write = client._writePacket.bind(client);
    client._writePacket = (p: { cmd: string }, cb?: () => void) => {
      if (p.cmd === 'puback' && ended !== null && client.stream !== ended) pubacksOnLaterConnections.push(JSON.stringify(p));
      write(p, cb);
    };
    const handed: RawMessage[] = [];
    ingest.messages().subscribe((m) => handed.push(m));
    expect(await ingest.whenSubscribed(10_000)).toBe(true);
    const pub = await connectAsync(broker.url, { clientId: `it-pub-${clientId}` });
    for (let i = 0; i < 205; i++) pub.publish('sites/E1/GW1/telemetry', String(i), { qos: 1 });
    for (let t = 0; t < 100 && handed.length < 201; t++) await sleep(50);
    expect(handed.length).toBe(201); // 200 handed over unacknowledged, the 201st waiting for its own acknowledgement
    ended = client.stream;
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.stream.destroy();
    await closed;
    for (const m of handed) m.ack(); // durable only now, after their connection ended
    await new Promise<void>((r) => client.once('connect', () => r()));
    await sleep(200);
    expect(pubacksOnLaterConnections).toEqual([]);
    await pub.endAsync();
    await ingest.close();
    await broker.close();
  });
});
