import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConditionChange, ConditionLevel, Point } from '#libs/contracts/index.js';
import { RuleEngine } from './rule-engine.js';
import { aGateway, aPoint, aReading, aRuleContext } from '#libs/testing/builders.js';

// Fuzz: after anything, a value back to normal for good (2 h of normal readings, in order, true clocks) must leave
// limit_high cleared; and a sustained HH must end up shown HH. Includes restarts (restore from what the screen shows),
// reloads, late replays, batches with several readings, gateway and server clock jumps.
const PERIOD_S = 10;
type Ev =
  | { k: 'read'; v: number; n: number }
  | { k: 'late'; v: number; ago: number }
  | { k: 'gw'; by: number }
  | { k: 'srv'; by: number }
  | { k: 'quiet'; s: number }
  | { k: 'restart' }
  | { k: 'reload' }
  | { k: 'bad' };
const ev: fc.Arbitrary<Ev> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('read' as const), v: fc.constantFrom(20, 39.5, 41, 45, 49.5, 51, 60), n: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ k: fc.constant('late' as const), v: fc.constantFrom(20, 45, 60), ago: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ k: fc.constant('gw' as const), by: fc.integer({ min: -1_800_000, max: 1_800_000 }) }),
  fc.record({ k: fc.constant('srv' as const), by: fc.integer({ min: -600_000, max: 600_000 }) }),
  fc.record({ k: fc.constant('quiet' as const), s: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ k: fc.constant('restart' as const) }),
  fc.record({ k: fc.constant('reload' as const) }),
  fc.record({ k: fc.constant('bad' as const) }),
);
const delays = fc.record({ onDelayS: fc.constantFrom(0, 10, 30), offDelayS: fc.constantFrom(0, 20, 60), deadband: fc.constantFrom(0, 1, 2) });

function sim(p: Point, events: Ev[], tailValue: number, tailMs: number, tailOffset = 0, tailN = 1): { shown: ConditionLevel | null; log: string[]; settledAfter: number } {
  let lastChangeAt = 0;
  const ctx = () => aRuleContext([p], { gateways: [aGateway({ reportingPeriodS: PERIOD_S })] });
  let server = 10_000_000_000;
  let mono = server;
  let engine = new RuleEngine(ctx(), server);
  const shown = new Map<string, ConditionLevel>();
  const log: string[] = [];
  const emit = (c: ConditionChange): void => {
    // The live alarm settles; excursions found in late readings are alarms of their own (raised and returned).
    if (c.condition === 'limit_high' && c.name === null && (shown.get(c.key) ?? null) !== c.to) lastChangeAt = mono;
    if (c.to === null) shown.delete(c.key);
    else shown.set(c.key, c.to);
    if (c.condition === 'limit_high') log.push(`${c.from}->${c.to}${c.chattering ? '(ch)' : ''}`);
  };
  let offset = 0;
  let nextTick = server;
  const advance = (ms: number): void => {
    const target = server + ms;
    while (nextTick <= target) {
      engine.tick(nextTick, emit);
      nextTick += 5000;
    }
    server = target;
    mono += ms;
  };
  let lastGwTs = 0;
  const read = (v: number, n = 1, q: 'good' | 'bad' = 'good'): void => {
    advance(PERIOD_S * 1000);
    const batch = [];
    for (let i = n - 1; i >= 0; i--) batch.push(aReading(p, v, server + offset - i * 1000, q));
    lastGwTs = server + offset;
    engine.readings(batch, server, emit);
  };
  for (const e of events) {
    if (e.k === 'read') read(e.v, e.n);
    else if (e.k === 'bad') read(0, 1, 'bad');
    else if (e.k === 'late') engine.readings([aReading(p, e.v, lastGwTs - e.ago * 1000)], server, emit);
    else if (e.k === 'gw') offset += e.by;
    else if (e.k === 'quiet') advance(e.s * 1000);
    else if (e.k === 'srv') {
      server += e.by;
      nextTick = server;
    } else if (e.k === 'restart') {
      engine = new RuleEngine(ctx(), server);
      engine.restore([...shown].map(([key, level]) => ({ key, level })));
    } else engine.reload(ctx());
  }
  offset = tailOffset; // a steady gateway clock from here on (right, or behind)
  const end = server + tailMs;
  const tailStart = mono;
  while (server < end) read(tailValue, tailN);
  return { shown: shown.get(`${p.enterpriseCode}/point:${p.code}/limit_high`) ?? null, log, settledAfter: Math.max(0, lastChangeAt - tailStart) };
}

describe('safety fuzz: restarts, reloads, replays, bad readings, gateway and server clock jumps', () => {
  it('after anything, normal for good ends cleared and HH for good ends HH, each within its bound', () => {
    fc.assert(
      fc.property(delays, fc.array(ev, { maxLength: 60 }), fc.boolean(), fc.integer({ min: -7_200_000, max: 0 }), fc.integer({ min: 1, max: 3 }), (d, events, high, tailOffset, tailN) => {
        const p = aPoint({ ...d, samplePeriodS: PERIOD_S, limits: { ll: -10, l: 0, h: 40, hh: 50 } });
        const r = sim(p, events, high ? 60 : 20, 2 * 3_600_000, tailOffset, tailN);
        expect(r.shown, r.log.slice(-8).join(' ')).toBe(high ? 'HH' : null);
        const P = PERIOD_S * 1000;
        const bound = high ? 3 * P + d.onDelayS * 1000 + 5000 : 3 * P + d.offDelayS * 1000 + 300_000 + 5000;
        expect(r.settledAfter, `${JSON.stringify(d)} ${r.log.slice(-8).join(' ')}`).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 1000 },
    );
  });
});
