import { describe, expect, it } from 'vitest';
import type { Alarm, AlarmEvent, ConditionChange, ConditionLevel, EscalationPolicy, Region } from '#libs/contracts/index.js';
import { aLimitChange, aPoint } from '#libs/testing/builders.js';
import { AlarmBook, type ActionResult } from './alarm-book.js';

const point = aPoint();
const E = point.enterpriseCode;
const T0 = Date.parse('2026-11-25T08:00:00Z');
const POLICY: EscalationPolicy = {
  bySeverity: { critical: { countyAfterS: 600, cityAfterS: 1800 }, major: { countyAfterS: 900, cityAfterS: 2700 }, minor: null, warning: null },
  disposalRequired: ['critical', 'major'],
  maxShelveS: 3600,
};
const REGION: Region = { code: '320594', province: '320000', city: '320500', county: '320594' };

const limit = (from: ConditionLevel | null, to: ConditionLevel | null, value: number, ts: number, condition: 'limit_high' | 'limit_low' = 'limit_high'): ConditionChange => ({
  ...aLimitChange(point, from, to, value, ts, condition),
  message: `m${ts}`,
});

function book(): AlarmBook {
  let n = 0;
  return new AlarmBook([], POLICY, () => REGION, () => `a${++n}`);
}
const kinds = (events: AlarmEvent[]): string[] => events.map((e) => e.kind);
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
function ok(r: ActionResult): Alarm {
  if (!r.ok) throw new Error(r.refusal.reason);
  return r.alarm;
}
function ok2(r: ActionResult): AlarmEvent[] {
  if (!r.ok) throw new Error(r.refusal.reason);
  return r.events;
}
function refused(r: ActionResult): string {
  if (r.ok) throw new Error('expected a refusal');
  return `${r.refusal.kind}: ${r.refusal.reason}`;
}

describe('AlarmBook: conditions to alarms', () => {
  it('records when an alarm first chattered and keeps it, while the mark itself follows the latch (for ISA-18.2 reports)', () => {
    const b = book();
    b.apply(limit(null, 'H', 41, T0));
    const [marked] = b.apply({ ...limit('H', 'H', 42, T0 + 1000), chattering: true });
    expect(marked!.alarm).toMatchObject({ chattering: true, chatteredAt: at(1) });
    // The latch released while the condition still stands, then the clear: the mark goes, the record stays.
    const [released] = b.apply({ ...limit('H', 'H', 42, T0 + 2000), chattering: false });
    expect(released!.alarm).toMatchObject({ chattering: false, chatteredAt: at(1) });
    const [cleared] = b.apply({ ...limit('H', null, 30, T0 + 3000), chattering: false });
    expect(cleared!.alarm).toMatchObject({ chattering: false, chatteredAt: at(1) });
    b.apply(limit(null, 'H', 41, T0 + 4000));
    const [plain] = b.apply(limit('H', null, 30, T0 + 5000));
    expect(plain!.alarm.chatteredAt).toBeNull();
  });

  it('keeps one alarm per condition key, escalating in place and clearing', () => {
    const b = book();
    const [raised] = b.apply(limit(null, 'H', 41, 1000));
    expect(raised).toMatchObject({ kind: 'raise', alarm: { id: 'a1', level: 'H', severity: 'major', status: 'ACTIVE_UNACK', pointCode: 'T101-TE', raisedAt: '1970-01-01T00:00:01.000Z', message: 'm1000' } });
    expect(b.apply(limit('H', 'HH', 55, 2000))).toMatchObject([{ kind: 'update', alarm: { id: 'a1', level: 'HH', severity: 'critical', peakValue: 55 } }]);
    expect(b.apply(limit(null, 'L', -1, 2500, 'limit_low'))[0]!.alarm.id).toBe('a2');
    expect(b.activeAlarms()).toHaveLength(2);
    expect(b.apply(limit('HH', null, 30, 3000))).toMatchObject([{ kind: 'clear', alarm: { id: 'a1', status: 'CLEARED_UNACK', clearedAt: '1970-01-01T00:00:03.000Z', peakValue: 55, value: 30, closedAt: null } }]);
    expect(b.activeAlarms().map((a) => a.id)).toEqual(['a2']);
    // Cleared but not acknowledged: still open, waiting for the operator.
    expect(b.openAlarms().map((a) => a.id).sort()).toEqual(['a1', 'a2']);
    expect(b.apply(limit('H', null, 30, 4000))).toEqual([]);
  });

  it('keeps the lowest value as the peak of a low-side alarm', () => {
    const b = book();
    b.apply(limit(null, 'L', -1, 1, 'limit_low'));
    expect(b.apply(limit('L', 'LL', -12, 2, 'limit_low'))[0]!.alarm.peakValue).toBe(-12);
    expect(b.apply(limit('LL', 'L', -5, 3, 'limit_low'))[0]!.alarm.peakValue).toBe(-12);
  });

  it('gives the conditions in force, for the rule core after a restart', () => {
    const b = book();
    b.apply(limit(null, 'HH', 60, 1));
    expect(b.conditions()).toEqual([{ key: `${E}/point:T101-TE/limit_high`, level: 'HH' }]);
  });
});

describe('AlarmBook: the closed loop', () => {
  it('acknowledge → dispose → cleared closes a critical alarm, every step refused out of turn with a reason', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    expect(refused(b.act('a1', { kind: 'dispose', by: 'wang', cause: 'c', action: 'a', handler: 'wang' }, at(10)))).toBe('conflict: acknowledge the alarm before recording its disposal');
    expect(ok(b.act('a1', { kind: 'ack', by: 'wang' }, at(20)))).toMatchObject({ status: 'ACTIVE_ACK', acknowledged: { by: 'wang', at: at(20) } });
    expect(refused(b.act('a1', { kind: 'ack', by: 'li' }, at(21)))).toBe(`conflict: already acknowledged by wang at ${at(20)}`);
    const disposed = b.act('a1', { kind: 'dispose', by: 'wang', cause: '冷却水中断 cooling water lost', action: '切换备用泵 standby pump', handler: 'wang' }, at(30));
    expect(ok(disposed)).toMatchObject({ disposal: { handler: 'wang', at: at(30) }, closedAt: null });
    // Clearing now closes it: cleared, acknowledged and disposed.
    const cleared = b.apply(limit('HH', null, 30, T0 + 40_000));
    expect(kinds(cleared)).toEqual(['clear', 'close']);
    expect(cleared[1]!.alarm).toMatchObject({ status: 'CLEARED_ACK', closedAt: at(40) });
    expect(b.openAlarms()).toEqual([]);
    expect(refused(b.act('a1', { kind: 'ack', by: 'x' }, at(50)))).toBe('not_found: no open alarm a1');
  });

  it('closes a minor alarm on acknowledgement once cleared (no disposal required)', () => {
    const b = book();
    const [raise] = b.apply({ ...limit(null, 'H', 41, T0), severity: 'minor' });
    b.apply({ ...limit('H', null, 30, T0 + 1000), severity: 'minor' });
    const r = b.act(raise!.alarm.id, { kind: 'ack', by: 'li' }, at(5));
    expect(r.ok && kinds(r.events)).toEqual(['ack', 'close']);
  });

  it('shelves for a while (active only, bounded), and the clock unshelves', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    expect(refused(b.act('a1', { kind: 'shelve', by: 'li', reason: 'calibration', forS: 7200 }, at(0)))).toBe('invalid: forS 7200 is longer than the 3600 s an alarm may be shelved');
    expect(ok(b.act('a1', { kind: 'shelve', by: 'li', reason: 'calibration', forS: 60 }, at(0))).shelved).toEqual({ by: 'li', reason: 'calibration', at: at(0), until: at(60) });
    expect(refused(b.act('a1', { kind: 'shelve', by: 'li', reason: 'x', forS: 60 }, at(1)))).toBe(`conflict: already shelved by li until ${at(60)}`);
    expect(b.tick(T0 + 59_000)).toEqual([]);
    expect(kinds(b.tick(T0 + 60_000))).toEqual(['unshelve']);
    expect(refused(b.act('a1', { kind: 'unshelve', by: 'li' }, at(61)))).toBe('conflict: the alarm is not shelved');
  });

  it('counts escalation from the server time it was raised, not from a gateway clock hours behind', () => {
    const b = book();
    const eightHours = 8 * 3_600_000;
    const [raise] = b.apply(limit(null, 'HH', 55, T0 - eightHours), T0);
    expect(raise!.alarm).toMatchObject({ raisedAt: new Date(T0 - eightHours).toISOString(), detectedAt: at(0) });
    expect(b.tick(T0 + 1000)).toEqual([]);
    expect(b.tick(T0 + 599_000)).toEqual([]);
    expect(b.tick(T0 + 600_000)).toMatchObject([{ kind: 'escalate', alarm: { escalation: { level: 'county' } } }]);
  });

  it('puts every alarm and window back as it was on rollback (a person\'s action the store refused)', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    const before = b.snapshot();
    ok(b.act('a1', { kind: 'ack', by: 'li' }, at(1)));
    b.takeOutOfService({ enterpriseCode: E, pointCode: point.code, by: 'li', reason: 'calibration', at: at(1), until: at(600) });
    b.rollback(before);
    expect(b.find('a1')).toMatchObject({ acknowledged: null, outOfService: null, status: 'ACTIVE_UNACK' });
    expect(b.maintenanceWindows()).toEqual([]);
    expect(b.activeOf(b.find('a1')!.key)?.acknowledged).toBeNull();
  });

  it('unshelves a shelved alarm that rises above the severity it was shelved at, and escalates it again', () => {
    const b = book();
    b.apply(limit(null, 'H', 45, T0));
    ok(b.act('a1', { kind: 'shelve', by: 'li', reason: 'calibration', forS: 3600 }, at(0)));
    expect(kinds(b.apply(limit('H', 'H', 46, T0 + 1000)))).toEqual(['update']);
    const rise = b.apply(limit('H', 'HH', 55, T0 + 2000));
    expect(kinds(rise)).toEqual(['update', 'unshelve']);
    expect(rise[0]!.alarm).toMatchObject({ level: 'HH', severity: 'critical', shelved: null });
    expect(kinds(b.tick(T0 + 600_000))).toEqual(['escalate']);
  });

  it('holds every active alarm and only the most recent cleared ones in memory; an older cleared one is acted on from the store', () => {
    const stored = new Map<string, Alarm>();
    let n = 0;
    const b = new AlarmBook([], POLICY, () => REGION, () => `a${++n}`, [], { lookup: (id) => stored.get(id), maxClearedInMemory: 2 });
    const keep = (events: AlarmEvent[]): void => events.forEach((e) => stored.set(e.alarm.id, e.alarm));
    for (let i = 0; i < 5; i++) {
      keep(b.apply(limit(null, 'HH', 55, T0 + i * 2000)));
      keep(b.apply(limit('HH', null, 30, T0 + i * 2000 + 1000)));
    }
    keep(b.apply(limit(null, 'H', 45, T0 + 20_000)));
    expect(b.openAlarms().map((a) => `${a.id}:${a.status}`)).toEqual(['a4:CLEARED_UNACK', 'a5:CLEARED_UNACK', 'a6:ACTIVE_UNACK']);
    expect(b.find('a1')).toMatchObject({ id: 'a1', status: 'CLEARED_UNACK' });
    expect(kinds(ok2(b.act('a1', { kind: 'ack', by: 'li' }, at(30))))).toEqual(['ack']);
    expect(b.openAlarms()).toHaveLength(3);
  });

  it('escalates an unacknowledged alarm to the county, then the city, of the enterprise; not once acknowledged', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    expect(b.tick(T0 + 599_000)).toEqual([]);
    const county = b.tick(T0 + 600_000);
    expect(county).toMatchObject([{ kind: 'escalate', alarm: { escalation: { level: 'county', steps: [{ level: 'county', regionCode: '320594', at: at(600) }] } } }]);
    expect(b.tick(T0 + 700_000)).toEqual([]);
    expect(b.tick(T0 + 1_800_000)[0]!.alarm.escalation).toEqual({
      level: 'city',
      steps: [
        { level: 'county', regionCode: '320594', at: at(600) },
        { level: 'city', regionCode: '320500', at: at(1800) },
      ],
    });
    const other = book();
    other.apply(limit(null, 'HH', 55, T0));
    ok(other.act('a1', { kind: 'ack', by: 'wang' }, at(10)));
    expect(other.tick(T0 + 3_600_000)).toEqual([]);
    // Nor once it has cleared by itself: it only waits for its acknowledgement.
    const passed = book();
    passed.apply(limit(null, 'HH', 55, T0));
    passed.apply(limit('HH', null, 30, T0 + 1000));
    expect(passed.tick(T0 + 3_600_000)).toEqual([]);
  });

  it('after a restart catches up on escalations that fell due while it was down, each step recorded', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    const restarted = new AlarmBook(b.openAlarms(), POLICY, () => REGION);
    expect(restarted.tick(T0 + 2_000_000).map((e) => e.alarm.escalation.level)).toEqual(['county', 'city']);
  });

  it('takes comments and assignment', () => {
    const b = book();
    b.apply({ ...limit(null, 'H', 41, T0), severity: 'minor' });
    expect(ok(b.act('a1', { kind: 'comment', by: 'li', text: '现场确认 checked on site' }, at(1))).comments).toEqual([{ by: 'li', text: '现场确认 checked on site', at: at(1) }]);
    expect(ok(b.act('a1', { kind: 'assign', by: 'li', assignee: 'zhang' }, at(2))).assignee).toBe('zhang');
  });

  it('takes a point out of service: its alarms are marked, not escalated; the window ends by itself', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    const window = { enterpriseCode: E, pointCode: 'T101-TE', by: 'li', reason: '检修 calibration', at: at(0), until: at(3600) };
    expect(b.takeOutOfService(window)).toMatchObject([{ kind: 'out_of_service', alarm: { id: 'a1', outOfService: window } }]);
    expect(b.tick(T0 + 1_800_000)).toEqual([]);
    // A new alarm of the point while out of service is recorded with the mark.
    b.apply(limit(null, 'L', -1, T0 + 10_000, 'limit_low'));
    expect(b.openAlarms().find((a) => a.condition === 'limit_low')!.outOfService).toEqual(window);
    // Back in service at the end of the window, the overdue alarms escalate in the same tick, each step recorded.
    const ended: string[] = [];
    const back = b.tick(T0 + 3_600_000, (w) => ended.push(w.pointCode));
    expect(ended).toEqual(['T101-TE']);
    expect(back.map((e) => `${e.kind}:${e.alarm.condition}:${e.alarm.escalation.level}`)).toEqual([
      'in_service:limit_high:enterprise',
      'in_service:limit_low:enterprise',
      'escalate:limit_high:county',
      'escalate:limit_high:city',
      'escalate:limit_low:county',
      'escalate:limit_low:city',
    ]);
    expect(b.putInService(E, 'T101-TE', at(3601))).toBeNull();
  });

  it('retires the active alarms of conditions no longer evaluated (e.g. a point removed by a reload)', () => {
    const b = book();
    b.apply(limit(null, 'HH', 55, T0));
    b.apply({ ...limit(null, 'H', 45, T0), key: 'other/point:X/limit_high' });
    const events = b.retire((key) => key.startsWith('other/'), at(5), 'no longer monitored: removed from the registry by a reload');
    expect(events).toMatchObject([{ kind: 'clear', alarm: { id: 'a1', status: 'CLEARED_UNACK', clearedAt: at(5), message: 'no longer monitored: removed from the registry by a reload' } }]);
    expect(b.activeAlarms().map((a) => a.id)).toEqual(['a2']);
  });
});
