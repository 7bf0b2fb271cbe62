/** A PUBLISH packet removed from the stream for its size; the payload itself was never held. */
export interface DroppedPublish {
  readonly topic: string;
  readonly qos: number;
  /** Packet identifier (QoS 1 and 2), to acknowledge the message. */
  readonly messageId: number | null;
  /** Total packet size in bytes. */
  readonly bytes: number;
}

export interface FilteredChunk {
  /** The bytes to hand to the MQTT parser (the chunk itself when nothing was removed). */
  readonly pass: Buffer;
  readonly dropped: readonly DroppedPublish[];
}

const PUBLISH = 3;

/**
 * Removes PUBLISH packets larger than `maxBytes` from the MQTT 3.1.1 byte stream a broker sends, reading only their
 * fixed header, topic and packet identifier and skipping the payload as it arrives, so that a huge message is never
 * buffered. Every other packet passes unchanged. A broker sends no other packet that large: `filter` throws then.
 */
export class OversizePublishFilter {
  private state: 'type' | 'length' | 'pass' | 'prefix' | 'skip' = 'type';
  /** The fixed header of the packet being read (at most 5 bytes), withheld until its size is known. */
  private header: number[] = [];
  private multiplier = 1;
  private remaining = 0;
  private prefix: number[] = [];
  private prefixNeeded = 2;

  constructor(private readonly maxBytes: number) {}

  filter(chunk: Buffer): FilteredChunk {
    const parts: Buffer[] = [];
    const dropped: DroppedPublish[] = [];
    /** Start of the run of passing bytes in `chunk`, or -1. */
    let run = -1;
    /** Where the current packet's fixed header starts in `chunk`, or -1 when it started in an earlier chunk. */
    let headerAt = -1;
    const endRun = (end: number): void => {
      if (run >= 0 && end > run) parts.push(chunk.subarray(run, end));
      run = -1;
    };
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'pass' || this.state === 'skip') {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.state === 'pass' && run < 0) run = i;
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'type';
      } else if (this.state === 'type') {
        if (run < 0) run = i;
        headerAt = i;
        this.startPacket(chunk[i++]!);
      } else if (this.state === 'length') {
        const size = this.readLengthByte(chunk[i++]!);
        if (size === null) continue;
        if (size <= this.maxBytes) {
          this.state = this.remaining === 0 ? 'type' : 'pass';
          if (headerAt < 0) {
            parts.push(Buffer.from(this.header));
            run = i;
          }
        } else {
          endRun(headerAt < 0 ? 0 : headerAt);
          this.startDropping(size);
        }
        headerAt = -1;
      } else {
        const found = this.readPrefixByte(chunk[i++]!);
        if (found) dropped.push(found);
      }
    }
    endRun(this.state === 'length' ? (headerAt < 0 ? 0 : headerAt) : chunk.length);
    const pass = parts.length === 1 && parts[0]!.length === chunk.length ? chunk : Buffer.concat(parts);
    return { pass, dropped };
  }

  private startPacket(typeByte: number): void {
    this.header = [typeByte];
    this.multiplier = 1;
    this.remaining = 0;
    this.state = 'length';
  }

  /** One byte of the remaining length; the packet's total size once its last byte is read. */
  private readLengthByte(byte: number): number | null {
    this.header.push(byte);
    this.remaining += (byte & 0x7f) * this.multiplier;
    this.multiplier *= 128;
    if (byte & 0x80) {
      if (this.header.length === 5) throw new Error('MQTT packet with a malformed remaining length');
      return null;
    }
    return this.header.length + this.remaining;
  }

  private startDropping(size: number): void {
    const type = this.header[0]! >> 4;
    if (type !== PUBLISH) throw new Error(`MQTT packet of type ${type} and ${size} bytes, more than the ${this.maxBytes} allowed`);
    this.prefix = [];
    this.prefixNeeded = 2;
    this.state = 'prefix';
  }

  /** Topic length, topic and packet identifier of a dropped PUBLISH; the dropped packet once they are read. */
  private readPrefixByte(byte: number): DroppedPublish | null {
    this.prefix.push(byte);
    this.remaining--;
    const qos = (this.header[0]! >> 1) & 3;
    if (this.prefix.length === 2) this.prefixNeeded = 2 + ((this.prefix[0]! << 8) | this.prefix[1]!) + (qos > 0 ? 2 : 0);
    if (this.prefix.length < this.prefixNeeded) {
      if (this.remaining === 0) throw new Error('MQTT PUBLISH shorter than its topic');
      return null;
    }
    const topicEnd = this.prefixNeeded - (qos > 0 ? 2 : 0);
    const p = this.prefix;
    this.state = this.remaining === 0 ? 'type' : 'skip';
    return {
      topic: Buffer.from(p.slice(2, topicEnd)).toString('utf8'),
      qos,
      messageId: qos > 0 ? (p[topicEnd]! << 8) | p[topicEnd + 1]! : null,
      bytes: this.header.length + p.length + this.remaining,
    };
  }
}
