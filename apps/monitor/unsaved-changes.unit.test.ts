import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '#libs/contracts/index.js';
import { anAlarm } from '#libs/testing/builders.js';
import { UnsavedChanges } from './unsaved-changes.js';

const record = (alarmId: string, at: string): AuditRecord => ({ at, actor: 'system', origin: 'system', action: 'raise', alarmId, detail: {} });

describe('UnsavedChanges: what waits for a failing alarm store', () => {
  it('keeps each alarm\'s latest state and the audit entries in order', () => {
    const u = new UnsavedChanges(10);
    expect(u.empty).toBe(true);
    u.add({ alarms: [anAlarm({ id: 'a', level: 'H' })], audit: [record('a', 't1')], risk: [] });
    u.add({ alarms: [anAlarm({ id: 'b' }), anAlarm({ id: 'a', level: 'HH' })], audit: [record('b', 't2'), record('a', 't3')], risk: [] });
    const b = u.batch();
    expect(b.alarms.map((a) => [a.id, a.level])).toEqual([['a', 'HH'], ['b', 'HH']]);
    expect(b.audit.map((r) => `${r.alarmId}@${r.at}`)).toEqual(['a@t1', 'b@t2', 'a@t3']);
    u.clear();
    expect(u.empty).toBe(true);
  });

  it('past its bound counts audit entries and risk changes and records the gap as one audit_gap entry, never refusing an alarm state', () => {
    const u = new UnsavedChanges(2);
    u.add({ alarms: [anAlarm({ id: 'a' })], audit: [record('a', 't1'), record('a', 't2'), record('a', 't3')], risk: [] });
    u.add({ alarms: [anAlarm({ id: 'c' })], audit: [record('c', 't4')], risk: [{ at: 't5', enterpriseCode: 'E', hazardSourceCode: null, from: null, to: 'red', score: 9, reasons: [] }] });
    expect(u.counts).toEqual({ alarms: 2, records: 2, beyondBound: 3 });
    const b = u.batch();
    expect(b.alarms.map((a) => a.id)).toEqual(['a', 'c']);
    expect(b.audit.map((r) => r.action)).toEqual(['raise', 'raise', 'audit_gap']);
    expect(b.audit[2]).toMatchObject({ at: 't5', detail: { auditEntries: 2, riskChanges: 1, from: 't3', to: 't5' } });
  });
});
