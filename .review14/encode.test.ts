import { describe, expect, it } from 'vitest';
import { encodeReadings } from '../libs/store-influx/line-protocol.js';
import { decodeMessage } from '../libs/decode/message.decoder.js';
import { boundedByArrival } from '../libs/rules/arrival.js';

const point = { enterpriseCode: 'E1', hazardSourceCode: 'H1', code: 'T1', gatewayCode: 'G1' } as any;
const lookup = { findPoint: () => point } as any;

describe('encodeReadings edge values', () => {
  it('values', () => {
    for (const v of [1e21, -1e21, -1e-7, 5e-324, -0, 1e15, 123456789012345.6, -2.2250738585072014e-308, 0.1 + 0.2]) {
      const line = encodeReadings([{ point, ts: 1700000000000, value: v, quality: 'good' }]).toString();
      console.log(JSON.stringify(line));
    }
  });
  it('timestamp before 1970 (decoder accepts RFC 3339 years 1000-1969)', () => {
    const now = Date.parse('2026-11-30T08:00:00Z');
    const got: string[] = [];
    const want: string[] = [];
    for (const ts of ['1969-12-31T23:59:59.123Z', '1900-01-01T00:00:00Z', '1950-06-01T12:00:00Z']) {
      const d = decodeMessage('sites/E1/G1/telemetry', Buffer.from(JSON.stringify({ ts, readings: [{ point: 'T1', value: 1 }] })), now, lookup) as any;
      const r = d.readings[0];
      const line = encodeReadings([r]).toString();
      console.log(ts, '-> reading.ts', r.ts, '-> line', JSON.stringify(line));
      got.push(line.trim().split(' ').pop()!);
      want.push(String(Math.round(r.ts))); // what the previous encoder (`${Math.round(ts)}`) wrote
    }
    expect(got).toEqual(want);
  });
  it('a batch with one reading stamped far ahead shifts the others of its point below zero', () => {
    const now = Date.parse('2026-11-30T08:00:00Z');
    const d = decodeMessage('sites/E1/G1/telemetry', Buffer.from(JSON.stringify({ readings: [{ point: 'T1', value: 1, ts: now - 1000 }, { point: 'T1', value: 2, ts: 4102444800000 }] })), now, lookup) as any;
    const rs = boundedByArrival(d.readings, now);
    console.log(rs.map((r: any) => r.ts), JSON.stringify(encodeReadings(rs).toString()));
  });
});
