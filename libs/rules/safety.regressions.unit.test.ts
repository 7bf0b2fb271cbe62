import { describe, expect, it } from 'vitest';
import type { CompositeRule, ConditionChange } from '#libs/contracts/index.js';
import { decodeMessage } from '#libs/decode/index.js';
import { aGateway, aPoint, aReading, aRuleContext } from '#libs/testing/builders.js';
import { boundedByArrival } from './arrival.js';
import { RuleEngine } from './rule-engine.js';

/**
 * Ways an adversarial review found to silence, delay or stick an alarm (docs/safety.md), each as the scenario that
 * showed it, asserting what must happen instead.
 */
const T = 1_700_000_000_000;
const LIMITS = { ll: -10, l: 0, h: 40, hh: 50 };

function screen(): { out: ConditionChange[]; emit: (c: ConditionChange) => void; brief: () => string[] } {
  const out: ConditionChange[] = [];
  return { out, emit: (c) => void out.push(c), brief: () => out.map((c) => `${c.originator.code}:${c.condition}:${c.to ?? '-'}`) };
}

describe('clock lead: a message stamped ahead of its arrival', () => {
  it('keeps every reading of the message (moved back by its point\'s lead), so its last value stands', () => {
    const p = aPoint({ samplePeriodS: 1, limits: LIMITS });
    const lookup = { findPoint: (_e: string, code: string) => (code === p.code ? p : undefined) };
    const payload = Buffer.from(JSON.stringify({ readings: [{ point: p.code, value: 20, ts: T + 1000 }, { point: p.code, value: 60, ts: T + 2000 }] }));
    const d = decodeMessage(`sites/${p.enterpriseCode}/${p.gatewayCode}/telemetry`, payload, T, lookup);
    if (d.kind !== 'telemetry') throw new Error('not telemetry');
    const bounded = boundedByArrival(d.readings, T);
    expect(bounded.map((r) => r.ts)).toEqual([T - 1000, T]);
    const engine = new RuleEngine(aRuleContext([p]), 0);
    const s = screen();
    engine.readings(bounded, T, s.emit, d.clockAheadMs);
    expect(s.out.filter((c) => c.condition === 'limit_high').map((c) => c.to)).toEqual(['HH']);
    // Handed to the engine unbounded, the engine bounds them the same way.
    const alone = new RuleEngine(aRuleContext([p]), 0);
    const s2 = screen();
    alone.readings([aReading(p, 20, T + 500), aReading(p, 60, T + 1500)], T, s2.emit);
    expect(s2.out.filter((c) => c.condition === 'limit_high').map((c) => c.to)).toEqual(['HH']);
  });

  it('one point with a runaway clock moves only its own readings: the other points of the message keep their times and alarm', () => {
    const runaway = aPoint({ code: 'RUNAWAY', samplePeriodS: 10 });
    const a = aPoint({ code: 'A', samplePeriodS: 10, onDelayS: 30, limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([runaway, a], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);
    const s = screen();
    for (let i = 0; i < 180; i++) {
      const at = T + i * 10_000;
      // The runaway point stamps microseconds where milliseconds are due: ever further ahead.
      engine.readings([aReading(runaway, 20, at * 1000), aReading(a, 60, at)], at, s.emit);
      engine.tick(at, s.emit);
    }
    expect(boundedByArrival([aReading(runaway, 1, T * 1000), aReading(a, 1, T)], T).map((r) => r.ts)).toEqual([T, T]);
    expect(s.out.filter((c) => c.condition === 'limit_high').map((c) => `${c.originator.code}:${c.to}`)).toEqual(['A:HH']);
    expect(engine.stats.clockResets).toBe(0);
  });

  it('takes two readings with the same time and different values as new data, a repeated one as a redelivery', () => {
    const p = aPoint({ limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p]), 0);
    const s = screen();
    engine.readings([aReading(p, 20, T)], T, s.emit);
    engine.readings([aReading(p, 60, T)], T, s.emit);
    engine.readings([aReading(p, 60, T)], T, s.emit);
    expect(s.out.map((c) => c.to)).toEqual(['HH']);
    expect(engine.stats.duplicate).toBe(1);
  });
});

describe('late readings and clocks set back', () => {
  it('records an excursion of a replayed buffer that lasted the on-delay, once', () => {
    const p = aPoint({ samplePeriodS: 10, onDelayS: 10, limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), 0);
    const s = screen();
    engine.readings([aReading(p, 20, T)], T, s.emit);
    // The buffer: 230 s of HH, ending 10 s before the live reading, replayed in one message.
    engine.readings(Array.from({ length: 24 }, (_, i) => aReading(p, 60, T - 240_000 + i * 10_000)), T + 1000, s.emit);
    const limit = s.out.filter((c) => c.condition === 'limit_high');
    expect(limit.map((c) => `${c.from ?? '-'}>${c.to ?? '-'}`)).toEqual(['->HH', 'HH>-']);
    expect(limit[0]!.message).toMatch(/late reading of .* shows 60 °C beyond HH 50: momentary excursion/);
  });

  it('resets a point reporting once an hour within a minute of its clock being set back, not two hours', () => {
    const p = aPoint({ samplePeriodS: 3600, limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), 0);
    const s = screen();
    engine.readings([aReading(p, 20, T)], T, s.emit);
    // The gateway's clock is set back 3 h; from then on it reports HH (by exception: once), then stays quiet.
    engine.readings([aReading(p, 60, T + 10_000 - 3 * 3_600_000)], T + 10_000, s.emit);
    for (let t = T + 10_000; t <= T + 75_000; t += 5000) engine.tick(t, s.emit);
    expect(s.out.filter((c) => c.condition === 'limit_high').at(-1)?.to).toBe('HH');
    expect(engine.stats.clockResets).toBe(1);
  });

  it('does not take a replay of a buffer, even at 2.5 times real time, for a clock set back: the live HH stays shown', () => {
    const p = aPoint({ samplePeriodS: 10, limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), 0);
    const s = screen();
    engine.readings([aReading(p, 60, T)], T, s.emit);
    // An hour of normal buffered values replayed at one 10 s sample every second, then at one every 4 s (2.5 times
    // real time), nothing live meanwhile.
    let at = T;
    for (let i = 0; i < 360; i++) {
      at += i < 180 ? 1000 : 4000;
      engine.readings([aReading(p, 20, T - 3_600_000 + i * 10_000)], at, s.emit);
      if (i % 5 === 0) engine.tick(at, s.emit);
    }
    expect(s.out.filter((c) => c.condition === 'limit_high').map((c) => c.to)).toEqual(['HH']);
    expect(engine.stats.clockResets).toBe(0);
  });
});

describe('restart and reload', () => {
  it('a clock_skew alarm restored after a restart does not mark its gateway offline (silence is still detected)', () => {
    const p = aPoint({ samplePeriodS: 10 });
    const gw = aGateway({ reportingPeriodS: 10 });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [gw] }), T);
    engine.restore([{ key: `${gw.enterpriseCode}/gateway:${gw.code}/clock_skew`, level: 'ACTIVE' }]);
    const s = screen();
    engine.tick(T + 60_000, s.emit);
    expect(s.brief()).toContain(`${gw.code}:gateway_offline:ACTIVE`);
  });

  it('a point removed by a reload while its on-delay runs raises nothing afterwards', () => {
    const gone = aPoint({ code: 'GONE', samplePeriodS: 10, onDelayS: 30 });
    const keep = aPoint({ code: 'KEEP', samplePeriodS: 10 });
    const engine = new RuleEngine(aRuleContext([gone, keep], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);
    const s = screen();
    engine.readings([aReading(gone, 60, T)], T, s.emit);
    engine.reload(aRuleContext([keep], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }));
    for (let t = T; t <= T + 600_000; t += 5000) engine.tick(t, s.emit);
    expect(s.out).toEqual([]);
  });

  it('a composite rule removed by a reload while its on-delay runs raises nothing afterwards', () => {
    const a = aPoint({ code: 'A', samplePeriodS: 10 });
    const rule: CompositeRule = { enterpriseCode: a.enterpriseCode, hazardSourceCode: a.hazardSourceCode, name: 'hot', message: 'hot', severity: 'critical', onDelayS: 30, clauses: [{ points: [a], test: { kind: 'above', value: 30 } }] };
    const gateways = [aGateway({ reportingPeriodS: 86_400 })];
    const engine = new RuleEngine(aRuleContext([a], { composites: [rule], gateways }), T);
    const s = screen();
    engine.readings([aReading(a, 35, T)], T, s.emit);
    engine.reload(aRuleContext([a], { composites: [], gateways }));
    for (let t = T; t <= T + 600_000; t += 5000) engine.tick(t, s.emit);
    expect(s.out.filter((c) => c.condition === 'composite')).toEqual([]);
  });
});

describe('composite rules and the clock', () => {
  // The shipped dust rule: water level at L while the fan runs (config/profiles/dust.yaml), with delays.
  const water = aPoint({ code: 'WL', type: 'water_level', samplePeriodS: 10, onDelayS: 10, offDelayS: 10, deadband: 0, range: [0, 10], limits: { ll: 0.2, l: 0.5, h: null, hh: null } });
  const fan = aPoint({ code: 'FAN', type: 'state', samplePeriodS: 10, range: null, limits: { ll: null, l: null, h: null, hh: null } });
  const rule: CompositeRule = {
    enterpriseCode: water.enterpriseCode,
    hazardSourceCode: water.hazardSourceCode,
    name: 'wet-collector-water-low',
    message: 'water low while the fan runs',
    severity: 'critical',
    onDelayS: 10,
    clauses: [
      { points: [water], test: { kind: 'level', level: 'L' } },
      { points: [fan], test: { kind: 'equals', value: 1 } },
    ],
  };
  const engineOf = (): RuleEngine => new RuleEngine(aRuleContext([water, fan], { composites: [rule], gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);

  it('follows a level the clock confirms: water at L reported once, fan running, raises the composite', () => {
    const engine = engineOf();
    const s = screen();
    engine.readings([aReading(fan, 1, T)], T, s.emit);
    engine.readings([aReading(water, 0.4, T + 1000)], T + 1000, s.emit);
    for (let t = T; t <= T + 60_000; t += 5000) engine.tick(t, s.emit);
    expect(s.brief()).toEqual(['WL:limit_low:L', `${water.hazardSourceCode}:composite:ACTIVE`]);
  });

  it('does not raise a pending composite whose clause stopped holding before its on-delay passed', () => {
    const engine = engineOf();
    const s = screen();
    engine.readings([aReading(fan, 1, T), aReading(water, 0.4, T)], T, s.emit);
    engine.tick(T + 10_000, s.emit);
    engine.readings([aReading(fan, 1, T + 11_000)], T + 11_000, s.emit);
    engine.readings([aReading(water, 2, T + 12_000)], T + 12_000, s.emit);
    for (let t = T + 15_000; t <= T + 600_000; t += 5000) engine.tick(t, s.emit);
    const composite = s.out.filter((c) => c.condition === 'composite').map((c) => c.to);
    // Either never raised, or raised and cleared with the level: never left standing.
    expect(composite.at(-1) ?? null).toBeNull();
  });
});

describe('restart: what only the rule core knew', () => {
  it('a point reporting by exception whose on-delay ran at the restart is raised once it has passed again, from its stored reading', () => {
    const p = aPoint({ samplePeriodS: 10, onDelayS: 30, limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);
    engine.restore([]);
    const s = screen();
    engine.seed([aReading(p, 60, T - 20_000)], T, s.emit);
    engine.tick(T + 25_000, s.emit);
    expect(s.out).toEqual([]);
    engine.tick(T + 30_000, s.emit);
    expect(s.brief()).toEqual([`${p.code}:limit_high:HH`]);
  });

  it('a composite clause reads the last stored value of a point that reported before the restart', () => {
    const fan = aPoint({ code: 'FAN', type: 'state', range: null, limits: { ll: null, l: null, h: null, hh: null } });
    const spark = aPoint({ code: 'SPARK', type: 'spark', range: null, limits: { ll: null, l: null, h: null, hh: 1 } });
    const rule: CompositeRule = { enterpriseCode: fan.enterpriseCode, hazardSourceCode: fan.hazardSourceCode, name: 'spark-while-running', message: 'spark while the fan runs', severity: 'critical', onDelayS: 0, clauses: [{ points: [fan], test: { kind: 'equals', value: 1 } }, { points: [spark], test: { kind: 'above', value: 0 } }] };
    const engine = new RuleEngine(aRuleContext([fan, spark], { composites: [rule], gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);
    const s = screen();
    engine.seed([aReading(fan, 1, T - 3_600_000), aReading(spark, 0, T - 60_000)], T, s.emit);
    engine.readings([aReading(spark, 3, T + 1000)], T + 1000, s.emit);
    expect(s.brief()).toContain(`${fan.hazardSourceCode}:composite:ACTIVE`);
  });

  it('a seeded reading older than a live one already taken changes nothing', () => {
    const p = aPoint({ limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);
    const s = screen();
    engine.readings([aReading(p, 20, T)], T, s.emit);
    engine.seed([aReading(p, 60, T - 5000)], T + 10, s.emit);
    expect(s.out).toEqual([]);
  });

  it('a stored reading never clears or lowers an active alarm (it may be stale: a clock set back, an outage buffer)', () => {
    const p = aPoint({ limits: LIMITS });
    const engine = new RuleEngine(aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: 86_400 })] }), T);
    engine.restore([{ key: `${p.enterpriseCode}/point:${p.code}/limit_high`, level: 'HH' }]);
    const s = screen();
    // Newest by its own time, yet stale: from before the gateway's clock was set back.
    engine.seed([aReading(p, 20, T + 3_600_000)], T + 3_600_000, s.emit);
    expect(s.out).toEqual([]);
    // A live normal reading still clears it.
    engine.readings([aReading(p, 20, T + 3_601_000)], T + 3_601_000, s.emit);
    expect(s.brief()).toEqual([`${p.code}:limit_high:-`]);
  });
});
