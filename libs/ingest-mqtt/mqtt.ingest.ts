import type { Socket } from 'node:net';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { Observable } from 'rxjs';
import type { RawMessage } from '#libs/contracts/index.js';

export const TELEMETRY_TOPICS = ['sites/+/+/telemetry', 'sites/+/+/status'] as const;

export interface MqttIngestOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
}

/**
 * Subscribes to gateway topics at QoS 1 with a persistent session. Each message is handed over with an `ack`;
 * MQTT.js sends PUBACK and reads the next packet only once `ack` is called, so a slow consumer pushes back on
 * the broker instead of buffering without bound.
 */
export class MqttIngest {
  private client: MqttClient | null = null;

  constructor(private readonly options: MqttIngestOptions) {}

  async connect(): Promise<void> {
    const opts: IClientOptions = {
      clientId: this.options.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.options.username ? { username: this.options.username, password: this.options.password } : {}),
    };
    const client = await connectAsync(this.options.url, opts);
    this.client = client;
    disableNagle(client);
    client.on('connect', () => disableNagle(client));
  }

  /** Installs the message hook; subscribe to this before `subscribeTopics`. */
  messages(): Observable<RawMessage> {
    return new Observable<RawMessage>((subscriber) => {
      const client = this.requireClient();
      client.handleMessage = (packet, callback) => {
        let acked = false;
        subscriber.next({
          topic: packet.topic,
          payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
          receivedAt: Date.now(),
          ack: () => {
            if (acked) return;
            acked = true;
            callback();
          },
        });
      };
      return () => {
        client.handleMessage = (_packet, callback) => callback();
      };
    });
  }

  async subscribeTopics(): Promise<void> {
    await this.requireClient().subscribeAsync([...TELEMETRY_TOPICS], { qos: 1 });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync();
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('MqttIngest: connect() first');
    return this.client;
  }
}

function disableNagle(client: MqttClient): void {
  const stream = client.stream as Partial<Socket> | undefined;
  stream?.setNoDelay?.(true);
}
