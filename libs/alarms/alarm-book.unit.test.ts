import { describe, expect, it } from 'vitest';
import { aPoint, aTransition } from '#libs/testing/builders.js';
import { AlarmBook } from './alarm-book.js';

const point = aPoint();
const tr = aTransition.bind(null, point);

describe('AlarmBook', () => {
  it('keeps one alarm per point and side, escalating in place and clearing', () => {
    let n = 0;
    const book = new AlarmBook([], () => `a${++n}`);
    const raised = book.apply(tr(null, 'H', 41, 40, 1000))!;
    expect(raised).toMatchObject({ id: 'a1', type: 'H', severity: 'major', status: 'ACTIVE_UNACK', raisedAt: '1970-01-01T00:00:01.000Z' });
    const escalated = book.apply(tr('H', 'HH', 55, 50, 2000))!;
    expect(escalated).toMatchObject({ id: 'a1', type: 'HH', severity: 'critical', peakValue: 55, raisedAt: raised.raisedAt });
    const low = book.apply(tr(null, 'L', -1, 0, 2500, 'low'))!;
    expect(low.id).toBe('a2');
    expect(book.activeAlarms()).toHaveLength(2);
    const cleared = book.apply(tr('HH', null, 30, 50, 3000))!;
    expect(cleared).toMatchObject({ id: 'a1', status: 'CLEARED_UNACK', clearedAt: '1970-01-01T00:00:03.000Z', peakValue: 55 });
    expect(book.activeAlarms().map((a) => a.id)).toEqual(['a2']);
    expect(book.apply(tr('H', null, 30, 40, 4000))).toBeNull();
  });

  it('gives the rule state implied by active alarms', () => {
    const book = new AlarmBook([], () => 'x');
    book.apply(tr(null, 'HH', 60, 50, 1));
    const states = book.ruleState(() => point);
    expect(states.get(point)).toEqual({ high: 'HH', low: null });
  });
});
