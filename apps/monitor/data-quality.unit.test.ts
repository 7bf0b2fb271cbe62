import { describe, expect, it } from 'vitest';
import type { Point } from '#libs/contracts/index.js';
import type { Registry } from '#libs/registry/index.js';
import { anAlarm, aPoint, aReading } from '#libs/testing/builders.js';
import { DataQualityBoard } from './data-quality.js';

const E = '91320594MA1WKTRP3E';
const points: Point[] = [
  aPoint({ code: 'P1', enterpriseCode: E, gatewayCode: 'GW01', samplePeriodS: 10 }),
  aPoint({ code: 'P2', enterpriseCode: E, gatewayCode: 'GW01', samplePeriodS: 10 }),
  aPoint({ code: 'P3', enterpriseCode: E, gatewayCode: 'GW02', samplePeriodS: 60 }),
  aPoint({ code: 'Q1', enterpriseCode: 'OTHER', gatewayCode: 'GW01', samplePeriodS: 30 }),
];
const registry = {
  allPoints: () => points,
  queryPoints: (f: { enterpriseCode?: string }) => ({ total: 0, items: points.filter((p) => p.enterpriseCode === f.enterpriseCode) }),
} as unknown as Registry;
const T0 = Date.parse('2026-11-30T08:00:00Z');

describe('data quality board', () => {
  it('counts completeness against the periods, timeliness by arrival, and online points from the active alarms', () => {
    const board = new DataQualityBoard(() => registry, 60, T0);
    // 10 minutes: P1 every 10 s on time, P2 every 20 s arriving 30 s late, P3 never.
    for (let t = T0; t < T0 + 600_000; t += 10_000) {
      board.record([aReading(points[0]!, 1, t)], t + 100);
      if ((t - T0) % 20_000 === 0) board.record([aReading(points[1]!, 1, t)], t + 30_000);
    }
    const now = T0 + 600_000;
    const silent = [anAlarm({ enterpriseCode: E, condition: 'no_data', pointCode: 'P3' })];
    const [q] = board.report(now, silent, new Set([E]));
    // Expected: (6 + 6 + 1) a minute × 10 minutes = 130; received 60 + 30 = 90.
    expect(q).toEqual({ enterpriseCode: E, windowMin: 10, points: 3, expected: 130, received: 90, completeness: 90 / 130, timeliness: 60 / 90, online: 1 - 1 / 3 });
    const other = board.report(now, [], new Set(['OTHER']))[0]!;
    expect(other).toMatchObject({ received: 0, completeness: 0, timeliness: null, online: 1 });
    // A gateway offline silences its points.
    const offline = [anAlarm({ enterpriseCode: E, condition: 'gateway_offline', gatewayCode: 'GW01', pointCode: null })];
    expect(board.report(now, offline, new Set([E]))[0]!.online).toBeCloseTo(1 / 3);
  });

  it('forgets what is older than the window, also across a long gap', () => {
    const board = new DataQualityBoard(() => registry, 10, T0, 1000);
    for (let s = 0; s < 10; s++) board.record([aReading(points[0]!, 1, T0 + s * 1000)], T0 + s * 1000);
    expect(board.report(T0 + 9_999, [], new Set([E]))[0]!.received).toBe(10);
    expect(board.report(T0 + 14_999, [], new Set([E]))[0]!.received).toBe(5);
    expect(board.report(T0 + 3_600_000, [], new Set([E]))[0]!.received).toBe(0);
    board.record([aReading(points[0]!, 1, T0 + 3_600_000)], T0 + 3_600_000);
    expect(board.report(T0 + 3_600_000, [], new Set([E]))[0]!.received).toBe(1);
  });
});
