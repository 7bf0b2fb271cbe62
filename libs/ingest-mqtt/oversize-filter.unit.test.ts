import { describe, expect, it } from 'vitest';
import { OversizePublishFilter, type DroppedPublish } from './oversize-filter.js';

/** The remaining-length field of MQTT (7 bits a byte, high bit: more follows). */
function varint(n: number): number[] {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return bytes;
}

function publish(topic: string, payload: Buffer, qos: 0 | 1 = 0, messageId = 0): Buffer {
  const t = Buffer.from(topic);
  const id = qos > 0 ? [messageId >> 8, messageId & 0xff] : [];
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from(id), payload]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1), ...varint(body.length)]), body]);
}

const PINGRESP = Buffer.from([0xd0, 0x00]);
const PUBACK = Buffer.from([0x40, 0x02, 0x00, 0x07]);

/** Feeds `stream` to a fresh filter in chunks of `size` bytes. */
function run(stream: Buffer, size: number, maxBytes: number): { out: Buffer; dropped: DroppedPublish[] } {
  const filter = new OversizePublishFilter(maxBytes);
  const out: Buffer[] = [];
  const dropped: DroppedPublish[] = [];
  for (let i = 0; i < stream.length; i += size) {
    const r = filter.filter(stream.subarray(i, i + size));
    out.push(r.pass);
    dropped.push(...r.dropped);
  }
  return { out: Buffer.concat(out), dropped };
}

describe('OversizePublishFilter', () => {
  const small = [publish('sites/E1/GW1/telemetry', Buffer.from('{"a":1}'), 1, 1), PINGRESP, publish('sites/E1/GW1/status', Buffer.alloc(200, 0x20), 0), PUBACK];
  const big = publish('sites/E1/GW2/telemetry', Buffer.alloc(5000, 0x61), 1, 0x1234);
  const bigQos0 = publish('sites/E1/GW3/telemetry', Buffer.alloc(3000, 0x62), 0);
  const stream = Buffer.concat([small[0]!, big, small[1]!, bigQos0, small[2]!, small[3]!]);

  it.each([1, 2, 3, 7, 64, 1000, 100_000])('passes every packet up to the limit and removes bigger PUBLISH packets, read in chunks of %i bytes', (size) => {
    const { out, dropped } = run(stream, size, 1024);
    expect(out.equals(Buffer.concat(small))).toBe(true);
    expect(dropped).toEqual([
      { topic: 'sites/E1/GW2/telemetry', qos: 1, messageId: 0x1234, bytes: big.length },
      { topic: 'sites/E1/GW3/telemetry', qos: 0, messageId: null, bytes: bigQos0.length },
    ]);
  });

  it('hands a chunk with nothing to remove over as it is, and passes a packet of exactly the limit', () => {
    const exact = publish('t', Buffer.alloc(1000), 0);
    const filter = new OversizePublishFilter(exact.length);
    const chunk = Buffer.concat([exact, PINGRESP]);
    expect(filter.filter(chunk).pass).toBe(chunk);
    expect(new OversizePublishFilter(exact.length - 1).filter(exact)).toEqual({ pass: Buffer.alloc(0), dropped: [expect.objectContaining({ topic: 't', bytes: exact.length })] });
  });

  it('refuses an oversize packet that is not a PUBLISH, and a malformed length', () => {
    const suback = Buffer.concat([Buffer.from([0x90, ...varint(2000)]), Buffer.alloc(2000)]);
    expect(() => new OversizePublishFilter(1024).filter(suback)).toThrow(/type 9 and 2003 bytes/);
    expect(() => new OversizePublishFilter(1024).filter(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/malformed/);
  });
});
