import { describe, expect, it } from 'vitest';
import { aPoint } from '#libs/testing/builders.js';
import { DelayedLevel, highLevel, lowLevel } from './limit.rule.js';

const limits = aPoint({ limits: { ll: -10, l: 0, h: 40, hh: 50 } }).limits;

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

describe('DelayedLevel', () => {
  it('applies at once without delays', () => {
    const d = new DelayedLevel<'H' | 'HH'>();
    expect(d.step('H', 0, 0, 0, 0)).toBe(true);
    expect(d.level).toBe('H');
    expect(d.step('H', 1, 1, 0, 0)).toBe(false);
    expect(d.step(null, 2, 2, 0, 0)).toBe(true);
    expect(d.level).toBeNull();
  });

  it('raises only once the move has lasted the on-delay, at the level the latest value calls for', () => {
    const d = new DelayedLevel<'H' | 'HH'>();
    expect(d.step('H', 0, 0, 30_000, 0)).toBe(false);
    expect(d.step('HH', 20_000, 20_000, 30_000, 0)).toBe(false);
    expect(d.step('HH', 30_000, 30_000, 30_000, 0)).toBe(true);
    expect(d.level).toBe('HH');
  });

  it('restarts the delay when the value goes back before it elapses', () => {
    const d = new DelayedLevel<'H' | 'HH'>();
    d.step('H', 0, 0, 30_000, 0);
    d.step(null, 10_000, 10_000, 30_000, 0);
    expect(d.step('H', 20_000, 20_000, 30_000, 0)).toBe(false);
    expect(d.step('H', 40_000, 40_000, 30_000, 0)).toBe(false);
    expect(d.step('H', 50_000, 50_000, 30_000, 0)).toBe(true);
  });

  it('clears only after the off-delay', () => {
    const d = new DelayedLevel<'H' | 'HH'>();
    d.step('H', 0, 0, 0, 60_000);
    expect(d.step(null, 10_000, 10_000, 0, 60_000)).toBe(false);
    expect(d.step(null, 69_999, 69_999, 0, 60_000)).toBe(false);
    expect(d.step(null, 70_000, 70_000, 0, 60_000)).toBe(true);
  });

  it('is confirmed by the server clock when no further reading comes (report by exception)', () => {
    const d = new DelayedLevel<'H' | 'HH'>();
    expect(d.step('HH', 1_000, 5_000, 10_000, 0)).toBe(false);
    expect(d.pending).toBe(true);
    expect(d.confirm(14_999, 10_000, 0)).toBe(false);
    expect(d.confirm(15_000, 10_000, 0)).toBe(true);
    expect(d.level).toBe('HH');
    expect(d.pending).toBe(false);
    d.step(null, 2_000, 20_000, 10_000, 30_000);
    expect(d.confirm(49_999, 10_000, 30_000)).toBe(false);
    expect(d.confirm(50_000, 10_000, 30_000)).toBe(true);
    expect(d.level).toBeNull();
  });

  it('is confirmed by whichever clock passes the delay first, so neither a slow nor a fast gateway clock holds it', () => {
    const behind = new DelayedLevel<'H' | 'HH'>();
    behind.step('H', 0, 100_000, 10_000, 0);
    expect(behind.step('H', 1_000, 110_000, 10_000, 0)).toBe(true);
    const fast = new DelayedLevel<'H' | 'HH'>();
    fast.step('H', 0, 0, 10_000, 0);
    expect(fast.step('H', 10_000, 1_000, 10_000, 0)).toBe(true);
  });

  it('forgets a pending move when its clock is restarted', () => {
    const d = new DelayedLevel<'H' | 'HH'>();
    d.step('H', 0, 0, 10_000, 0);
    d.restart();
    expect(d.confirm(60_000, 10_000, 0)).toBe(false);
    expect(d.level).toBeNull();
  });
});
