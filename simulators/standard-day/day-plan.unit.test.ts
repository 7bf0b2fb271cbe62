import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarios } from '../scenario.js';
import { planDay } from './day-plan.js';
import { operatorResponse } from './operator.js';

const scenarios = loadScenarios(resolve('simulators/scenarios'));
const CHEM = '91320594MA1WKTRP3E';
const DUST = '91370800MA3CD7LN28';
const STOPPED = '9132068400000Y6G9U';
const templateOf = (n: number): string => (n % 8 === 3 ? STOPPED : n % 3 === 2 ? DUST : CHEM);
const enterprises = Array.from({ length: 30 }, (_, n) => ({ code: `E${n}`, name: `E${n}`, industry: n % 3 === 2 ? 'dust' : 'hazardous_chemicals', template: templateOf(n), stopped: templateOf(n) === STOPPED }));

describe('the standard day plan', () => {
  const plan = planDay(enterprises, scenarios, 24, 42);

  it('stages about one hazard per enterprise, every scenario at least once, each at a copy of its own site', () => {
    expect(plan.length).toBe(30);
    expect(new Set(plan.map((h) => h.scenario.name)).size).toBe(scenarios.length);
    for (const h of plan) {
      const original = scenarios.find((s) => s.name === h.scenario.name)!;
      expect(enterprises.find((e) => e.code === h.scenario.enterprise)!.template).toBe(original.enterprise);
      expect(h.startS).toBeGreaterThanOrEqual(600);
      expect(h.settledS).toBeLessThan(24 * 3600);
    }
  });

  it('never runs two hazards at once at one enterprise, and is the same for the same seed', () => {
    for (const e of enterprises) {
      const mine = plan.filter((h) => h.scenario.enterprise === e.code);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.startS).toBeGreaterThan(mine[i - 1]!.settledS);
    }
    expect(planDay(enterprises, scenarios, 24, 42)).toEqual(plan);
    expect(planDay(enterprises, scenarios, 24, 43)).not.toEqual(plan);
  });

  it('leaves out what it cannot stage: no copy of the scenario\'s site', () => {
    const chemicalOnly = enterprises.filter((e) => e.template === CHEM);
    expect(planDay(chemicalOnly, scenarios, 24, 1).every((h) => scenarios.find((s) => s.name === h.scenario.name)!.enterprise === CHEM)).toBe(true);
  });
});

describe('the duty operator of the standard day', () => {
  it('answers the same for the same alarm, mostly within minutes, some late enough to escalate', () => {
    const answers = Array.from({ length: 2000 }, (_, i) => operatorResponse(`key-${i}`, '2026-11-02T01:00:00.000Z', 42));
    expect(operatorResponse('key-1', '2026-11-02T01:00:00.000Z', 42)).toEqual(answers[1]);
    const within3 = answers.filter((a) => a.ackAfterS <= 180).length / answers.length;
    const late = answers.filter((a) => a.ackAfterS >= 720).length / answers.length;
    expect(within3).toBeGreaterThan(0.65);
    expect(within3).toBeLessThan(0.75);
    expect(late).toBeGreaterThan(0.03);
    expect(late).toBeLessThan(0.07);
    expect(answers.every((a) => a.ackAfterS >= 30 && a.ackAfterS <= 1200 && a.disposeAfterS >= 120 && a.disposeAfterS <= 600)).toBe(true);
  });
});
