import { describe, expect, it } from 'vitest';
import type { AlarmEvent, Enterprise, NotifyPolicy, NotifyRoute, Roster } from '#libs/contracts/index.js';
import { anAlarm, anEnterprise } from '#libs/testing/builders.js';
import { decide } from './routing.js';
import { onDuty } from './roster.js';

const E = '91320594MA1WKTRP3E';
const enterprise: Enterprise = anEnterprise();
const person = (name: string, phone: string) => ({ name, phone, email: null });
const roster: Roster = {
  timeZone: 'Asia/Shanghai',
  shifts: [
    { recipient: person('张三 day', '+8613800000001'), from: '08:00', to: '20:00', days: null },
    { recipient: person('李四 night', '+8613800000002'), from: '20:00', to: '08:00', days: null },
  ],
};
const route = (r: Partial<NotifyRoute>): NotifyRoute => ({ level: 'enterprise', region: null, roster: null, channels: ['sms'], severities: ['critical', 'major'], conditions: null, on: ['raise'], ...r });
const policy = (routes: NotifyRoute[]): NotifyPolicy => ({ channels: [], routes, repeatWindowS: 600, perRecipientPerHour: 20, retryForS: 86_400 });
/** 2026-11-30 10:00 and 22:00 in Beijing. */
const DAY = Date.parse('2026-11-30T02:00:00Z');
const NIGHT = Date.parse('2026-11-30T14:00:00Z');

describe('roster', () => {
  it('finds the shift on duty in its time zone, overnight shifts included, and hands over at the boundary', () => {
    expect(onDuty(roster, DAY).map((r) => r.name)).toEqual(['张三 day']);
    expect(onDuty(roster, NIGHT).map((r) => r.name)).toEqual(['李四 night']);
  });

  it('at 08:00 sharp the day shift has it, at 07:59 the night shift still does', () => {
    expect(onDuty(roster, Date.parse('2026-11-30T00:00:00Z')).map((r) => r.name)).toEqual(['张三 day']);
    expect(onDuty(roster, Date.parse('2026-11-29T23:59:00Z')).map((r) => r.name)).toEqual(['李四 night']);
  });

  it('keeps weekday shifts to their days (an overnight shift counts for the day it started) and never answers no one', () => {
    const weekdays: Roster = {
      timeZone: 'Asia/Shanghai',
      shifts: [
        { recipient: person('周一晚 Monday night', '1'), from: '22:00', to: '06:00', days: [1] },
        { recipient: person('周末 weekend', '2'), from: '00:00', to: '00:00', days: [6, 7] },
      ],
    };
    // Monday 2026-11-30 23:00 and Tuesday 05:00 local: Monday's night shift; Tuesday 10:00: nobody, so the first.
    expect(onDuty(weekdays, Date.parse('2026-11-30T15:00:00Z')).map((r) => r.name)).toEqual(['周一晚 Monday night']);
    expect(onDuty(weekdays, Date.parse('2026-11-30T21:00:00Z')).map((r) => r.name)).toEqual(['周一晚 Monday night']);
    expect(onDuty(weekdays, Date.parse('2026-12-01T02:00:00Z')).map((r) => r.name)).toEqual(['周一晚 Monday night']);
    expect(onDuty(weekdays, Date.parse('2026-12-05T02:00:00Z')).map((r) => r.name)).toEqual(['周末 weekend']);
  });
});

describe('routing', () => {
  const hh = anAlarm({ enterpriseCode: E, severity: 'critical', level: 'HH', status: 'ACTIVE_UNACK' });
  const raise: AlarmEvent = { kind: 'raise', alarm: hh };

  it("sends a raised critical alarm to the enterprise's duty contacts on each channel of the route", () => {
    const out = decide(raise, policy([route({ channels: ['sms', 'dingtalk'] })]), enterprise, DAY);
    expect(out.map((d) => [d.channel, d.recipient.name, d.kind, d.level])).toEqual([
      ['sms', '王工', 'raise', 'enterprise'],
      ['dingtalk', '王工', 'raise', 'enterprise'],
    ]);
    expect(out[0]!.title).toContain('苏州示范化工有限公司');
    expect(out[0]!.params).toMatchObject({ level: 'HH', severity: 'critical', kind: 'raise' });
  });

  it('tells the county on duty of an escalation to the county it names, and nobody else', () => {
    const county = route({ level: 'county', region: '320594', roster, on: ['escalate'], channels: ['dingtalk'] });
    const city = route({ level: 'city', region: '320500', roster, on: ['escalate'], channels: ['sms'] });
    const otherCounty = route({ level: 'county', region: '370811', roster, on: ['escalate'] });
    const escalated: AlarmEvent = { kind: 'escalate', alarm: { ...hh, escalation: { level: 'county', steps: [{ level: 'county', regionCode: '320594', at: '2026-11-30T02:10:00Z' }] } } };
    const out = decide(escalated, policy([route({}), county, city, otherCounty]), enterprise, NIGHT);
    expect(out.map((d) => [d.channel, d.recipient.name, d.kind, d.level])).toEqual([['dingtalk', '李四 night', 'escalate', 'county']]);
    expect(out[0]!.title).toContain('逐级上报');
  });

  it('leaves out severities and conditions the route does not take, clears, and acknowledgements', () => {
    const p = policy([route({ severities: ['critical'], conditions: ['limit_high'] })]);
    expect(decide({ kind: 'raise', alarm: { ...hh, severity: 'major' } }, p, enterprise, DAY)).toEqual([]);
    expect(decide({ kind: 'raise', alarm: { ...hh, condition: 'no_data' } }, p, enterprise, DAY)).toEqual([]);
    expect(decide({ kind: 'clear', alarm: { ...hh, status: 'CLEARED_UNACK' } }, p, enterprise, DAY)).toEqual([]);
    expect(decide({ kind: 'ack', alarm: { ...hh, status: 'ACTIVE_ACK' } }, p, enterprise, DAY)).toEqual([]);
  });

  it('treats a rise into a notified severity (H → HH) as a raise, and a change within one as nothing', () => {
    const p = policy([route({ severities: ['critical'] })]);
    expect(decide({ kind: 'update', alarm: hh }, p, enterprise, DAY, { severity: 'major' })).toHaveLength(1);
    expect(decide({ kind: 'update', alarm: hh }, p, enterprise, DAY, { severity: 'critical' })).toEqual([]);
    // Falling back (HH → H) is no news to send.
    expect(decide({ kind: 'update', alarm: { ...hh, severity: 'major' } }, policy([route({})]), enterprise, DAY, { severity: 'critical' })).toEqual([]);
  });

  it("sends the monitor's own alarms (monitoring chain, stores) to every county and city route that takes them, never to an enterprise", () => {
    const chain = anAlarm({ enterpriseCode: 'system', originatorKind: 'system', originatorCode: 'chain-broker', condition: 'monitoring_chain', severity: 'critical', status: 'ACTIVE_UNACK', pointCode: null });
    const county = route({ level: 'county', region: '370811', roster, on: ['raise'], channels: ['dingtalk'], conditions: ['monitoring_chain', 'storage_unavailable'] });
    const out = decide({ kind: 'raise', alarm: chain }, policy([route({}), county]), undefined, DAY);
    expect(out.map((d) => [d.channel, d.level, d.recipient.name])).toEqual([['dingtalk', 'county', '张三 day']]);
  });
});
