import { describe, expect, it } from 'vitest';
import { anAlarm } from '#libs/testing/builders.js';
import { alarmReport } from './reports.js';

const E = '91320594MA1WKTRP3E';
const T0 = Date.parse('2026-11-25T00:00:00Z');
const iso = (min: number): string => new Date(T0 + min * 60_000).toISOString();

describe('supervisors’ alarm report', () => {
  it('counts as chattering every alarm that chattered, also once its mark is gone', () => {
    const now = anAlarm({ id: 'n', chattering: true, chatteredAt: iso(1) }, iso(0));
    const past = anAlarm({ id: 'p', chattering: false, chatteredAt: iso(2), clearedAt: iso(9) }, iso(1));
    const never = anAlarm({ id: 'x', chattering: false, chatteredAt: null }, iso(2));
    const stored = anAlarm({ id: 'o', chattering: false }, iso(3));
    const r = alarmReport([now, past, never, stored], [], { from: T0, to: T0 + 3_600_000, utcOffsetMin: 480, now: T0 + 3_600_000 });
    expect(r.isa.chattering).toBe(2);
  });

  it('counts per enterprise per local day, times to acknowledge and dispose, escalations, offline hours and ISA figures', () => {
    const acked = anAlarm({ id: 'a', acknowledged: { by: 'w', at: iso(4) }, disposal: { cause: 'c', action: 'a', handler: 'w', at: iso(20) }, clearedAt: iso(30), closedAt: iso(30), status: 'CLEARED_ACK' }, iso(0));
    const escalated = anAlarm({ id: 'b', escalation: { level: 'county', steps: [{ level: 'county', regionCode: '320594', at: iso(25) }] } }, iso(15));
    const late = anAlarm({ id: 'c', severity: 'minor', condition: 'no_data', acknowledged: { by: 'w', at: iso(16 * 60 + 8) } }, iso(16 * 60 + 2));
    const offline = anAlarm({ id: 'd', condition: 'gateway_offline', originatorKind: 'gateway', severity: 'major', clearedAt: iso(150) }, iso(30));
    const stale = anAlarm({ id: 'e', enterpriseCode: '91370800MA3CD7LN28' }, iso(-2 * 24 * 60));
    const r = alarmReport([acked, escalated, late, offline], [escalated, late, stale], { from: T0, to: T0 + 24 * 3_600_000, utcOffsetMin: 480, now: T0 + 20 * 3_600_000 });
    expect(r.enterprises).toEqual([
      {
        enterpriseCode: E,
        raised: 4,
        // 16:02 UTC is 00:02 the next day in China.
        perDay: { '2026-11-25': 3, '2026-11-26': 1 },
        bySeverity: { critical: 2, major: 1, minor: 1, warning: 0 },
        meanMinutesToAcknowledge: 5,
        meanMinutesToDispose: 20,
        escalated: 1,
        overdue: 1,
        gatewayOfflineHours: 2,
      },
    ]);
    expect(r.isa).toEqual({
      alarmsPer10MinAverage: 0.03,
      alarmsPer10MinPeak: 1,
      floodIntervalShare: 0,
      floods: 0,
      chattering: 0,
      stale: 1,
      severityMix: { critical: 50, major: 25, minor: 25, warning: 0 },
    });
  });
});
