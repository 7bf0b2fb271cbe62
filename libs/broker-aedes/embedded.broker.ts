import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { accessHooks, type BrokerAuthority, type RefusalEvent } from './broker-access.js';
import { PacketSizeWatch } from './packet-size.js';

export interface BrokerTlsOptions {
  /** Port of the TLS listener (0: any free port), on the same host as the plain one. */
  readonly port: number;
  /** PEM certificate chain and key of the broker. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** PEM CA certificates that client certificates must chain to; required with `requestClientCert`. */
  readonly ca?: string | Buffer;
  /** Ask clients for a certificate: one that chains to `ca` with subject CN `<enterpriseCode>/<gatewayCode>` logs that gateway in without a password. */
  readonly requestClientCert?: boolean;
}

export interface EmbeddedBrokerOptions {
  /** Largest MQTT packet, in bytes, a client may send; a client sending a bigger one is disconnected (default 256 KiB). */
  readonly maxPacketBytes?: number;
  readonly onProblem?: (message: string) => void;
  /**
   * Who may connect and what each may do: registered gateways publish their own topics only, the internal client
   * subscribes under `sites/`, nothing else is allowed. Without it (or with `allowAnonymous`) anyone may do anything.
   */
  readonly auth?: BrokerAuthority;
  /** The monitor's own client; needed with `auth`. */
  readonly internalClient?: { readonly username: string; readonly password: string };
  /** Opens the broker to everyone, `auth` or not (MQTT_ALLOW_ANONYMOUS=1, for experiments). */
  readonly allowAnonymous?: boolean;
  /** Each refused CONNECT, PUBLISH (the message is acknowledged and dropped) and SUBSCRIBE (0x80 in the SUBACK). */
  readonly onRefused?: (event: RefusalEvent) => void;
  readonly tls?: BrokerTlsOptions;
}

export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

/** In-process MQTT broker for the zero-set-up default (`MQTT_URL` unset). */
export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly servers: readonly Server[],
    readonly port: number,
    /** Port of the TLS listener, null without one. */
    readonly tlsPort: number | null,
  ) {}

  static async start(port: number, host = '0.0.0.0', options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    if (options.tls?.requestClientCert && !options.tls.ca) throw new Error('EmbeddedBroker: tls.requestClientCert needs tls.ca, the CA that gateway certificates chain to');
    const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    const onProblem = options.onProblem ?? (() => undefined);
    const onRefused = options.onRefused ?? (() => undefined);
    const connected = new Map<string, Client>();
    const broker = await Aedes.createBroker(accessOf(options, onProblem, onRefused, (id) => connected.get(id)));
    broker.on('client', (client) => connected.set(client.id, client));
    broker.on('clientDisconnect', (client) => {
      if (connected.get(client.id) === client) connected.delete(client.id);
    });
    const addresses = new WeakMap<object, string>();
    reportProtocolRefusals(broker, addresses, onRefused);
    const handle = (socket: Socket): void => {
      socket.setNoDelay(true);
      addresses.set(socket, socket.remoteAddress ?? '?');
      broker.handle(socket);
      limitPacketSize(socket, maxPacketBytes, onProblem);
    };
    const servers: Server[] = [];
    try {
      const plain = createServer(handle);
      servers.push(plain);
      const bound = await listen(plain, port, host);
      let tlsPort: number | null = null;
      if (options.tls) {
        const { tls } = options;
        const secure = createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestClientCert ?? false, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, handle);
        servers.push(secure);
        tlsPort = await listen(secure, tls.port, host);
      }
      return new EmbeddedBroker(broker, servers, bound, tlsPort);
    } catch (err) {
      await closeAll(broker, servers);
      throw err;
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** `mqtts://` URL of the TLS listener, null without one. */
  get tlsUrl(): string | null {
    return this.tlsPort === null ? null : `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  async close(): Promise<void> {
    await closeAll(this.broker, this.servers);
  }
}

function accessOf(options: EmbeddedBrokerOptions, onProblem: (message: string) => void, onRefused: (event: RefusalEvent) => void, holderOf: (clientId: string) => Client | undefined): AedesOptions {
  if (!options.auth || options.allowAnonymous) return {};
  if (!options.internalClient) throw new Error("EmbeddedBroker: auth needs internalClient, the monitor's own username and password");
  return accessHooks({ auth: options.auth, internalClient: options.internalClient, onProblem, onRefused, holderOf });
}

/** aedes 1.2 answers an MQTT 5 CONNECT with "unacceptable protocol version" before any hook sees the client. */
function reportProtocolRefusals(broker: Aedes, addresses: WeakMap<object, string>, onRefused: (event: RefusalEvent) => void): void {
  broker.on('connectionError', (client, err) => {
    if ((err as { errorCode?: unknown }).errorCode !== 1) return;
    // By now the socket is closed and has forgotten its peer.
    onRefused({ kind: 'connect', clientId: '', address: addresses.get(client.conn) ?? '?', reason: 'unsupported MQTT protocol version: the embedded broker speaks MQTT 3.1.1 (use mosquitto for MQTT 5 gateways)' });
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

async function closeAll(broker: Aedes, servers: readonly Server[]): Promise<void> {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/**
 * aedes (1.2) has no packet size limit: its parser buffers a packet whole, so one huge PUBLISH exhausts the heap.
 * aedes reads the socket with read() on 'readable', and a 'data' listener then sees each chunk as aedes takes it,
 * before the parser does: the connection is destroyed as soon as an oversize packet's header is read.
 */
function limitPacketSize(socket: Socket, maxBytes: number, onProblem: (message: string) => void): void {
  const watch = new PacketSizeWatch(maxBytes);
  const onData = (chunk: Buffer): void => {
    const size = watch.scan(chunk);
    if (size === null) return;
    socket.off('data', onData);
    const what = Number.isFinite(size) ? `a packet of ${size} bytes` : 'a packet with a malformed length';
    onProblem(`MQTT client ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} sent ${what}, more than the ${maxBytes} allowed (MQTT_MAX_PACKET_KB); disconnected`);
    socket.destroy();
  };
  socket.on('data', onData);
}
