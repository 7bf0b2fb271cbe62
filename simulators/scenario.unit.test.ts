import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anAlarm } from '#libs/testing/builders.js';
import { durationS, judge, loadScenarios, resetMessage, stepMessages, type Scenario } from './scenario.js';

const E = '91320594MA1WKTRP3E';
const scenario: Scenario = {
  name: 'demo',
  description: 'd',
  enterprise: E,
  steps: [{ at: 0, gateway: 'GW01', clockOffsetS: 0 }],
  must: [{ condition: 'limit_high', point: 'T101-PT', level: 'HH', withinS: 5 }],
  mustNot: [{ condition: 'limit_low', maxRaises: 0 }, { condition: 'limit_high', point: 'T101-PT', maxRaises: 1 }],
  dayWeight: 1,
  dayOnly: false,
  reset: {},
};
const hh = anAlarm({ enterpriseCode: E, condition: 'limit_high', pointCode: 'T101-PT', level: 'HH' });

describe('scenario judge', () => {
  it('passes a scenario whose alarms came in time and none it must not', () => {
    expect(judge(scenario, [{ event: 'raise', alarm: hh, atS: 2 }]).map((v) => v.ok)).toEqual([true, true, true]);
  });

  it('misses an alarm raised too late, one never raised, one of the wrong level, and one raised too often', () => {
    expect(judge(scenario, [{ event: 'raise', alarm: hh, atS: 6 }])[0]).toMatchObject({ ok: false, detail: 'raised after 6.0 s' });
    expect(judge(scenario, [])[0]).toMatchObject({ ok: false, detail: 'not raised' });
    expect(judge(scenario, [{ event: 'raise', alarm: { ...hh, level: 'H' }, atS: 1 }])[0]!.ok).toBe(false);
    const twice = judge(scenario, [
      { event: 'raise', alarm: hh, atS: 1 },
      { event: 'raise', alarm: hh, atS: 2 },
      { event: 'raise', alarm: { ...hh, condition: 'limit_low', level: 'LL' }, atS: 3 },
    ]);
    expect(twice.map((v) => [v.expectation, v.ok, v.detail])).toEqual([
      ['must limit_high HH on T101-PT within 5 s', true, 'raised after 1.0 s'],
      ['must not limit_low', false, '1 raised'],
      ['at most 1 raise of limit_high on T101-PT', false, '2 raised'],
    ]);
    // Another enterprise's alarm is none of this scenario's business.
    expect(judge(scenario, [{ event: 'raise', alarm: { ...hh, enterpriseCode: 'OTHER' }, atS: 1 }])[0]!.ok).toBe(false);
  });

  it('runs until its last step and its longest wait', () => {
    expect(durationS({ ...scenario, steps: [{ at: 4, gateway: 'GW01', clockOffsetS: 0 }] })).toBe(6);
    expect(durationS(scenario)).toBe(5);
  });

  it('loads the shipped scenarios, and names the file and key of a bad one', () => {
    expect(loadScenarios('simulators/scenarios').length).toBeGreaterThanOrEqual(9);
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-scenarios-'));
    writeFileSync(join(dir, 'bad.yaml'), 'name: Bad Name\ndescription: x\nenterprise: E\nsteps: []\n');
    expect(() => loadScenarios(dir)).toThrow(/bad\.yaml: name: .*; steps: /);
  });

  it('refuses a held value outside a standard-day scenario (only the standard day keeps values in a gateway\'s messages)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-scenarios-'));
    const held = 'name: held\ndescription: x\nenterprise: E\nsteps: [{ at: 0, readings: { P: 1 }, holdS: 60 }]\n';
    writeFileSync(join(dir, 'held.yaml'), held);
    expect(() => loadScenarios(dir)).toThrow(/held\.yaml: steps: holdS needs dayOnly: true/);
    writeFileSync(join(dir, 'held.yaml'), `${held}dayOnly: true\n`);
    expect(loadScenarios(dir)[0]!.dayOnly).toBe(true);
  });

  it('turns a step into the messages a gateway publishes: offset event times, repeats with their values, quality', () => {
    const step = { at: 1, gateway: 'GW01', clockOffsetS: -30, readings: { A: 10, B: { value: 5, quality: 'bad' as const } }, repeat: { times: 2, everyS: -10, add: { A: 2 } } };
    expect(stepMessages(step, 100_000)).toEqual([
      { ts: 70_000, readings: [{ point: 'A', value: 10 }, { point: 'B', value: 5, quality: 'bad' }] },
      { ts: 60_000, readings: [{ point: 'A', value: 12 }, { point: 'B', value: 5, quality: 'bad' }] },
      { ts: 50_000, readings: [{ point: 'A', value: 14 }, { point: 'B', value: 5, quality: 'bad' }] },
    ]);
    expect(stepMessages({ at: 0, gateway: 'GW01', clockOffsetS: 0, status: 'drop' }, 1)).toEqual([]);
    expect(resetMessage({ A: 1 }, 5)).toEqual({ ts: 5, readings: [{ point: 'A', value: 1 }] });
  });
});
