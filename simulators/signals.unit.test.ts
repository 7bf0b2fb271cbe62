import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Point } from '#libs/contracts/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { signalOf } from './signals.js';

const points = loadRegistry(resolve('config')).allPoints();
const byCode = (code: string): Point => points.find((p) => p.code === code)!;
const T0 = Date.parse('2026-11-30T16:00:00Z'); // midnight in Beijing
const day = (every: number): number[] => Array.from({ length: Math.floor(86_400_000 / every) }, (_, i) => T0 + i * every);

describe('signal models', () => {
  it('are the same for the same seed and differ for another', () => {
    const p = byCode('T101-TE');
    const times = day(600_000);
    expect(times.map(signalOf(p, 7))).toEqual(times.map(signalOf(p, 7)));
    expect(times.map(signalOf(p, 7))).not.toEqual(times.map(signalOf(p, 8)));
  });

  it('keep every demo point of a healthy plant inside its L–H band for a whole day (nothing to alarm on)', () => {
    for (const p of points) {
      const s = signalOf(p, 42);
      for (const t of day(60_000)) {
        const v = s(t);
        if (p.limits.h !== null) expect(v, `${p.code} at ${new Date(t).toISOString()}`).toBeLessThan(p.limits.h);
        if (p.limits.l !== null) expect(v, `${p.code} at ${new Date(t).toISOString()}`).toBeGreaterThan(p.limits.l);
        if (p.range) expect(v).toBeGreaterThanOrEqual(p.range[0]);
      }
    }
  });

  it('warms tanks in the afternoon, fills and drains levels, keeps gas near zero with rare spikes, follows the shift with power', () => {
    const te = signalOf(byCode('T101-TE'), 1);
    expect(te(T0 + 15 * 3_600_000)).toBeGreaterThan(te(T0 + 3 * 3_600_000)); // 15:00 vs 03:00 local
    const lt = signalOf(byCode('T101-LT'), 1);
    const levels = day(600_000).map(lt);
    expect(Math.max(...levels) - Math.min(...levels)).toBeGreaterThan(20);
    const gas = signalOf(byCode('TF1-GAS1'), 1);
    const g = day(1000).map(gas);
    expect(g.filter((v) => v < 1).length / g.length).toBeGreaterThan(0.99);
    expect(g.some((v) => v > 3)).toBe(true); // a spike…
    expect(Math.max(...g)).toBeLessThan(25); // …well below H
    const kw = signalOf(byCode('DC1-KW'), 1);
    expect(kw(T0 + 10 * 3_600_000)).toBeGreaterThan(250); // 10:00 local, day shift
    expect(kw(T0 + 2 * 3_600_000)).toBeLessThan(70); // 02:00 local
    expect(signalOf(byCode('DC1-FAN'), 1)(T0)).toBe(1);
    expect(signalOf(byCode('DC1-SPARK'), 1)(T0)).toBe(0);
  });
});
