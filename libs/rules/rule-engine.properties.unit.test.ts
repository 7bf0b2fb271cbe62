import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConditionChange, Point, Reading } from '#libs/contracts/index.js';
import { aGateway, aPoint, aRuleContext } from '#libs/testing/builders.js';
import { RuleEngine } from './rule-engine.js';

const PERIOD_MS = 10_000;

const pointArb = fc.record({
  deadband: fc.double({ min: 0, max: 3, noNaN: true }),
  onDelayS: fc.constantFrom(0, 0, 10, 30),
  offDelayS: fc.constantFrom(0, 0, 20, 60),
});

function pointOf(s: { deadband: number; onDelayS: number; offDelayS: number }, extra: Parameters<typeof aPoint>[0] = {}): Point {
  return aPoint({ limits: { ll: -10, l: 0, h: 40, hh: 50 }, range: [-40, 150], samplePeriodS: 10, ...s, ...extra });
}

/**
 * Feeds the values as readings 10 s apart, in batches of the given sizes, each arriving at its newest reading's
 * time, or all at `arrivedAt` (then only event time confirms delays: the server clock stands still).
 */
function run(point: Point, values: readonly number[], chunks: readonly number[] = [], tickAfterMs: number | null = null, arrivedAt: number | null = null): ConditionChange[] {
  const engine = new RuleEngine(aRuleContext([point], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), 0);
  const out: ConditionChange[] = [];
  const readings: Reading[] = values.map((value, i) => ({ point, value, ts: (i + 1) * PERIOD_MS, quality: 'good' }));
  let at = 0;
  let c = 0;
  while (at < readings.length) {
    const size = Math.max(1, chunks[c++ % Math.max(chunks.length, 1)] ?? 1);
    const batch = readings.slice(at, at + size);
    at += size;
    engine.readings(batch, arrivedAt ?? batch.at(-1)!.ts, (x) => out.push(x));
  }
  if (tickAfterMs !== null) engine.tick(readings.length * PERIOD_MS + tickAfterMs, (x) => out.push(x));
  return out;
}

const values = fc.array(fc.double({ min: -30, max: 70, noNaN: true }), { minLength: 1, maxLength: 200 });

describe('rule core properties', () => {
  it('raises no limit alarm without a crossing, and clears none without a return past the deadband', () => {
    fc.assert(
      fc.property(pointArb, values, (s, vs) => {
        const p = pointOf(s);
        for (const c of run(p, vs)) {
          if (c.from === c.to || c.value === null || c.threshold === null) continue;
          const up = c.to !== null && (c.from === null || c.to === 'HH' || c.to === 'LL');
          if (c.condition === 'limit_high') expect(up ? c.value >= c.threshold : c.value <= c.threshold - p.deadband).toBe(true);
          if (c.condition === 'limit_low') expect(up ? c.value <= c.threshold : c.value >= c.threshold + p.deadband).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('clears every raised alarm once values return to normal, chattering ones and early warnings included', () => {
    const rules = { rate: { risePerMin: 3, fallPerMin: 3, windowS: 60 }, trend: { horizonS: 300, windowS: 120 }, stuck: { periods: 30, band: 0.01 } };
    fc.assert(
      fc.property(pointArb, values, fc.boolean(), (s, vs, withRules) => {
        const p = pointOf(s, withRules ? { rules } : {});
        // Normal (20 °C, inside every band) for longer than any off-delay and trend window (but fewer readings than
        // a stuck sensor takes), then a clock tick past the chatter window.
        const out = run(p, [...vs, ...Array<number>(20).fill(20)], [], 600_000);
        const last = new Map<string, ConditionChange>();
        for (const c of out) last.set(c.key, c);
        for (const c of last.values()) expect([c.key, c.to]).toEqual([c.key, null]);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same changes for the same readings in any chunking (in event time)', () => {
    const rules = { rate: { risePerMin: 3, fallPerMin: 3, windowS: 60 }, trend: { horizonS: 300, windowS: 120 }, stuck: { periods: 6, band: 0.5 } };
    fc.assert(
      fc.property(pointArb, values, fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (s, vs, chunks) => {
        const p = pointOf(s, { rules });
        const later = (vs.length + 1) * PERIOD_MS;
        expect(run(p, vs, chunks, null, later)).toEqual(run(p, vs, [], null, later));
      }),
      { numRuns: 300 },
    );
  });

  it('never raises twice for noise smaller than the deadband around a limit', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        fc.array(fc.double({ min: -0.49, max: 0.49, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (deadband, noise) => {
          const p = pointOf({ deadband, onDelayS: 0, offDelayS: 0 });
          // Around H (40) from just above it: enters H once and stays within the band below it.
          const out = run(p, [40, ...noise.map((n) => 40 + n * deadband)]);
          expect(out.filter((c) => c.condition === 'limit_high' && c.from === null)).toHaveLength(1);
          expect(out.filter((c) => c.condition === 'limit_high' && c.to === null)).toHaveLength(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
