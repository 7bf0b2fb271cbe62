import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alarm, AlarmSeverity, EscalationPolicy } from '#libs/contracts/index.js';
import { anAlarm } from '#libs/testing/builders.js';
import { consoleOrder, consoleRows, durationText, escalationDue, foldFloods, matches, NO_FILTER, staleAfterMs, visibleRows } from './alarm-view.js';

const POLICY: EscalationPolicy = {
  bySeverity: { critical: { countyAfterS: 600, cityAfterS: 1800 }, major: { countyAfterS: 900, cityAfterS: 2700 }, minor: null, warning: null },
  disposalRequired: ['critical', 'major'],
  maxShelveS: 28_800,
};
const T0 = Date.parse('2026-11-30T08:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

describe('console order', () => {
  it('puts priority first, then active before cleared, unacknowledged before acknowledged, then the newest', () => {
    const newMajor = anAlarm({ id: 'a', severity: 'major', raisedAt: at(5000) });
    const oldCritical = anAlarm({ id: 'b', severity: 'critical', raisedAt: at(0) });
    const clearedCritical = anAlarm({ id: 'c', severity: 'critical', status: 'CLEARED_UNACK', raisedAt: at(9000) });
    const ackedCritical = anAlarm({ id: 'd', severity: 'critical', status: 'ACTIVE_ACK', acknowledged: { by: 'x', at: at(1) }, raisedAt: at(8000) });
    const newCritical = anAlarm({ id: 'e', severity: 'critical', raisedAt: at(7000) });
    const sorted = [newMajor, oldCritical, clearedCritical, ackedCritical, newCritical].sort(consoleOrder).map((a) => a.id);
    expect(sorted).toEqual(['e', 'b', 'd', 'c', 'a']);
  });

  it('is a total order: any shuffle of the same alarms sorts alike', () => {
    const severities: AlarmSeverity[] = ['critical', 'major', 'minor', 'warning'];
    const alarm = fc.record({
      id: fc.uuid(),
      severity: fc.constantFrom(...severities),
      status: fc.constantFrom('ACTIVE_UNACK', 'ACTIVE_ACK', 'CLEARED_UNACK', 'CLEARED_ACK' as const),
      raisedAt: fc.integer({ min: 0, max: 60_000 }).map(at),
    });
    fc.assert(
      fc.property(fc.uniqueArray(alarm, { selector: (a) => a.id, maxLength: 30 }), (specs) => {
        const alarms: Alarm[] = specs.map((s) => anAlarm({ ...s, acknowledged: s.status.endsWith('_ACK') ? { by: 'x', at: s.raisedAt } : null }));
        const once = [...alarms].sort(consoleOrder).map((a) => a.id);
        const again = [...alarms].reverse().sort(consoleOrder).map((a) => a.id);
        expect(again).toEqual(once);
      }),
    );
  });
});

describe('console filters', () => {
  const a = anAlarm({ severity: 'critical', condition: 'limit_high', enterpriseCode: 'E1', status: 'ACTIVE_UNACK' });
  it('matches by severity, condition, enterprise, region and state', () => {
    expect(matches(a, NO_FILTER)).toBe(true);
    expect(matches(a, { ...NO_FILTER, severity: 'major' })).toBe(false);
    expect(matches(a, { ...NO_FILTER, condition: 'no_data' })).toBe(false);
    expect(matches(a, { ...NO_FILTER, enterprise: 'E2' })).toBe(false);
    expect(matches(a, { ...NO_FILTER, enterprisesInRegion: new Set(['E2']) })).toBe(false);
    expect(matches(a, { ...NO_FILTER, enterprisesInRegion: new Set(['E1']) })).toBe(true);
    expect(matches(a, { ...NO_FILTER, state: 'unack' })).toBe(true);
    expect(matches(a, { ...NO_FILTER, state: 'cleared' })).toBe(false);
    expect(matches(a, { ...NO_FILTER, state: 'shelved' })).toBe(false);
  });
});

describe('escalation timer', () => {
  const critical = anAlarm({ severity: 'critical', detectedAt: at(0), raisedAt: at(0) });
  it('counts down to the county, then the city, from the server detection time', () => {
    expect(escalationDue(critical, POLICY, T0 + 60_000)).toEqual({ kind: 'next', level: 'county', inMs: 540_000 });
    const atCounty = { ...critical, escalation: { level: 'county' as const, steps: [] } };
    expect(escalationDue(atCounty, POLICY, T0 + 700_000)).toEqual({ kind: 'next', level: 'city', inMs: 1_100_000 });
    const atCity = { ...critical, escalation: { level: 'city' as const, steps: [] } };
    expect(escalationDue(atCity, POLICY, T0 + 1_860_000)).toEqual({ kind: 'overdue', sinceMs: 60_000 });
  });

  it('says nothing for alarms that do not escalate: acknowledged, cleared, shelved, or of a severity without timers', () => {
    expect(escalationDue({ ...critical, acknowledged: { by: 'x', at: at(1) } }, POLICY, T0)).toEqual({ kind: 'none' });
    expect(escalationDue({ ...critical, status: 'CLEARED_UNACK' }, POLICY, T0)).toEqual({ kind: 'none' });
    expect(escalationDue({ ...critical, shelved: { by: 'x', reason: 'r', at: at(0), until: at(1000) } }, POLICY, T0)).toEqual({ kind: 'none' });
    expect(escalationDue({ ...critical, severity: 'minor' }, POLICY, T0)).toEqual({ kind: 'none' });
    expect(escalationDue(critical, null, T0)).toEqual({ kind: 'none' });
  });

  it('writes durations as m:ss below an hour', () => {
    expect(durationText(540_000)).toBe('9:00');
    expect(durationText(61_500)).toBe('1:01');
    expect(durationText(3_900_000)).toBe('1 h 5 min');
  });
});

describe('stale marks and the virtual list', () => {
  it('marks a value stale after three expected periods, never under 10 s', () => {
    expect(staleAfterMs(1)).toBe(10_000);
    expect(staleAfterMs(10)).toBe(30_000);
    expect(staleAfterMs(60)).toBe(180_000);
  });

  it('draws the rows in view plus the overscan, never past either end', () => {
    expect(visibleRows(0, 340, 34, 1000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRows(3400, 340, 34, 1000, 5)).toEqual({ start: 95, end: 115 });
    expect(visibleRows(34_000, 340, 34, 1000, 5)).toEqual({ start: 995, end: 1000 });
    fc.assert(
      fc.property(fc.nat(100_000), fc.integer({ min: 1, max: 2000 }), fc.nat(5000), (scroll, viewport, total) => {
        const { start, end } = visibleRows(scroll, viewport, 34, total);
        expect(0 <= start && start <= end && end <= total).toBe(true);
        const first = Math.floor(scroll / 34);
        if (first < total) expect(start <= first && end > first).toBe(true);
      }),
    );
  });
});

describe('flood grouping', () => {
  const flood = anAlarm({ id: 'f', key: 'E1/enterprise:E1/alarm_flood', condition: 'alarm_flood', severity: 'major' });
  const member = (id: string, severity: AlarmSeverity) => anAlarm({ id, key: `E1/point:${id}/limit_high`, severity, floodKey: flood.key });

  it('folds the alarms raised in a flood under it until expanded, and never a critical one', () => {
    const alarms = [flood, member('m1', 'major'), member('m2', 'minor'), member('c1', 'critical'), anAlarm({ id: 'x', key: 'E1/point:x/limit_high' })];
    const folded = foldFloods(alarms, new Set());
    expect(folded.shown.map((a) => a.id)).toEqual(['f', 'c1', 'x']);
    expect(folded.folded.get(flood.key)).toBe(2);
    expect(foldFloods(alarms, new Set([flood.key])).shown).toHaveLength(5);
    // The flood alarm itself gone (closed): nothing stays folded under it.
    expect(foldFloods(alarms.slice(1), new Set()).shown).toHaveLength(4);
  });

  it('shows every critical alarm whatever the grouping', () => {
    const severity = fc.constantFrom<AlarmSeverity>('critical', 'major', 'minor', 'warning');
    fc.assert(
      fc.property(fc.array(fc.tuple(severity, fc.boolean()), { maxLength: 40 }), fc.boolean(), (specs, withFlood) => {
        const alarms = specs.map(([sev, inFlood], i) => anAlarm({ id: `a${i}`, severity: sev, floodKey: inFlood ? flood.key : null }));
        const list = withFlood ? [flood, ...alarms] : alarms;
        const { shown, folded } = foldFloods(list, new Set());
        for (const a of list) if (a.severity === 'critical') expect(shown).toContain(a);
        expect(shown.length + [...folded.values()].reduce((n, k) => n + k, 0)).toBe(list.length);
      }),
    );
  });
});

describe('console rows', () => {
  it('lists every alarm matching the filter, or counts it under a flood row that is listed; never one that does not match', () => {
    const FLOOD = 'E1/enterprise:E1/alarm_flood';
    const severity = fc.constantFrom<AlarmSeverity>('critical', 'major', 'minor', 'warning');
    const status = fc.constantFrom('ACTIVE_UNACK', 'ACTIVE_ACK', 'CLEARED_UNACK', 'CLEARED_ACK' as const);
    const alarm = fc.record({ severity, status, inFlood: fc.boolean(), isFlood: fc.boolean(), enterprise: fc.constantFrom('E1', 'E2') });
    const filter = fc.record({
      severity: fc.constantFrom<AlarmSeverity | ''>('', 'critical', 'major', 'minor'),
      state: fc.constantFrom('' as const, 'unack' as const, 'active' as const, 'cleared' as const),
      enterprise: fc.constantFrom('', 'E1', 'E2'),
    });
    fc.assert(
      fc.property(fc.array(alarm, { maxLength: 30 }), filter, fc.boolean(), (specs, f, open) => {
        const alarms = specs.map((x, i) =>
          anAlarm({
            id: `a${i}`,
            key: x.isFlood ? FLOOD : `E1/point:P${i}/limit_high`,
            condition: x.isFlood ? 'alarm_flood' : 'limit_high',
            severity: x.severity,
            status: x.status,
            acknowledged: x.status.endsWith('_ACK') ? { by: 'x', at: '2026-11-30T08:00:00.000Z' } : null,
            enterpriseCode: x.enterprise,
            floodKey: x.inFlood && !x.isFlood ? FLOOD : null,
          }),
        );
        const full = { ...NO_FILTER, ...f };
        const { rows, folded } = consoleRows(alarms, full, open ? new Set([FLOOD]) : new Set());
        const matching = alarms.filter((a) => matches(a, full));
        for (const r of rows) expect(matches(r, full)).toBe(true);
        const foldedCount = [...folded.values()].reduce((n, k) => n + k, 0);
        expect(rows.length + foldedCount).toBe(matching.length);
        if (foldedCount > 0) expect(rows.some((r) => r.key === FLOOD)).toBe(true);
        for (const a of matching) if (a.severity === 'critical') expect(rows).toContain(a);
      }),
    );
  });
});
