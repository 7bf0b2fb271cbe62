import { describe, expect, it } from 'vitest';
import type { Alarm, AlarmSeverity, ConditionType, HazardSource } from '#libs/contracts/index.js';
import { DEFAULT_RISK_WEIGHTS as W } from '#libs/config/index.js';
import { anAlarm } from '#libs/testing/builders.js';
import { assessRisk } from './risk.js';

const E = '91320594MA1WKTRP3E';
const NOW = Date.parse('2026-11-25T10:00:00Z');
const hs = (code: string, grade: HazardSource['grade']): HazardSource => ({ code, name: code, enterpriseCode: E, kind: 'tank_farm', grade, r: null, location: null });

function alarm(o: { hs?: string | null; severity?: AlarmSeverity; condition?: ConditionType; code?: string; escalated?: boolean; acked?: boolean; kind?: Alarm['originatorKind'] }): Alarm {
  const at = new Date(NOW).toISOString();
  return anAlarm(
    {
      originatorKind: o.kind ?? 'point',
      originatorCode: o.code ?? 'T101-TE',
      hazardSourceCode: o.hs === undefined ? 'TF-1' : o.hs,
      condition: o.condition ?? 'limit_high',
      severity: o.severity ?? 'critical',
      acknowledged: o.acked ? { by: 'x', at } : null,
      escalation: o.escalated ? { level: 'county', steps: [{ level: 'county', regionCode: '320594', at }] } : { level: 'enterprise', steps: [] },
    },
    new Date(NOW - 12 * 60_000).toISOString(),
  );
}

const gatewaysOf = new Map([['TF-1', new Set(['GW01'])], ['RX-1', new Set(['GW02'])]]);

describe('four-colour risk', () => {
  it.each([
    ['a quiet grade-4 site is blue', hs('TF-1', 4), [], 'blue', 10],
    ['a quiet grade-1 site is yellow from its inherent risk alone', hs('TF-1', 1), [], 'yellow', 40],
    ['one HH alarm lifts a grade-3 site to orange', hs('TF-1', 3), [alarm({})], 'orange', 50],
    ['two HH alarms on a grade-3 site make it red', hs('TF-1', 3), [alarm({}), alarm({})], 'red', 80],
    ['a sensor fault counts as a fault, not by its severity', hs('TF-1', 4), [alarm({ condition: 'no_data', severity: 'minor' })], 'blue', 15],
    ['an offline gateway makes a grade-3 site blind: yellow', hs('TF-1', 3), [alarm({ condition: 'gateway_offline', kind: 'gateway', code: 'GW01', hs: null, severity: 'major' })], 'yellow', 40],
    ['an unacknowledged, escalated HH alarm adds its overdue points', hs('TF-1', 3), [alarm({ escalated: true })], 'orange', 60],
    ['acknowledged, the same alarm is not overdue', hs('TF-1', 3), [alarm({ escalated: true, acked: true })], 'orange', 50],
    ['alarms of another hazard source do not count', hs('TF-1', 4), [alarm({ hs: 'RX-1' })], 'blue', 10],
  ] as const)('%s', (_, source, alarms, colour, score) => {
    const [a] = assessRisk({ enterpriseCode: E, hazardSources: [source], alarms, gatewaysOf, now: NOW }, W).hazardSources;
    expect([a!.colour, a!.score]).toEqual([colour, score]);
  });

  it('gives each colour its reasons, and the enterprise its worst hazard source plus what belongs to none', () => {
    const r = assessRisk(
      { enterpriseCode: E, hazardSources: [hs('TF-1', 3), hs('RX-1', 4)], alarms: [alarm({}), alarm({}), alarm({ escalated: true }), alarm({ hs: null, condition: 'power_abnormal', severity: 'warning', kind: 'enterprise', code: E })], gatewaysOf, now: NOW },
      W,
    );
    const tf1 = r.hazardSources[0]!;
    expect(tf1).toMatchObject({ colour: 'red', score: 20 + 90 + 10 });
    expect(tf1.reasons).toEqual([
      { points: 20, reason: 'inherent grade 3 (GB 18218-2018)' },
      { points: 90, reason: '3 critical alarms active (T101-TE)' },
      { points: 10, reason: '1 unacknowledged past escalation, the oldest for 12 min' },
    ]);
    expect(r.hazardSources[1]).toMatchObject({ hazardSourceCode: 'RX-1', colour: 'blue', score: 10 });
    expect(r.enterprise).toMatchObject({ hazardSourceCode: null, colour: 'red', score: 125 });
    expect(r.enterprise.reasons.map((x) => x.reason)).toEqual(['worst hazard source TF-1 (red)', '1 warning alarm active (91320594MA1WKTRP3E)']);
  });
});
