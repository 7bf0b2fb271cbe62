/**
 * Follows the MQTT fixed headers (packet type byte, remaining length) of a byte stream and tells, as soon as a
 * packet's remaining length is read and before its body arrives, whether the packet is larger than allowed.
 */
export class PacketSizeWatch {
  private state: 'type' | 'length' | 'body' = 'type';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The total size of the first oversize packet whose header ends in `chunk` (Infinity: malformed length), else null. */
  scan(chunk: Buffer): number | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = 'type';
      } else if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else {
        const size = this.readLengthByte(chunk[i++]!);
        if (size !== null && size > this.maxBytes) return size;
      }
    }
    return null;
  }

  /** One byte of the variable-length remaining length; the packet's total size once the last byte is read. */
  private readLengthByte(byte: number): number | null {
    this.remaining += (byte & 0x7f) * this.multiplier;
    this.multiplier *= 128;
    this.lengthBytes++;
    if (byte & 0x80) return this.lengthBytes === 4 ? Number.POSITIVE_INFINITY : null;
    this.state = this.remaining === 0 ? 'type' : 'body';
    return 1 + this.lengthBytes + this.remaining;
  }
}
