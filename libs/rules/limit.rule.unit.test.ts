import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { ReadingBatch } from '#libs/contracts/index.js';
import { aPoint, aReading, aTransition } from '#libs/testing/builders.js';
import { highLevel, limitAlarms, lowLevel, rekeyLimitStates, type LimitState } from './limit.rule.js';
import type { Point } from '#libs/contracts/index.js';

const point = aPoint({ limits: { ll: -10, l: 0, h: 40, hh: 50 }, deadband: 1 });
const limits = point.limits;

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const batch = (...values: number[]): ReadingBatch => values.map((v, i) => aReading(point, v, 1000 + i));
const t = aTransition.bind(null, point);

describe('highLevel / lowLevel', () => {
  it('enters H and HH at their limits', () => {
    expect(highLevel(null, 39.9, limits, 1)).toBeNull();
    expect(highLevel(null, 40, limits, 1)).toBe('H');
    expect(highLevel(null, 50, limits, 1)).toBe('HH');
    expect(lowLevel(null, 0, limits, 1)).toBe('L');
    expect(lowLevel(null, -10, limits, 1)).toBe('LL');
    expect(lowLevel(null, 0.1, limits, 1)).toBeNull();
  });

  it('holds a level inside the deadband and leaves it beyond', () => {
    expect(highLevel('H', 39.5, limits, 1)).toBe('H');
    expect(highLevel('H', 39, limits, 1)).toBeNull();
    expect(highLevel('HH', 49.5, limits, 1)).toBe('HH');
    expect(highLevel('HH', 49, limits, 1)).toBe('H');
    expect(lowLevel('L', 0.5, limits, 1)).toBe('L');
    expect(lowLevel('L', 1, limits, 1)).toBeNull();
    expect(lowLevel('LL', -9.5, limits, 1)).toBe('LL');
    expect(lowLevel('LL', -9, limits, 1)).toBe('L');
  });

  it('ignores sides without limits', () => {
    const none = { ll: null, l: null, h: null, hh: null };
    expect(highLevel(null, 1e9, none, 0)).toBeNull();
    expect(lowLevel(null, -1e9, none, 0)).toBeNull();
    expect(highLevel(null, 60, { ...none, hh: 50 }, 0)).toBe('HH');
    expect(highLevel('HH', 49, { ...none, hh: 50 }, 0)).toBeNull();
  });
});

describe('limitAlarms operator', () => {
  it('raises, escalates, de-escalates and clears one alarm per side', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-c-d-e-f|', {
        a: batch(20),
        b: batch(41),
        c: batch(55),
        d: batch(49.5),
        e: batch(45),
        f: batch(38.9),
      });
      expectObservable(input.pipe(limitAlarms())).toBe('--b-c---e-f|', {
        b: t(null, 'H', 41, 40, 1000),
        c: t('H', 'HH', 55, 50, 1000),
        e: t('HH', 'H', 45, 40, 1000),
        f: t('H', null, 38.9, 40, 1000),
      });
    });
  });

  it('raises once for a value hovering at the limit within the deadband', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b|', { a: batch(40.2, 39.4, 40.1, 39.2, 40.6), b: batch(38.5) });
      expectObservable(input.pipe(limitAlarms())).toBe('a-b|', {
        a: t(null, 'H', 40.2, 40, 1000),
        b: t('H', null, 38.5, 40, 1000),
      });
    });
  });

  it('evaluates the low side independently', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-c|', { a: batch(-1), b: batch(-12), c: batch(5) });
      expectObservable(input.pipe(limitAlarms())).toBe('a-b-c|', {
        a: t(null, 'L', -1, 0, 1000, 'low'),
        b: t('L', 'LL', -12, -10, 1000, 'low'),
        c: t('LL', null, 5, -10, 1000, 'low'),
      });
    });
  });

  it('skips bad-quality readings without touching state', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b|', { a: [aReading(point, 99, 1, 'bad')], b: batch(Number.NaN) });
      expectObservable(input.pipe(limitAlarms())).toBe('---|');
    });
  });

  it('starts from seeded state so a restart does not re-raise but still clears', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b|', { a: batch(52), b: batch(30) });
      const seeded = new Map([[point, { high: 'HH' as const, low: null }]]);
      expectObservable(input.pipe(limitAlarms(seeded))).toBe('--b|', { b: t('HH', null, 30, 50, 1000) });
    });
  });

  it('keeps separate state per point', () => {
    const other = aPoint({ code: 'T102-TE' });
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a----|', { a: [aReading(point, 45, 1), aReading(other, 10, 2), aReading(other, 45, 3)] });
      expectObservable(input.pipe(limitAlarms())).toBe('(ab)-|', {
        a: t(null, 'H', 45, 40, 1),
        b: { point: other, side: 'high', from: null, to: 'H', value: 45, threshold: 40, ts: 3 },
      });
    });
  });

  it('carries state to the reloaded version of a point and judges the next reading by its new limits', () => {
    const states = new Map<Point, LimitState>();
    const raised = aPoint({ code: 'A' });
    const gone = aPoint({ code: 'B' });
    const events: unknown[] = [];
    const input = new Subject<ReadingBatch>();
    input.pipe(limitAlarms(states)).subscribe((e) => events.push({ code: e.point.code, from: e.from, to: e.to, threshold: e.threshold }));
    input.next([aReading(raised, 45, 1), aReading(gone, 45, 1)]);
    // Reload: A's H limit moves from 40 to 47; B is no longer registered.
    const raisedV2 = aPoint({ code: 'A', limits: { h: 47 } });
    rekeyLimitStates(states, (old) => (old.code === 'A' ? raisedV2 : undefined));
    expect([...states.keys()]).toEqual([raisedV2]);
    input.next([aReading(raisedV2, 46.5, 2)]);
    input.next([aReading(raisedV2, 45.5, 3)]);
    expect(events).toEqual([
      { code: 'A', from: null, to: 'H', threshold: 40 },
      { code: 'B', from: null, to: 'H', threshold: 40 },
      { code: 'A', from: 'H', to: null, threshold: 47 },
    ]);
  });
});
