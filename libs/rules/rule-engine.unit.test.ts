import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { CompositeRule, ConditionChange, ElectricitySetting, Point, ReadingBatch, RuleContext, VotingGroup } from '#libs/contracts/index.js';
import { aGateway, aPoint, aReading, aRuleContext as contextWithGateways } from '#libs/testing/builders.js';
import { RuleEngine } from './rule-engine.js';
import { evaluateRules, type RuleInput } from './rules.operator.js';

const E = '91320594MA1WKTRP3E';
const point = aPoint({ limits: { ll: -10, l: 0, h: 40, hh: 50 }, deadband: 1 });

/** `condition:from>to@ts` (levels `-` for none), compact enough to compare whole runs. */
function brief(c: ConditionChange): string {
  return `${c.condition}${c.name ? `:${c.name}` : ''}:${c.from ?? '-'}>${c.to ?? '-'}@${c.ts}${c.chattering ? '!' : ''}${c.floodKey ? '~' : ''}`;
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A context whose gateways report rarely, so their silence does not show in tests about other rules. */
function aRuleContext(points: readonly Point[], extra: Partial<RuleContext> = {}): RuleContext {
  return contextWithGateways(points, { gateways: [aGateway({ reportingPeriodS: 86_400 })], ...extra });
}

const readings = (batch: ReadingBatch): RuleInput => ({ kind: 'readings', batch });

/** Feeds batches straight into an engine (time = each batch's newest ts) and collects what comes out. */
class Harness {
  readonly out: ConditionChange[] = [];
  readonly engine: RuleEngine;
  constructor(ctx: RuleContext, start = 0, options: ConstructorParameters<typeof RuleEngine>[2] = {}) {
    this.engine = new RuleEngine(ctx, start, options);
  }
  feed(p: Point, ...pairs: [number, number][]): this {
    for (const [ts, v] of pairs) this.engine.readings([aReading(p, v, ts)], ts, (c) => this.out.push(c));
    return this;
  }
  batch(batch: ReadingBatch, at: number): this {
    this.engine.readings(batch, at, (c) => this.out.push(c));
    return this;
  }
  tick(now: number): this {
    this.engine.tick(now, (c) => this.out.push(c));
    return this;
  }
  get briefs(): string[] {
    return this.out.map(brief);
  }
}

describe('limit alarms (marble, virtual time)', () => {
  it('raises, escalates in place, de-escalates and clears one alarm per side', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const v = (value: number, ts: number): RuleInput => readings([aReading(point, value, ts)]);
      const input = cold('a-b-c-d-e-f|', { a: v(20, 0), b: v(41, 2), c: v(55, 4), d: v(49.5, 6), e: v(45, 8), f: v(38.9, 10) });
      const engine = new RuleEngine(aRuleContext([point]), 0);
      expectObservable(input.pipe(evaluateRules(engine, { tickMs: 1000 }), map(brief))).toBe('--b-c---e-f|', {
        b: 'limit_high:->H@2',
        c: 'limit_high:H>HH@4',
        e: 'limit_high:HH>H@8',
        f: 'limit_high:H>-@10',
      });
    });
  });

  it('waits out the on-delay in event time and the off-delay before clearing', () => {
    const delayed = aPoint({ onDelayS: 30, offDelayS: 60, samplePeriodS: 10 });
    scheduler().run(({ cold, expectObservable }) => {
      const v = (value: number, ts: number): RuleInput => readings([aReading(delayed, value, ts)]);
      // 10 s samples: above H at 0..20 s (not long enough), back at 30 s; above again from 40 s, raised at 70 s.
      const values = [45, 45, 45, 30, 45, 45, 45, 45, 30, 30, 30, 30, 30, 30, 30];
      const frames = values.map((_, i) => String.fromCharCode(97 + i)).join(' 9999ms ');
      const input = cold(`${frames}|`, Object.fromEntries(values.map((x, i) => [String.fromCharCode(97 + i), v(x, i * 10_000)])));
      const engine = new RuleEngine(aRuleContext([delayed]), 0);
      // Raised at h (70 s); below from i (80 s), cleared 60 s later at o (140 s).
      expectObservable(input.pipe(evaluateRules(engine, { tickMs: 3_600_000 }), map(brief))).toBe('70s h 69999ms o|', {
        h: 'limit_high:->H@70000',
        o: 'limit_high:H>-@140000',
      });
    });
  });

  it('raises once for a value hovering at the limit within the deadband', () => {
    const h = new Harness(aRuleContext([point]));
    h.feed(point, [1, 40.2], [2, 39.4], [3, 40.1], [4, 39.2], [5, 40.6], [6, 38.5]);
    expect(h.briefs).toEqual(['limit_high:->H@1', 'limit_high:H>-@6']);
  });

  it('evaluates the low side independently, with messages naming value and limit', () => {
    const h = new Harness(aRuleContext([point]));
    h.feed(point, [1, -1], [2, -12], [3, 5]);
    expect(h.briefs).toEqual(['limit_low:->L@1', 'limit_low:L>LL@2', 'limit_low:LL>-@3']);
    expect(h.out[1]).toMatchObject({ severity: 'critical', threshold: -10, value: -12, message: 'T-101 temperature: -12 °C ≤ LL -10 °C', key: `${E}/point:T101-TE/limit_low` });
  });
});

describe('sensor health', () => {
  it('bad quality and NaN raise a sensor fault of their own and hold the limit level', () => {
    const h = new Harness(aRuleContext([point]));
    h.feed(point, [1, 45]);
    h.batch([aReading(point, 99, 2, 'bad')], 2).batch([aReading(point, Number.NaN, 3)], 3);
    h.feed(point, [4, 45], [5, 20]);
    expect(h.briefs).toEqual(['limit_high:->H@1', 'bad_quality:->ACTIVE@2', 'bad_quality:ACTIVE>-@4', 'limit_high:H>-@5']);
  });

  it('a value outside the measuring range is a sensor fault, never a process alarm', () => {
    const h = new Harness(aRuleContext([point]));
    // -50 is below LL, but also below the range [-40, 150]: a broken 4-20 mA loop, not a cold tank.
    h.feed(point, [1, -50], [2, 20], [3, 151]);
    expect(h.briefs).toEqual(['out_of_range:->ACTIVE@1', 'out_of_range:ACTIVE>-@2', 'out_of_range:->ACTIVE@3']);
    expect(h.out[0]!.message).toContain('outside the measuring range [-40, 150]');
  });

  it('a stuck value is flagged after N readings within the band and cleared when it moves', () => {
    const p = aPoint({ rules: { stuck: { periods: 5, band: 0.05 } } });
    const h = new Harness(aRuleContext([p]));
    h.feed(p, [1, 20], [2, 20.01], [3, 19.99], [4, 20.02], [5, 20]);
    h.feed(p, [6, 20.5]);
    expect(h.briefs).toEqual(['sensor_stuck:->ACTIVE@5', 'sensor_stuck:ACTIVE>-@6']);
  });

  it('data interruption: no reading for N sample periods, on the clock (marble)', () => {
    const p = aPoint({ samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a 49999ms b 4999ms |', { a: readings([aReading(p, 20, 0)]), b: readings([aReading(p, 21, 50_000)]) });
      const engine = new RuleEngine(aRuleContext([p]), 0);
      // Silent after 0 ms; the 5 s clock sees > 30 s at 35 s; data again at 50 s.
      expectObservable(input.pipe(evaluateRules(engine, { tickMs: 5000 }), map(brief))).toBe('35s a 14999ms b 4999ms |', {
        a: 'no_data:->ACTIVE@35000',
        b: 'no_data:ACTIVE>-@50000',
      });
    });
  });

  it('gateway silence on the clock, and its status messages, through the operator (marble)', () => {
    const p = aPoint({ samplePeriodS: 10 });
    scheduler().run(({ cold, expectObservable }) => {
      const status = (state: 'online' | 'offline'): RuleInput => ({ kind: 'gateway', enterpriseCode: E, gatewayCode: 'GW01', state });
      // Reporting period 10 s: silent from 0, offline seen by the 10 s clock at 40 s (> 30 s); a reading at 45 s
      // clears it; the last will ("offline") at 50 s raises it again, "online" at 60 s clears it.
      const input = cold('a 44999ms b 4999ms c 9999ms d 999ms |', { a: readings([aReading(p, 20, 0)]), b: readings([aReading(p, 20, 45_000)]), c: status('offline'), d: status('online') });
      const engine = new RuleEngine(contextWithGateways([p]), 0);
      expectObservable(input.pipe(evaluateRules(engine, { tickMs: 10_000 }), map(brief))).toBe('40s a 4999ms b 4999ms c 9999ms d 999ms |', {
        a: 'gateway_offline:->ACTIVE@40000',
        b: 'gateway_offline:ACTIVE>-@45000',
        c: 'gateway_offline:->ACTIVE@50000',
        d: 'gateway_offline:ACTIVE>-@60000',
      });
    });
  });

  it('gateway offline by status topic or by silence, and its points not flooded with data interruptions', () => {
    const p = aPoint({ samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    const q = aPoint({ code: 'T101-PT', samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    const ctx = contextWithGateways([p, q]);
    const h = new Harness(ctx);
    h.feed(p, [0, 20]).feed(q, [0, 5]);
    h.engine.gatewayStatus(E, 'GW01', 'offline', 1000, (c) => h.out.push(c));
    h.tick(60_000);
    // Back online at 61 s: its points get their periods again before they count as silent (one outage, one alarm)…
    h.engine.gatewayStatus(E, 'GW01', 'online', 61_000, (c) => h.out.push(c));
    h.tick(65_000);
    for (let t = 70_000; t <= 90_000; t += 10_000) h.feed(q, [t, 5]);
    // …but a point still silent three periods after the gateway's return is raised.
    h.tick(95_000);
    h.feed(q, [100_000, 5]);
    h.tick(140_000);
    expect(h.briefs).toEqual(['gateway_offline:->ACTIVE@1000', 'gateway_offline:ACTIVE>-@61000', 'no_data:->ACTIVE@95000', 'gateway_offline:->ACTIVE@140000']);
    expect(h.out[2]!.originator.code).toBe(p.code);
    expect(h.out[3]!.message).toMatch(/no message from the gateway for 40 s \(3 reporting periods of 10 s\)/);
    expect(h.out[0]!.originator).toEqual({ kind: 'gateway', enterpriseCode: E, code: 'GW01', hazardSourceCode: null, gatewayCode: 'GW01' });
  });

  it('a gateway back online after an outage raises no data interruption for points that report within their periods', () => {
    const points = ['A', 'B', 'C'].map((code) => aPoint({ code, samplePeriodS: 10, rules: { noDataPeriods: 3 } }));
    const h = new Harness(contextWithGateways(points));
    for (const p of points) h.feed(p, [0, 20]);
    h.engine.gatewayStatus(E, 'GW01', 'offline', 1000, (c) => h.out.push(c));
    for (let t = 5000; t <= 600_000; t += 5000) h.tick(t);
    // The gateway's `online` comes first; its first telemetry one period later, after a clock tick.
    h.engine.gatewayStatus(E, 'GW01', 'online', 601_000, (c) => h.out.push(c));
    h.tick(605_000);
    for (const p of points) h.feed(p, [611_000, 20]);
    h.tick(615_000);
    expect(h.briefs).toEqual(['gateway_offline:->ACTIVE@1000', 'gateway_offline:ACTIVE>-@601000']);
  });
});

describe('data interruption behind a gateway that comes back (regressions found by review)', () => {
  it('a flapping link (offline and back every 170 s, too slow to chatter) does not hide a point that died: it is raised', () => {
    const dead = aPoint({ code: 'DEAD', samplePeriodS: 60, rules: { noDataPeriods: 3 } });
    const alive = aPoint({ code: 'ALIVE', samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    const h = new Harness(contextWithGateways([dead, alive]));
    h.feed(dead, [0, 20]);
    for (let t = 1000; t <= 3_600_000; t += 1000) {
      if (t % 10_000 === 0) h.feed(alive, [t, 20]);
      if (t % 170_000 === 0) h.engine.gatewayStatus(E, 'GW01', 'offline', t, (c) => h.out.push(c));
      if (t % 170_000 === 2000) h.engine.gatewayStatus(E, 'GW01', 'online', t, (c) => h.out.push(c));
      if (t % 5000 === 0) h.tick(t);
    }
    const raised = h.out.find((c) => c.condition === 'no_data' && c.to === 'ACTIVE');
    expect(raised?.originator.code).toBe('DEAD');
    // Silent 180 s at 180 s; the outage at 170 s gave it one grace (it was fresh then), the next one none.
    expect(raised!.ts).toBeLessThanOrEqual(360_000);
  });

  it('a gateway offline across a restart gets the grace on its return too', () => {
    const points = ['A', 'B', 'C'].map((code) => aPoint({ code, samplePeriodS: 10, rules: { noDataPeriods: 3 } }));
    const T = 1_000_000;
    const h = new Harness(contextWithGateways(points), T);
    h.engine.restore([{ key: `${E}/gateway:GW01/gateway_offline`, level: 'ACTIVE' }]);
    for (let t = T + 5000; t <= T + 600_000; t += 5000) h.tick(t);
    h.engine.gatewayStatus(E, 'GW01', 'online', T + 601_000, (c) => h.out.push(c));
    h.tick(T + 605_000);
    for (const p of points) h.feed(p, [T + 611_000, 20]);
    h.tick(T + 615_000);
    expect(h.briefs).toEqual([`gateway_offline:ACTIVE>-@${T + 601_000}`]);
  });

  it('a gateway resending its last sample (the same reading again) does not keep a dead point out of no_data', () => {
    const p = aPoint({ code: 'DEAD', samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    const h = new Harness(contextWithGateways([p]));
    h.feed(p, [0, 20]);
    for (let t = 5000; t <= 60_000; t += 5000) {
      if (t % 10_000 === 0) h.engine.readings([aReading(p, 20, 0)], t, (c) => h.out.push(c));
      h.tick(t);
    }
    expect(h.briefs).toEqual(['no_data:->ACTIVE@35000']);
    expect(h.engine.stats.duplicate).toBe(6);
  });

  it('a server clock stepped back before the first input does not time silences from the future', () => {
    const dead = aPoint({ code: 'DEAD', samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    const alive = aPoint({ code: 'ALIVE', samplePeriodS: 10, rules: { noDataPeriods: 3 } });
    const T = 10_000_000;
    const back = 3_600_000;
    const h = new Harness(contextWithGateways([dead, alive]), T);
    for (let real = 5000; real <= 60_000; real += 5000) {
      h.feed(alive, [T - back + real, 20]);
      h.tick(T - back + real);
    }
    const raised = h.out.find((c) => c.condition === 'no_data');
    expect(raised?.originator.code).toBe('DEAD');
  });

  it('a registry reload just after the gateway came back keeps the grace: no no_data for points about to report', () => {
    const points = ['A', 'B', 'C'].map((code) => aPoint({ code, samplePeriodS: 10, rules: { noDataPeriods: 3 } }));
    const ctx = contextWithGateways(points);
    const h = new Harness(ctx);
    for (const p of points) h.feed(p, [0, 20]);
    h.engine.gatewayStatus(E, 'GW01', 'offline', 1000, (c) => h.out.push(c));
    for (let t = 5000; t <= 600_000; t += 5000) h.tick(t);
    h.engine.gatewayStatus(E, 'GW01', 'online', 601_000, (c) => h.out.push(c));
    h.engine.reload({ ...ctx });
    h.tick(605_000);
    for (const p of points) h.feed(p, [611_000, 20]);
    h.tick(615_000);
    expect(h.out.filter((c) => c.condition === 'no_data')).toEqual([]);
  });
});

describe('rate of change and predicted time to limit', () => {
  it('warns on a fast rise, with hysteresis, and predicts reaching HH before it happens', () => {
    const p = aPoint({ samplePeriodS: 10, rules: { rate: { risePerMin: 2, fallPerMin: null, windowS: 60 }, trend: { horizonS: 600, windowS: 120 } } });
    const h = new Harness(aRuleContext([p]));
    // Flat at 20 °C, then rising 3 °C/min from 300 s, reaching H at 700 s and HH at 900 s.
    for (let t = 0; t <= 300_000; t += 10_000) h.feed(p, [t, 20]);
    for (let t = 310_000; t <= 900_000; t += 10_000) h.feed(p, [t, 20 + ((t - 300_000) / 60_000) * 3]);
    const briefs = h.briefs;
    // The 60 s rate sees 2.1 °C/min at 340 s; the 120 s trend predicts HH within 10 min at 400 s, 5 min before H.
    expect(briefs.slice(0, 2)).toEqual(['rate_of_change:->ACTIVE@340000', 'trend_to_limit:->ACTIVE@400000']);
    expect(h.out[0]!.message).toBe('T-101 temperature: rising 2.143 °C/min over 60 s (limit 2 °C/min)');
    expect(h.out[1]!.message).toMatch(/^T-101 temperature: rising 2\.\d+ °C\/min, reaches HH 50 °C in about (9|10) min$/);
    // H at 40 °C (300 + 400 s) and HH at 50 °C (900 s): the trend warning gives way to the HH alarm.
    expect(briefs).toContain('limit_high:->H@700000');
    expect(briefs).toContain('limit_high:H>HH@900000');
    expect(briefs).toContain('trend_to_limit:ACTIVE>-@900000');
    expect(h.out.find((c) => c.condition === 'trend_to_limit' && c.to === null)!.message).toBe('T-101 temperature: superseded by the HH alarm');
  });

  it('does not warn on noise without a trend', () => {
    const p = aPoint({ rules: { rate: { risePerMin: 2, fallPerMin: 2, windowS: 60 }, trend: { horizonS: 600, windowS: 120 } } });
    const h = new Harness(aRuleContext([p]));
    for (let t = 0; t <= 3_600_000; t += 10_000) h.feed(p, [t, 20 + ((t / 10_000) % 2 === 0 ? 0.3 : -0.3)]);
    expect(h.briefs).toEqual([]);
  });
});

describe('k-of-n voting', () => {
  it('raises the area alarm when 2 of 3 detectors stand at H, and clears it when one drops', () => {
    const gas = ['G1', 'G2', 'G3'].map((code) => aPoint({ code, type: 'combustible_gas', unit: '%LEL', range: [0, 100], limits: { ll: null, l: null, h: 25, hh: 50 }, deadband: 2 }));
    const group: VotingGroup = { enterpriseCode: E, code: 'AREA-1', name: '罐区 tank farm', hazardSourceCode: 'TF-1', points: gas, k: 2, level: 'H', severity: 'critical' };
    const h = new Harness(aRuleContext(gas, { votingGroups: [group] }));
    h.feed(gas[0]!, [1, 30]);
    h.feed(gas[1]!, [2, 55]);
    h.feed(gas[2]!, [3, 10]);
    h.feed(gas[0]!, [4, 5]);
    expect(h.briefs.filter((b) => b.startsWith('vote'))).toEqual(['vote:->ACTIVE@2', 'vote:ACTIVE>-@4']);
    const raise = h.out.find((c) => c.condition === 'vote')!;
    expect(raise).toMatchObject({ key: `${E}/area:AREA-1/vote`, severity: 'critical', value: 2, threshold: 2 });
    expect(raise.message).toBe('罐区 tank farm: 2 of 3 detectors at H or above (G1, G2); 2 of 3 voting');
  });
});

describe('composite rules', () => {
  const spark = aPoint({ code: 'SPARK', type: 'spark', unit: 'count', range: [0, 1000], limits: { ll: null, l: null, h: null, hh: null }, hazardSourceCode: 'DC-1', samplePeriodS: 10, rules: { noDataPeriods: 3 } });
  const fan = aPoint({ code: 'FAN', type: 'state', unit: 'on/off', range: [0, 1], limits: { ll: null, l: null, h: null, hh: null }, hazardSourceCode: 'DC-1', role: 'fan' });
  const rule: CompositeRule = {
    enterpriseCode: E,
    hazardSourceCode: 'DC-1',
    name: 'spark-while-running',
    message: '火花探测 spark detected while the collector runs',
    severity: 'critical',
    onDelayS: 0,
    clauses: [
      { points: [spark], test: { kind: 'above', value: 0 } },
      { points: [fan], test: { kind: 'equals', value: 1 } },
    ],
  };

  it('is active while every clause holds, and only then', () => {
    const h = new Harness(aRuleContext([spark, fan], { composites: [rule] }));
    h.feed(spark, [1, 2]);
    h.feed(fan, [2, 1]);
    h.feed(spark, [3, 0]);
    h.feed(spark, [4, 1]);
    h.feed(fan, [5, 0]);
    expect(h.briefs).toEqual([
      'composite:spark-while-running:->ACTIVE@2',
      'composite:spark-while-running:ACTIVE>-@3',
      'composite:spark-while-running:->ACTIVE@4',
      'composite:spark-while-running:ACTIVE>-@5',
    ]);
    expect(h.out[0]).toMatchObject({ key: `${E}/hazard_source:DC-1/composite:spark-while-running`, message: rule.message });
  });

  it('a clause on an interrupted point does not hold', () => {
    const h = new Harness(aRuleContext([spark, fan], { composites: [rule] }));
    h.feed(fan, [0, 1]).feed(spark, [1, 3]);
    h.tick(40_000);
    expect(h.briefs).toEqual(['composite:spark-while-running:->ACTIVE@1', 'no_data:->ACTIVE@40000', 'composite:spark-while-running:ACTIVE>-@40000']);
  });

  it('differential pressure out of band together with hopper temperature rising', () => {
    const dp = aPoint({ code: 'DP', type: 'differential_pressure', unit: 'Pa', range: [0, 3000], limits: { ll: null, l: null, h: null, hh: null }, hazardSourceCode: 'DC-1' });
    const te = aPoint({ code: 'TE', hazardSourceCode: 'DC-1', limits: { ll: null, l: null, h: null, hh: null } });
    const r: CompositeRule = { ...rule, name: 'dp-and-heat', onDelayS: 30, clauses: [{ points: [dp], test: { kind: 'outside', low: 500, high: 1500 } }, { points: [te], test: { kind: 'rising', perMin: 1 } }] };
    const h = new Harness(aRuleContext([dp, te], { composites: [r] }));
    for (let t = 0; t <= 240_000; t += 10_000) {
      h.feed(dp, [t, t < 120_000 ? 1000 : 1700]);
      h.feed(te, [t, 40 + t / 30_000]);
    }
    // Out of band from 120 s, the temperature rising 2 °C/min all along: active once that has lasted 30 s.
    expect(h.briefs).toEqual(['composite:dp-and-heat:->ACTIVE@150000']);
  });
});

describe('electricity', () => {
  const meter = aPoint({ code: 'KW', type: 'power', unit: 'kW', range: [0, 5000], limits: { ll: null, l: null, h: null, hh: null } });
  const setting: ElectricitySetting = { enterpriseCode: E, capacityKw: 800, declaredState: 'running', stoppedKw: 50, baselineTolerance: 0.5, baselineMinDays: 3, utcOffsetMin: 480 };
  const Q = 900_000;

  it('profiles 15-minute means and flags power over the declared capacity', () => {
    const h = new Harness(aRuleContext([meter], { electricity: [setting] }));
    const intervals: number[] = [];
    h.engine.onInterval = (i) => intervals.push(i.kw);
    h.feed(meter, [0, 700], [Q / 2, 900], [Q, 900], [Q + Q / 2, 900], [2 * Q, 300], [3 * Q, 300]);
    expect(intervals).toEqual([800, 900, 300]);
    expect(h.briefs).toEqual([`power_over_capacity:->ACTIVE@${2 * Q}`, `power_over_capacity:ACTIVE>-@${3 * Q}`]);
    expect(h.out[0]!.message).toBe('900 kW mean over 08:15–08:30 exceeds the declared capacity 800 kW');
  });

  it('flags production while declared stopped, and consumption far from the usual for the time of day', () => {
    const h = new Harness(aRuleContext([meter], { electricity: [{ ...setting, declaredState: 'stopped' }] }));
    const day = 86_400_000;
    // Three nights at 20 kW in the 02:00 slot (local) teach the baseline; the fourth night draws 300 kW.
    const slot = day - 8 * 3_600_000 + 2 * 3_600_000;
    for (let d = 0; d < 4; d++) h.feed(meter, [slot + d * day, d < 3 ? 20 : 300], [slot + d * day + Q, 0]);
    h.tick(slot + 3 * day + 2 * Q + 60_000);
    const raised = h.out.filter((c) => c.to !== null).map((c) => c.condition);
    expect(raised).toEqual(['power_while_stopped', 'power_abnormal']);
    expect(h.out.find((c) => c.condition === 'power_abnormal')!.message).toBe('300 kW over 02:00–02:15 against a usual 20 kW at this time of day (±50 %)');
  });
});

describe('chatter and flood protection', () => {
  it('marks a chattering condition, holds it active, and passes its final state once quiet', () => {
    const p = aPoint({ deadband: 0 });
    const h = new Harness(aRuleContext([p]));
    for (let i = 0; i < 8; i++) h.feed(p, [i * 10_000, i % 2 === 0 ? 41 : 39]);
    h.tick(70_000 + 299_999);
    h.tick(70_000 + 300_000);
    // Five transitions pass; the sixth (a clear at 50 s) is turned into a chattering mark that keeps it active.
    expect(h.briefs).toEqual([
      'limit_high:->H@0',
      'limit_high:H>-@10000',
      'limit_high:->H@20000',
      'limit_high:H>-@30000',
      'limit_high:->H@40000',
      'limit_high:H>H@50000!',
      'limit_high:H>-@70000',
    ]);
    expect(h.out[6]!.message).toMatch(/^chattering over/);
  });

  it('groups alarms past 10 in 10 minutes under one flood alarm without losing any', () => {
    const points = Array.from({ length: 14 }, (_, i) => aPoint({ code: `P${i}` }));
    const h = new Harness(aRuleContext(points));
    points.forEach((p, i) => h.feed(p, [i * 1000, 45]));
    h.tick(14_000 + 600_000);
    const briefs = h.briefs;
    expect(briefs.filter((b) => b.startsWith('limit_high'))).toHaveLength(14);
    expect(briefs.slice(10, 12)).toEqual(['alarm_flood:->ACTIVE@10000', 'limit_high:->H@10000~']);
    expect(briefs.filter((b) => b.endsWith('~'))).toHaveLength(4);
    expect(briefs.at(-1)).toBe(`alarm_flood:ACTIVE>-@${614_000}`);
    expect(h.out.at(-1)!.message).toBe('alarm flood over: 4 alarms were grouped under it');
  });
});

describe('event time', () => {
  it('takes a batch in timestamp order whatever order it came in', () => {
    const h = new Harness(aRuleContext([point]));
    h.batch([aReading(point, 20, 3), aReading(point, 45, 1), aReading(point, 44, 2)], 10);
    expect(h.briefs).toEqual(['limit_high:->H@1', 'limit_high:H>-@3']);
  });

  it('records an excursion found in a late reading as raised and returned; ignores duplicates and readings beyond the window', () => {
    const h = new Harness(aRuleContext([point]), 0, { lateWindowMs: 60_000 });
    h.feed(point, [100_000, 20]);
    h.batch([aReading(point, 55, 90_000)], 100_001);
    h.batch([aReading(point, 20, 100_000)], 100_002);
    h.batch([aReading(point, 99, 10_000)], 100_003);
    expect(h.briefs).toEqual(['limit_high:late:->HH@90000', 'limit_high:late:HH>-@90000']);
    expect(h.out[0]!.message).toMatch(/late reading of 1970-01-01T00:01:30.000Z shows 55 °C beyond HH 50: momentary excursion/);
    expect(h.engine.stats).toEqual({ late: 1, tooLate: 1, duplicate: 1, clockResets: 0 });
  });

  it('an excursion in late readings is recorded once, however its readings come, and never held as chattering or a flood', () => {
    const p = aPoint({ samplePeriodS: 10, limits: { h: 40, hh: 50 }, deadband: 1 });
    const T = 10 * 3_600_000;
    const lateRaises = (h: Harness): ConditionChange[] => h.out.filter((c) => c.name === 'late' && c.from === null);
    // Newest first, one reading a message, then the same buffer again (a redelivery after a reconnect)…
    const h = new Harness(aRuleContext([p]), T - 1000);
    h.feed(p, [T, 20]);
    const excursion = [5, 4, 3, 2, 1, 0].map((i) => T - 3_600_000 + i * 10_000);
    for (let round = 0; round < 2; round++) for (const ts of excursion) h.batch([aReading(p, 45, ts)], T + 1000 + round);
    expect(lateRaises(h)).toHaveLength(1);
    // …or between live readings, each of which ends the late run.
    for (const ts of excursion.reverse()) {
      h.batch([aReading(p, 45, ts)], T + 5000);
      h.feed(p, [T + 10_000 + (ts % 100_000), 20]);
    }
    expect(lateRaises(h)).toHaveLength(1);
    expect(h.out.filter((c) => c.name === 'late').every((c) => !c.chattering && c.floodKey === null)).toBe(true);
    // Eleven points each with an excursion in their replay: eleven records, no flood alarm.
    const points = Array.from({ length: 11 }, (_, i) => aPoint({ code: `P${i}`, samplePeriodS: 10, limits: { h: 40, hh: 50 }, deadband: 1 }));
    const f = new Harness(aRuleContext(points), T - 1000);
    for (const q of points) f.feed(q, [T, 20]);
    for (const q of points) f.batch([aReading(q, 55, T - 3_600_000)], T + 2000);
    f.tick(T + 5000);
    expect(lateRaises(f)).toHaveLength(11);
    expect(f.out.filter((c) => c.condition === 'alarm_flood')).toEqual([]);
  });

  it('with an on-delay, a late excursion is recorded when its readings come newest first or between live readings', () => {
    const p = aPoint({ samplePeriodS: 10, limits: { h: 40, hh: 50 }, deadband: 1, onDelayS: 30 });
    const T = 10 * 3_600_000;
    const excursion = Array.from({ length: 30 }, (_, i) => T - 3_600_000 + i * 10_000);
    const records = (h: Harness): string[] => h.out.filter((c) => c.name === 'late' && c.from === null).map((c) => `${c.to}@${c.ts}`);
    // Five minutes past HH, replayed newest first, one reading a message.
    const newestFirst = new Harness(aRuleContext([p]), T - 1000);
    newestFirst.feed(p, [T, 20]);
    for (const ts of [...excursion].reverse()) newestFirst.batch([aReading(p, 55, ts)], T + 1000);
    expect(records(newestFirst)).toEqual([`HH@${T - 3_600_000 + 260_000}`]);
    // The same, oldest first, each followed by a live reading (which ends the late run).
    const interleaved = new Harness(aRuleContext([p]), T - 1000);
    interleaved.feed(p, [T, 20]);
    excursion.forEach((ts, i) => {
      interleaved.batch([aReading(p, 55, ts)], T + 1000 + i * 10_000);
      interleaved.feed(p, [T + 5000 + i * 10_000, 20]);
    });
    expect(records(interleaved)).toEqual([`HH@${T - 3_600_000 + 30_000}`]);
    // A spike shorter than the on-delay is no excursion, in whatever order.
    const spike = new Harness(aRuleContext([p]), T - 1000);
    spike.feed(p, [T, 20]);
    for (const ts of [T - 600_000 + 10_000, T - 600_000]) spike.batch([aReading(p, 55, ts)], T + 1000);
    spike.batch([aReading(p, 20, T - 600_000 + 20_000)], T + 1000);
    expect(records(spike)).toEqual([]);
  });

  it('records each past excursion once: not those alarmed live, not a buffer delivered twice, but one to H while a live H stands', () => {
    const p = aPoint({ samplePeriodS: 10, limits: { h: 40, hh: 50 }, deadband: 1 });
    const T = 10 * 3_600_000;
    const records = (h: Harness): string[] => h.out.filter((c) => c.name === 'late' && c.from === null).map((c) => `${c.to}@${c.ts}`);
    const h = new Harness(aRuleContext([p]), T - 7_200_000);
    // A live HH excursion an hour ago, alarmed and cleared live; later a redelivery of its readings records nothing.
    for (let t = T - 3_600_000; t <= T - 3_540_000; t += 10_000) h.feed(p, [t, 55]);
    h.feed(p, [T - 3_530_000, 20]).feed(p, [T, 20]);
    h.batch([aReading(p, 55, T - 3_570_000), aReading(p, 55, T - 3_560_000)], T + 1000);
    expect(records(h)).toEqual([]);
    // Two past excursions 30 minutes apart, newest first, the whole buffer delivered twice: two records.
    const buffer = [T - 1_200_000, T - 3_000_000].map((ts) => aReading(p, 45, ts));
    for (let round = 0; round < 2; round++) for (const r of buffer) h.batch([r], T + 2000 + round);
    expect(records(h)).toEqual([`H@${T - 1_200_000}`, `H@${T - 3_000_000}`]);
    // A live H now; a late reading of H from two hours ago is an excursion of its own.
    h.feed(p, [T + 10_000, 45]);
    h.batch([aReading(p, 45, T - 7_000_000)], T + 11_000);
    expect(records(h)).toHaveLength(3);
    expect(records(h)[2]).toBe(`H@${T - 7_000_000}`);
    // A late reading inside the live excursion is not.
    h.batch([aReading(p, 45, T + 5000)], T + 12_000);
    expect(records(h)).toHaveLength(3);
  });

  it('late excursions are alarms of their own: replayed ones never latch the live alarm as chattering nor rewrite it', () => {
    const p = aPoint({ samplePeriodS: 10, limits: { h: 40, hh: 50 }, deadband: 1 });
    const T = 10 * 3_600_000;
    const h = new Harness(aRuleContext([p]), T - 1000);
    h.feed(p, [T, 20]);
    // A buffer of the last five hours with three short excursions past H (six transitions of a late alarm)…
    const at = (from: number, v: number): [number, number][] => [0, 1, 2].map((i) => [from + i * 10_000, v]);
    const buffer = [5, 4, 3].flatMap((hAgo) => [...at(T - hAgo * 3_600_000, 45), ...at(T - hAgo * 3_600_000 + 30_000, 20)]);
    h.batch(buffer.map(([ts, v]) => aReading(p, v, ts)), T + 1000);
    expect(h.out.filter((c) => c.name === 'late' && c.from === null && c.to !== null)).toHaveLength(3);
    // …then the live value goes past H: raised at once on the live alarm, not held as chattering.
    h.feed(p, [T + 10_000, 45]);
    const live = h.out.filter((c) => c.name === null);
    expect(live.map((c) => `${c.from ?? '-'}>${c.to ?? '-'}${c.chattering ? '!' : ''}`)).toEqual(['->H']);
    // A late HH from three hours ago while a live H stands: its own alarm, the live one untouched.
    const g = new Harness(aRuleContext([p]), T - 1000);
    g.feed(p, [T, 45]);
    const before = g.out.length;
    g.batch([aReading(p, 55, T - 3 * 3_600_000)], T + 20_000);
    expect(g.briefs.slice(before)).toEqual([`limit_high:late:->HH@${T - 3 * 3_600_000}`, `limit_high:late:HH>-@${T - 3 * 3_600_000}`]);
  });
});

describe('restart and reload', () => {
  it('continues from restored alarms: no second raise, still cleared', () => {
    const h = new Harness(aRuleContext([point]));
    h.engine.restore([{ key: `${E}/point:T101-TE/limit_high`, level: 'HH' }]);
    h.feed(point, [1, 52], [2, 30]);
    expect(h.briefs).toEqual(['limit_high:HH>-@2']);
  });

  it('carries state to the reloaded version of a point and judges the next reading by its new limits', () => {
    const a = aPoint({ code: 'A' });
    const h = new Harness(aRuleContext([a, aPoint({ code: 'B' })]));
    h.feed(a, [1, 45]);
    const a2 = aPoint({ code: 'A', limits: { h: 47 } });
    h.engine.reload(aRuleContext([a2]));
    h.feed(a2, [2, 46.5], [3, 45.5]);
    expect(h.briefs).toEqual(['limit_high:->H@1', 'limit_high:H>-@3']);
    expect(h.out[1]!.threshold).toBe(47);
    // What the reloaded registry still evaluates, so the alarms of what it dropped can be retired.
    expect(h.engine.covers(`${E}/point:A/limit_high`)).toBe(true);
    expect(h.engine.covers(`${E}/point:B/limit_high`)).toBe(false);
    expect(h.engine.covers(`${E}/gateway:GW01/gateway_offline`)).toBe(true);
    expect(h.engine.covers(`${E}/area:NOPE/vote`)).toBe(false);
    expect(h.engine.covers(`${E}/enterprise:${E}/alarm_flood`)).toBe(true);
  });
});
