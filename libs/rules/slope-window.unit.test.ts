import { describe, expect, it } from 'vitest';
import { SlopeWindow } from './slope-window.js';

describe('SlopeWindow', () => {
  it('fits the slope of a straight line exactly, whatever the sample rate', () => {
    for (const stepMs of [1000, 5000, 100]) {
      const w = new SlopeWindow(60_000);
      for (let t = 0; t <= 120_000; t += stepMs) w.add(t, 20 + t / 30_000);
      const trend = w.trend()!;
      expect(trend.slope * 60_000).toBeCloseTo(2, 6);
      expect(trend.fitted).toBeCloseTo(24, 6);
    }
  });

  it('needs three samples spanning half the window', () => {
    const w = new SlopeWindow(60_000);
    w.add(0, 1);
    w.add(10_000, 2);
    expect(w.trend()).toBeNull();
    w.add(20_000, 3);
    expect(w.trend()).toBeNull();
    w.add(30_000, 4);
    expect(w.trend()!.slope * 60_000).toBeCloseTo(6, 6);
  });

  it('forgets samples older than the window', () => {
    const w = new SlopeWindow(60_000);
    for (let t = 0; t <= 60_000; t += 5000) w.add(t, t / 1000);
    for (let t = 65_000; t <= 180_000; t += 5000) w.add(t, 60);
    expect(w.trend()!.slope).toBe(0);
  });
});
