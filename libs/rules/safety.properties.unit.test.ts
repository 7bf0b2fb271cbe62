import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConditionChange, ConditionLevel, Point } from '#libs/contracts/index.js';
import { aGateway, aPoint, aReading, aRuleContext } from '#libs/testing/builders.js';
import { RuleEngine, type EngineOptions } from './rule-engine.js';

/**
 * The safety promises of the rule core (docs/safety.md), as properties over random inputs: whatever the flapping,
 * the clocks or the gaps, a sustained excursion ends up active at its true level within a bound.
 */

const PERIOD_S = 10;
const TICK_MS = 5_000;
const HH = 50;

/** The level each condition key stands at on the operators' screen: the `to` of its latest change. */
class Screen {
  readonly shown = new Map<string, ConditionLevel | null>();
  readonly out: ConditionChange[] = [];
  readonly emit = (c: ConditionChange): void => {
    this.out.push(c);
    this.shown.set(c.key, c.to);
  };
  level(p: Point, condition: 'limit_high' | 'limit_low' = 'limit_high'): ConditionLevel | null {
    return this.shown.get(`${p.enterpriseCode}/point:${p.code}/${condition}`) ?? null;
  }
}

function engineFor(p: Point, options: Partial<EngineOptions> = {}): RuleEngine {
  return new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: PERIOD_S })] }), 0, options);
}

const delays = fc.record({ onDelayS: fc.constantFrom(0, 10, 30, 60), offDelayS: fc.constantFrom(0, 20, 60), deadband: fc.constantFrom(0, 0.5, 2) });

describe('safety: no suppression of a rise', () => {
  it('a sustained HH is shown as HH within its on-delay plus one tick, after any flapping (chatter and flood on)', () => {
    fc.assert(
      fc.property(delays, fc.array(fc.constantFrom(20, 39, 41, 45, 49, 51, 60), { minLength: 0, maxLength: 120 }), fc.integer({ min: 1, max: 9 }), (d, flapping, everyS) => {
        const p = aPoint({ ...d, samplePeriodS: PERIOD_S, limits: { ll: -10, l: 0, h: 40, hh: HH } });
        const engine = engineFor(p);
        const screen = new Screen();
        let now = 1_000_000;
        let nextTick = now;
        const step = (value: number): void => {
          now += everyS * 1000;
          while (nextTick <= now) {
            engine.tick(nextTick, screen.emit);
            nextTick += TICK_MS;
          }
          engine.readings([aReading(p, value, now)], now, screen.emit);
        };
        for (const v of flapping) step(v);
        const start = now + everyS * 1000;
        const bound = start + d.onDelayS * 1000 + TICK_MS;
        while (now < bound + everyS * 1000) step(55);
        expect(screen.level(p)).toBe('HH');
        // Never lowered again while the value stayed above HH.
        const afterStart = screen.out.filter((c) => c.key.endsWith('limit_high') && c.ts >= start + d.onDelayS * 1000 + TICK_MS + everyS * 1000);
        for (const c of afterStart) expect(c.to).toBe('HH');
      }),
      { numRuns: 300 },
    );
  });

  it('a rise from H to HH of a chattering condition goes out at once, still marked chattering', () => {
    const p = aPoint({ samplePeriodS: PERIOD_S, limits: { ll: -10, l: 0, h: 40, hh: HH }, deadband: 0 });
    const engine = engineFor(p);
    const screen = new Screen();
    let t = 1_000_000;
    for (let i = 0; i < 8; i++) engine.readings([aReading(p, i % 2 === 0 ? 45 : 30, (t += 1000))], t, screen.emit);
    expect(screen.out.some((c) => c.chattering)).toBe(true);
    const before = screen.out.length;
    engine.readings([aReading(p, 58, (t += 1000))], t, screen.emit);
    expect(screen.out.slice(before)).toMatchObject([{ condition: 'limit_high', to: 'HH', severity: 'critical', chattering: true }]);
    expect(screen.level(p)).toBe('HH');
  });
});

describe('safety: time', () => {
  it('a reading stamped in the future does not move the point clock: later real readings are evaluated', () => {
    const p = aPoint({ samplePeriodS: PERIOD_S, onDelayS: 10, limits: { ll: -10, l: 0, h: 40, hh: HH } });
    const engine = engineFor(p);
    const screen = new Screen();
    const t0 = 1_000_000;
    engine.readings([aReading(p, 20, t0 + 4 * 60_000)], t0, screen.emit);
    for (let s = 10; s <= 240; s += 10) engine.readings([aReading(p, 55, t0 + s * 1000)], t0 + s * 1000, screen.emit);
    expect(screen.level(p)).toBe('HH');
    expect(screen.out.find((c) => c.condition === 'clock_skew')).toMatchObject({ to: 'ACTIVE', originator: { kind: 'gateway' } });
  });

  it('a gateway clock hours behind raises clock_skew once it has stayed behind for the confirmation time, and clears when corrected', () => {
    const p = aPoint({ samplePeriodS: PERIOD_S });
    const engine = engineFor(p);
    const screen = new Screen();
    const skew = (): ConditionChange[] => screen.out.filter((c) => c.condition === 'clock_skew');
    let server = 100_000_000;
    for (let s = 0; s < 290; s += 10) engine.readings([aReading(p, 20, (server += 10_000) - 8 * 3_600_000)], server, screen.emit);
    expect(skew()).toEqual([]);
    for (let s = 0; s < 30; s += 10) engine.readings([aReading(p, 20, (server += 10_000) - 8 * 3_600_000)], server, screen.emit);
    expect(skew()).toMatchObject([{ to: 'ACTIVE', severity: 'minor', originator: { kind: 'gateway', code: 'GW01' } }]);
    expect(skew()[0]!.message).toMatch(/28800 s behind the server/);
    engine.readings([aReading(p, 20, (server += 10_000))], server, screen.emit);
    expect(skew().map((c) => c.to)).toEqual(['ACTIVE', null]);
  });

  it('chatter of a gateway hours behind is still detected and held on the server clock', () => {
    const p = aPoint({ samplePeriodS: PERIOD_S, limits: { ll: -10, l: 0, h: 40, hh: HH }, deadband: 0 });
    const engine = engineFor(p);
    const screen = new Screen();
    const behind = 8 * 3_600_000;
    let server = 100_000_000;
    for (let i = 0; i < 40; i++) {
      server += 5_000;
      engine.readings([aReading(p, i % 2 === 0 ? 45 : 30, server - behind)], server, screen.emit);
      engine.tick(server, screen.emit);
    }
    const limitChanges = screen.out.filter((c) => c.condition === 'limit_high');
    // Six transitions make it chatter; afterwards nothing is released while it keeps flapping.
    expect(limitChanges.length).toBeLessThanOrEqual(6);
    expect(limitChanges.at(-1)).toMatchObject({ chattering: true, to: 'H' });
    expect(engine.chatteringKeys()).toHaveLength(1);
  });

  it('an on-delay is confirmed by the clock when a gateway reports by exception (one HH value, then silence)', () => {
    const p = aPoint({ samplePeriodS: PERIOD_S, onDelayS: 30, limits: { ll: -10, l: 0, h: 40, hh: HH } });
    const engine = engineFor(p);
    const screen = new Screen();
    engine.readings([aReading(p, 60, 1_000_000)], 1_000_000, screen.emit);
    engine.tick(1_025_000, screen.emit);
    expect(screen.level(p)).toBeNull();
    engine.tick(1_030_000, screen.emit);
    expect(screen.level(p)).toBe('HH');
  });

  it('for any interleaving of gateway and server clock jumps, a sustained HH is raised within a bounded time', () => {
    const jump = fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 });
    const event = fc.oneof(
      fc.record({ kind: fc.constant('reading' as const), value: fc.constantFrom(20, 45, 55, 60) }),
      fc.record({ kind: fc.constant('gatewayJump' as const), by: jump }),
      fc.record({ kind: fc.constant('serverJump' as const), by: fc.integer({ min: -600_000, max: 600_000 }) }),
      fc.record({ kind: fc.constant('silence' as const), s: fc.integer({ min: 1, max: 120 }) }),
    );
    fc.assert(
      fc.property(delays, fc.array(event, { maxLength: 80 }), jump, (d, events, finalOffset) => {
        const p = aPoint({ ...d, samplePeriodS: PERIOD_S, limits: { ll: -10, l: 0, h: 40, hh: HH } });
        const engine = engineFor(p);
        const screen = new Screen();
        let server = 10_000_000_000;
        let offset = 0;
        let nextTick = server;
        const advance = (ms: number): void => {
          const target = server + ms;
          while (nextTick <= target) {
            engine.tick(nextTick, screen.emit);
            nextTick += TICK_MS;
          }
          server = target;
        };
        const read = (value: number): void => {
          advance(PERIOD_S * 1000);
          engine.readings([aReading(p, value, server + offset)], server, screen.emit);
        };
        for (const e of events) {
          if (e.kind === 'reading') read(e.value);
          else if (e.kind === 'gatewayJump') offset += e.by;
          else if (e.kind === 'silence') advance(e.s * 1000);
          else {
            server += e.by;
            nextTick = server;
          }
        }
        offset += finalOffset;
        // The bound: a clock reset (two sample periods), the on-delay, one tick and one period to be seen.
        const boundMs = 2 * PERIOD_S * 1000 + d.onDelayS * 1000 + TICK_MS + PERIOD_S * 1000;
        const end = server + boundMs + PERIOD_S * 1000;
        while (server < end) read(60);
        expect(screen.level(p)).toBe('HH');
      }),
      { numRuns: 400 },
    );
  });
});

describe('safety: fault containment', () => {
  it('a rule that throws on one point leaves the alarms of every other point working, and flags the broken one', () => {
    const good = aPoint({ code: 'GOOD', samplePeriodS: PERIOD_S });
    const broken = aPoint({ code: 'BROKEN', samplePeriodS: PERIOD_S });
    Object.defineProperty(broken, 'limits', {
      get(): never {
        throw new Error('injected fault');
      },
    });
    const engine = new RuleEngine(aRuleContext([broken, good]), 0);
    const faults: unknown[] = [];
    engine.onFault = (f) => faults.push(f.error);
    const screen = new Screen();
    engine.readings([aReading(broken, 60, 1000), aReading(good, 60, 1000)], 1000, screen.emit);
    expect(screen.level(good)).toBe('HH');
    expect(faults).toHaveLength(1);
    expect(screen.out.find((c) => c.condition === 'evaluation_error')).toMatchObject({ originator: { code: 'BROKEN' }, to: 'ACTIVE', severity: 'major' });
    engine.readings([aReading(good, 20, 2000)], 2000, screen.emit);
    expect(screen.level(good)).toBeNull();
  });

  it('a clock check that throws on one point does not stop the checks of the others', () => {
    const broken = aPoint({ code: 'BROKEN', samplePeriodS: PERIOD_S, rules: { noDataPeriods: 3 } });
    const good = aPoint({ code: 'GOOD', samplePeriodS: PERIOD_S, rules: { noDataPeriods: 3 } });
    const engine = new RuleEngine(aRuleContext([broken, good], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), 0);
    let armed = true;
    const rules = broken.rules;
    Object.defineProperty(broken, 'rules', {
      get() {
        if (armed) throw new Error('injected fault');
        return rules;
      },
    });
    const faults: unknown[] = [];
    engine.onFault = (f) => faults.push(f.error);
    const screen = new Screen();
    engine.tick(1_000_000, screen.emit);
    expect(faults).toHaveLength(1);
    expect(screen.out.map((c) => `${c.originator.code}:${c.condition}`)).toEqual(['GOOD:no_data']);
    armed = false;
    engine.tick(1_005_000, screen.emit);
    expect(screen.out.map((c) => `${c.originator.code}:${c.condition}`)).toEqual(['GOOD:no_data', 'BROKEN:no_data']);
  });
});
