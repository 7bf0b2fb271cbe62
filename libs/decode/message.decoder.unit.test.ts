import { describe, expect, it } from 'vitest';
import type { Point, PointLookup } from '#libs/contracts/index.js';
import { aPoint } from '#libs/testing/builders.js';
import { decodeMessage } from './message.decoder.js';

const E = '91320594MA1WKTRP3E';
const point = aPoint();
const lookup: PointLookup = {
  findPoint: (e: string, p: string): Point | undefined => (e === E && p === point.code ? point : undefined),
};
const NOW = Date.parse('2026-11-25T08:00:00Z');
const decode = (topic: string, body: unknown) =>
  decodeMessage(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), NOW, lookup);

describe('decodeMessage', () => {
  it('decodes a telemetry batch with epoch-ms and RFC 3339 timestamps', () => {
    const d = decode(`sites/${E}/GW01/telemetry`, {
      ts: NOW - 1000,
      readings: [
        { point: 'T101-TE', value: 21.5 },
        { point: 'T101-TE', value: 22, ts: '2026-11-25T07:59:59.500Z', quality: 'bad' },
      ],
    });
    expect(d).toEqual({
      kind: 'telemetry',
      enterpriseCode: E,
      gatewayCode: 'GW01',
      readings: [
        { point, ts: NOW - 1000, value: 21.5, quality: 'good' },
        { point, ts: NOW - 500, value: 22, quality: 'bad' },
      ],
      rejections: [],
      clockAheadMs: 0,
    });
  });

  it('uses the receive time when the message has no ts', () => {
    const d = decode(`sites/${E}/GW01/telemetry`, { readings: [{ point: 'T101-TE', value: 1 }] });
    expect(d.kind === 'telemetry' && d.readings[0]?.ts).toBe(NOW);
  });

  it('decodes gateway status', () => {
    expect(decode(`sites/${E}/GW01/status`, 'offline')).toEqual({ kind: 'status', enterpriseCode: E, gatewayCode: 'GW01', state: 'offline' });
    expect(decode(`sites/${E}/GW01/status`, 'sleepy')).toMatchObject({ kind: 'rejected', rejection: { reason: 'bad_status' } });
  });

  it.each([
    ['bad_topic', 'sites/x/telemetry', { readings: [] }],
    ['bad_topic', `sites/${E}/GW01/weather`, { readings: [] }],
    ['bad_json', `sites/${E}/GW01/telemetry`, '{"readings": [1,'],
    ['bad_schema', `sites/${E}/GW01/telemetry`, '[1,2]'],
    ['bad_schema', `sites/${E}/GW01/telemetry`, { readings: [] }],
    ['bad_schema', `sites/${E}/GW01/telemetry`, { readings: 'T101-TE=3' }],
    ['bad_timestamp', `sites/${E}/GW01/telemetry`, { ts: 'yesterday', readings: [{ point: 'T101-TE', value: 1 }] }],
  ])('rejects the whole message with %s for %s', (reason, topic, body) => {
    expect(decode(topic, body)).toMatchObject({ kind: 'rejected', rejection: { reason } });
  });

  it('rejects bad readings one by one and keeps the good ones', () => {
    const d = decode(`sites/${E}/GW01/telemetry`, {
      ts: NOW,
      readings: [
        { point: 'T101-TE', value: '12' },
        { point: 'NOPE', value: 1 },
        { point: 'T101-TE', value: 4, quality: 'meh' },
        { value: 5 },
        { point: 'T101-TE', value: 6 },
      ],
    });
    expect(d.kind).toBe('telemetry');
    if (d.kind !== 'telemetry') return;
    expect(d.readings.map((r) => r.value)).toEqual([6]);
    expect(d.rejections.map((r) => r.reason)).toEqual(['bad_schema', 'unknown_point', 'bad_schema', 'bad_schema']);
    expect(d.rejections[1]?.detail).toContain('NOPE');
  });

  it('takes readings stamped ahead of their arrival and says how far ahead the furthest was', () => {
    const d = decode(`sites/${E}/GW01/telemetry`, { readings: [{ point: 'T101-TE', value: 20, ts: NOW + 1000 }, { point: 'T101-TE', value: 60, ts: NOW + 2000 }, { point: 'T101-TE', value: 4, ts: NOW - 1000 }] });
    expect(d).toMatchObject({ kind: 'telemetry', rejections: [], clockAheadMs: 2000 });
    if (d.kind !== 'telemetry') return;
    expect(d.readings.map((r) => [r.value, r.ts])).toEqual([[20, NOW + 1000], [60, NOW + 2000], [4, NOW - 1000]]);
  });

  it('refuses a reading sent by a gateway other than the one the point is registered to', () => {
    const d = decode(`sites/${E}/GW02/telemetry`, { readings: [{ point: 'T101-TE', value: 1 }] });
    expect(d).toMatchObject({ kind: 'telemetry', readings: [], rejections: [{ reason: 'wrong_gateway', detail: 'point T101-TE is registered to gateway GW01, not GW02' }] });
  });

  it.each(['1e999', '-1e999'])('refuses a value JSON reads as infinite (%s) and keeps the rest of the message', (raw) => {
    const d = decode(`sites/${E}/GW01/telemetry`, `{"ts": ${NOW}, "readings": [{"point": "T101-TE", "value": 1}, {"point": "T101-TE", "value": ${raw}}, {"point": "T101-TE", "value": 3}]}`);
    expect(d).toEqual({
      kind: 'telemetry',
      enterpriseCode: E,
      gatewayCode: 'GW01',
      readings: [
        { point, ts: NOW, value: 1, quality: 'good' },
        { point, ts: NOW, value: 3, quality: 'good' },
      ],
      rejections: [{ reason: 'bad_schema', detail: 'readings[1].value must be a finite number (point T101-TE)' }],
      clockAheadMs: 0,
    });
  });
});
