import { describe, expect, it } from 'vitest';
import { anAlarm, aPoint, aReading } from '#libs/testing/builders.js';
import { float } from './float.js';
import { alarmEventLine, encodeReadings } from './line-protocol.js';

describe('encodeReadings', () => {
  it('writes one line per reading in UTF-8, good ones as `value`, bad ones as `bad_value` with quality, escaping tags', () => {
    const point = aPoint({ code: 'T 101,TE=x', hazardSourceCode: '储罐区-1', enterpriseCode: 'E1' });
    const bytes = encodeReadings([aReading(point, 21.4, 1_795_587_689_983), aReading(point, 999, 1_795_587_690_983.4, 'bad'), aReading(point, -3, 5)]);
    expect(bytes.toString('utf8')).toBe(
      'reading,enterprise=E1,hazard_source=储罐区-1,point=T\\ 101\\,TE\\=x value=21.4 1795587689983\n' +
        'reading,enterprise=E1,hazard_source=储罐区-1,point=T\\ 101\\,TE\\=x bad_value=999.0,quality="bad" 1795587690983\n' +
        'reading,enterprise=E1,hazard_source=储罐区-1,point=T\\ 101\\,TE\\=x value=-3.0 5\n',
    );
  });

  it('writes every number as the float text the string form gives, so a field never changes type', () => {
    const point = aPoint();
    const values = [0, -0, 1, -1, 0.1, -0.000001, 1e-7, 123456789012345, 1e15, 2 ** 53, 1e21, -1e300, 5e-324, 21.400000000000002, 1 / 3];
    const lines = encodeReadings(values.map((v, i) => aReading(point, v, 1_700_000_000_000 + i)))
      .toString()
      .trimEnd()
      .split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(values.map((v) => `value=${float(v)}`));
    expect(lines.map((l) => Number(l.split(' ')[2]))).toEqual(values.map((_, i) => 1_700_000_000_000 + i));
    for (const v of values) expect(Number(float(v))).toBe(v === 0 ? 0 : v);
  });

  it('writes timestamps before 1970 with their sign', () => {
    const times = [-877, -2_208_988_800_000, 0, 1];
    const lines = encodeReadings(times.map((ts) => aReading(aPoint(), 1, ts))).toString().trimEnd().split('\n');
    expect(lines.map((l) => Number(l.split(' ')[2]))).toEqual(times);
  });

  it('tells each good reading with its series, and a large batch is not cut short', () => {
    const points = Array.from({ length: 3 }, (_, i) => aPoint({ code: `P${i}` }));
    const batch = Array.from({ length: 5000 }, (_, i) => aReading(points[i % 3]!, i, 1_700_000_000_000 + i, i % 10 === 0 ? 'bad' : 'good'));
    const seen: string[] = [];
    const bytes = encodeReadings(batch, (series, ts, value) => seen.push(`${series.key}${value}@${ts}`));
    expect(bytes.toString().split('\n').length).toBe(5001);
    expect(seen.length).toBe(4500);
    expect(seen[0]).toBe(`reading,enterprise=${points[1]!.enterpriseCode},hazard_source=${points[1]!.hazardSourceCode},point=P1 1@1700000000001`);
  });
});

describe('alarmEventLine', () => {
  it('keeps a message with line breaks on one line', () => {
    const line = alarmEventLine({ kind: 'raise', alarm: anAlarm({ message: 'fan stopped\nwhile "hot"\r\nsee \\ manual' }) });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('message="fan stopped while \\"hot\\" see \\\\ manual"');
  });
});
