import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { Observable } from 'rxjs';
import type { RawMessage } from '#libs/contracts/index.js';
import { SizeLimitedStream } from './limited-stream.js';
import type { DroppedPublish } from './oversize-filter.js';

export const TELEMETRY_TOPICS = ['sites/+/+/telemetry', 'sites/+/+/status'] as const;

export interface MqttIngestOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Largest MQTT packet, in bytes, taken from the broker; a bigger message is dropped unread (default 256 KiB). */
  readonly maxPacketBytes?: number;
  /** Where the monitor's heartbeats go and come back (subscribed too); unset: no heartbeats. */
  readonly heartbeatTopic?: string;
}

export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

/** MQTT.js keeps how it opens a connection in a private field; wrapping it is the only way to see bytes before its parser. */
interface ClientInternals {
  streamBuilder: (client: MqttClient) => Duplex;
  /** Sends a packet; for a QoS 1 PUBLISH, MQTT.js reads the next packet only once this PUBACK's callback ran. */
  _sendPacket: (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;
}

/** Messages handed over and not yet acknowledged, beyond which the next one waits for its own acknowledgement. */
const MAX_UNACKED = 200;

interface Held {
  acked: boolean;
  puback: { cmd: string; messageId?: number } | null;
  /** The connection (socket stream) it came on: a PUBACK is never sent on a later one, where the id may name another message. */
  readonly stream: unknown;
}

/**
 * Subscribes to gateway topics at QoS 1 with a persistent session. Each message is handed over with an `ack`, and
 * its PUBACK is sent only once `ack` is called, so a slow consumer pushes back on the broker (its in-flight window)
 * instead of buffering without bound.
 */
export class MqttIngest {
  private client: MqttClient | null = null;
  private subscribed = false;
  private subscribedWaiters: (() => void)[] = [];

  constructor(
    private readonly options: MqttIngestOptions,
    private readonly onProblem: (message: string) => void = () => undefined,
  ) {}

  /**
   * Starts connecting and keeps retrying in the background; subscribes on every connection that has no stored
   * session. Install `messages()` before the first connection completes (i.e. right after this call).
   */
  start(): void {
    const opts: IClientOptions = {
      clientId: this.options.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      manualConnect: true,
      ...(this.options.username ? { username: this.options.username, password: this.options.password } : {}),
    };
    const client = connect(this.options.url, opts);
    this.limitPacketSize(client);
    this.client = client;
    client.on('connect', (connack) => {
      if (connack.sessionPresent && this.subscribed) return;
      const topics = this.options.heartbeatTopic === undefined ? [...TELEMETRY_TOPICS] : [...TELEMETRY_TOPICS, this.options.heartbeatTopic];
      client.subscribe(topics, { qos: 1 }, (err) => {
        if (err) {
          this.onProblem(`MQTT subscribe failed: ${err.message}`);
          return;
        }
        this.subscribed = true;
        for (const w of this.subscribedWaiters.splice(0)) w();
      });
    });
    client.on('error', (err) => this.onProblem(`MQTT ${this.options.url}: ${err.message}; retrying`));
    client.connect();
  }

  /** Sends the monitor's heartbeat to itself through the broker (QoS 1; queued by MQTT.js while disconnected). */
  publishHeartbeat(payload: string): void {
    const topic = this.options.heartbeatTopic;
    if (topic === undefined || this.client === null) return;
    this.client.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) this.onProblem(`MQTT heartbeat publish failed: ${err.message}`);
    });
  }

  /**
   * MQTT.js buffers a packet whole before looking at it (and checks maximumPacketSize only under MQTT 5, which not
   * every broker speaks), so one huge message from the broker could exhaust the heap: the connection is wrapped.
   */
  private limitPacketSize(client: MqttClient): void {
    const internals = client as unknown as ClientInternals;
    const build = internals.streamBuilder;
    if (typeof build !== 'function') throw new Error('MqttIngest: this MQTT.js version has no streamBuilder to wrap');
    const maxBytes = this.options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    internals.streamBuilder = (c) => {
      const socket = build(c);
      (socket as Partial<Socket>).setNoDelay?.(true);
      return new SizeLimitedStream(socket, maxBytes, (d) => this.onProblem(droppedProblem(d, maxBytes)));
    };
  }

  /** Resolves true once subscribed, or false after `timeoutMs` (the client keeps trying). */
  whenSubscribed(timeoutMs: number): Promise<boolean> {
    if (this.subscribed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.subscribedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Installs the message hook; subscribe to this right after `start()`. A QoS 1 message's PUBACK leaves only once its
   * `ack` is called (the readings are durable), but MQTT.js goes on to the next packet at once: the messages of one
   * read from the socket are handled in one turn, their readings spooled in one write and their PUBACKs sent in one
   * flush. The broker's in-flight window, and MAX_UNACKED here, bound what is handed over unacknowledged.
   */
  messages(): Observable<RawMessage> {
    return new Observable<RawMessage>((subscriber) => {
      const client = this.requireClient();
      const internals = client as unknown as ClientInternals;
      const send = internals._sendPacket.bind(client);
      const held = new Map<number, Held>();
      const currentStream = (): unknown => (client as unknown as { stream?: unknown }).stream;
      const live = (entry: Held): boolean => client.connected && entry.stream === currentStream();
      const forget = (id: number, entry: Held): void => {
        if (held.get(id) === entry) held.delete(id);
      };
      const onClose = (): void => held.clear();
      client.on('close', onClose);
      internals._sendPacket = (packet, cb, ...rest) => {
        const entry = packet.cmd === 'puback' && packet.messageId !== undefined ? held.get(packet.messageId) : undefined;
        if (entry === undefined) {
          send(packet, cb, ...rest);
          return;
        }
        if (entry.acked) {
          forget(packet.messageId!, entry);
          // A message of a connection that has ended is not acknowledged: the broker sends it again.
          if (live(entry)) send(packet, cb, ...rest);
          else cb?.();
          return;
        }
        entry.puback = packet;
        cb?.();
      };
      client.handleMessage = (packet, callback) => {
        const id = packet.messageId;
        const entry: Held | null = packet.qos === 1 && id !== undefined ? { acked: false, puback: null, stream: currentStream() } : null;
        if (entry !== null) held.set(id!, entry);
        // Past the bound, this message holds the next one back until it is acknowledged, as MQTT.js alone would.
        const waits = entry === null || held.size > MAX_UNACKED;
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          callback();
        };
        subscriber.next({
          topic: packet.topic,
          payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
          receivedAt: Date.now(),
          ack: () => {
            if (entry === null) return release();
            if (entry.acked) return;
            entry.acked = true;
            if (entry.puback !== null) {
              forget(id!, entry);
              if (live(entry)) send(entry.puback);
            }
            // Releasing a message of an ended connection would have MQTT.js queue its PUBACK for the next one.
            if (waits && live(entry)) release();
          },
        });
        if (!waits) release();
      };
      return () => {
        client.off('close', onClose);
        internals._sendPacket = send;
        // Nobody takes messages any more: none is acknowledged, so the broker keeps them for the next session.
        client.handleMessage = () => undefined;
      };
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    // Force: a client still retrying an unreachable broker would otherwise wait for a connection to close.
    if (client) await client.endAsync(!client.connected);
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('MqttIngest: start() first');
    return this.client;
  }
}

function droppedProblem(d: DroppedPublish, maxBytes: number): string {
  return `MQTT message on ${d.topic} of ${d.bytes} bytes dropped unread: more than the ${maxBytes} allowed (MQTT_MAX_PACKET_KB)${d.qos === 1 ? '; acknowledged so that the broker does not send it again' : ''}`;
}
