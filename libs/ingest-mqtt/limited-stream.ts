import { Duplex } from 'node:stream';
import { OversizePublishFilter, type DroppedPublish, type FilteredChunk } from './oversize-filter.js';

/**
 * The broker connection as MQTT.js sees it: oversize PUBLISH packets are taken out on the way in (and a QoS 1 one
 * acknowledged, so that the broker does not send it again on every reconnection), writes pass through unchanged.
 */
export class SizeLimitedStream extends Duplex {
  private readonly sizeFilter: OversizePublishFilter;

  constructor(
    private readonly inner: Duplex,
    maxBytes: number,
    private readonly onDropped: (dropped: DroppedPublish) => void,
  ) {
    super({ allowHalfOpen: false });
    this.sizeFilter = new OversizePublishFilter(maxBytes);
    inner.on('data', (chunk: Buffer) => this.fromBroker(chunk));
    inner.once('end', () => this.push(null));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.once('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.inner.write(chunk)) done();
    else this.inner.once('drain', () => done());
  }

  /** Packets MQTT.js wrote in one tick (it corks the stream) reach the socket in one system call, as without this wrapper. */
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.inner.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.inner.write(chunk);
    this.inner.uncork();
    if (flowing) done();
    else this.inner.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.inner.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.inner.destroy(err ?? undefined);
    done(err);
  }

  private fromBroker(chunk: Buffer): void {
    let filtered: FilteredChunk;
    try {
      filtered = this.sizeFilter.filter(chunk);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    for (const d of filtered.dropped) {
      this.onDropped(d);
      // Written through this stream, so that it queues after whole packets MQTT.js has written.
      if (d.qos === 1 && d.messageId !== null && !this.writableEnded) this.write(pubAck(d.messageId));
    }
    if (filtered.pass.length > 0 && !this.push(filtered.pass)) this.inner.pause();
  }
}

function pubAck(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}
