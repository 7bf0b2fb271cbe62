import { describe, expect, it } from 'vitest';
import type { ConditionChange, ConditionLevel } from '#libs/contracts/index.js';
import { aLimitChange, aPoint } from '#libs/testing/builders.js';
import { AlarmBook } from './alarm-book.js';

const point = aPoint();
const E = point.enterpriseCode;

const limit = (from: ConditionLevel | null, to: ConditionLevel | null, value: number, ts: number, condition: 'limit_high' | 'limit_low' = 'limit_high'): ConditionChange =>
  ({ ...aLimitChange(point, from, to, value, ts, condition), message: `m${ts}` });

describe('AlarmBook', () => {
  it('keeps one alarm per condition key, escalating in place and clearing', () => {
    let n = 0;
    const book = new AlarmBook([], () => `a${++n}`);
    const raised = book.apply(limit(null, 'H', 41, 1000))!;
    expect(raised.kind).toBe('raise');
    expect(raised.alarm).toMatchObject({ id: 'a1', level: 'H', severity: 'major', status: 'ACTIVE_UNACK', pointCode: 'T101-TE', raisedAt: '1970-01-01T00:00:01.000Z', message: 'm1000' });
    const escalated = book.apply(limit('H', 'HH', 55, 2000))!;
    expect(escalated).toMatchObject({ kind: 'update', alarm: { id: 'a1', level: 'HH', severity: 'critical', peakValue: 55, raisedAt: raised.alarm.raisedAt } });
    const low = book.apply(limit(null, 'L', -1, 2500, 'limit_low'))!;
    expect(low.alarm.id).toBe('a2');
    expect(book.activeAlarms()).toHaveLength(2);
    const cleared = book.apply(limit('HH', null, 30, 3000))!;
    expect(cleared).toMatchObject({ kind: 'clear', alarm: { id: 'a1', status: 'CLEARED_UNACK', clearedAt: '1970-01-01T00:00:03.000Z', peakValue: 55, value: 30 } });
    expect(book.activeAlarms().map((a) => a.id)).toEqual(['a2']);
    expect(book.apply(limit('H', null, 30, 4000))).toBeNull();
  });

  it('keeps the lowest value as the peak of a low-side alarm', () => {
    const book = new AlarmBook([], () => 'x');
    book.apply(limit(null, 'L', -1, 1, 'limit_low'));
    expect(book.apply(limit('L', 'LL', -12, 2, 'limit_low'))!.alarm.peakValue).toBe(-12);
    expect(book.apply(limit('LL', 'L', -5, 3, 'limit_low'))!.alarm.peakValue).toBe(-12);
  });

  it('gives the conditions in force, for the rule core after a restart', () => {
    const book = new AlarmBook([], () => 'x');
    book.apply(limit(null, 'HH', 60, 1));
    expect(book.conditions()).toEqual([{ key: `${E}/point:T101-TE/limit_high`, level: 'HH' }]);
  });
});
