import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { PacketSizeWatch } from './packet-size.js';

export interface EmbeddedBrokerOptions {
  /** Largest MQTT packet, in bytes, a client may send; a client sending a bigger one is disconnected (default 256 KiB). */
  readonly maxPacketBytes?: number;
  readonly onProblem?: (message: string) => void;
}

export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

/** In-process MQTT broker for the zero-set-up default (`MQTT_URL` unset). */
export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port: number, host = '0.0.0.0', options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    const onProblem = options.onProblem ?? (() => undefined);
    const broker = await Aedes.createBroker();
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      broker.handle(socket);
      limitPacketSize(socket, maxPacketBytes, onProblem);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return new EmbeddedBroker(broker, server, bound);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
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
