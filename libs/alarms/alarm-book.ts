import { randomUUID } from 'node:crypto';
import type { Alarm, AlarmSeverity, LimitLevel, LimitTransition, Point } from '#libs/contracts/index.js';
import type { LimitState } from '#libs/rules/index.js';

export function severityOf(level: LimitLevel): AlarmSeverity {
  return level === 'HH' || level === 'LL' ? 'critical' : 'major';
}

function keyOf(enterpriseCode: string, pointCode: string, side: string): string {
  return `${enterpriseCode}/${pointCode}/${side}`;
}

/**
 * Keeps one alarm per point and side: raised on the first crossing, updated in place when its level
 * changes (H → HH), cleared when the rule reports the value back to normal.
 */
export class AlarmBook {
  private readonly active = new Map<string, Alarm>();

  constructor(
    activeAlarms: readonly Alarm[],
    private readonly newId: () => string = randomUUID,
  ) {
    for (const a of activeAlarms) this.active.set(keyOf(a.enterpriseCode, a.pointCode, a.side), a);
  }

  /** Returns the changed alarm, or null when the transition changes nothing. */
  apply(t: LimitTransition): Alarm | null {
    const key = keyOf(t.point.enterpriseCode, t.point.code, t.side);
    const existing = this.active.get(key);
    const at = new Date(t.ts).toISOString();
    if (t.to === null) {
      if (!existing) return null;
      this.active.delete(key);
      return {
        ...existing,
        status: existing.status === 'ACTIVE_ACK' ? 'CLEARED_ACK' : 'CLEARED_UNACK',
        value: t.value,
        updatedAt: at,
        clearedAt: at,
      };
    }
    const peakOf = (prev: number): number => (t.side === 'high' ? Math.max(prev, t.value) : Math.min(prev, t.value));
    const alarm: Alarm = existing
      ? {
          ...existing,
          type: t.to,
          severity: severityOf(t.to),
          value: t.value,
          peakValue: peakOf(existing.peakValue),
          threshold: t.threshold,
          updatedAt: at,
        }
      : {
          id: this.newId(),
          pointCode: t.point.code,
          enterpriseCode: t.point.enterpriseCode,
          gatewayCode: t.point.gatewayCode,
          hazardSourceCode: t.point.hazardSourceCode,
          side: t.side,
          type: t.to,
          severity: severityOf(t.to),
          status: 'ACTIVE_UNACK',
          value: t.value,
          peakValue: t.value,
          threshold: t.threshold,
          unit: t.point.unit,
          raisedAt: at,
          updatedAt: at,
          clearedAt: null,
        };
    this.active.set(key, alarm);
    return alarm;
  }

  get activeCount(): number {
    return this.active.size;
  }

  activeAlarms(): Alarm[] {
    return [...this.active.values()];
  }

  /** Rule state implied by the active alarms, so a restart neither re-raises nor forgets to clear them. */
  ruleState(findPoint: (enterpriseCode: string, pointCode: string) => Point | undefined): Map<Point, LimitState> {
    const states = new Map<Point, LimitState>();
    for (const a of this.active.values()) {
      const point = findPoint(a.enterpriseCode, a.pointCode);
      if (!point) continue;
      const prev = states.get(point) ?? { high: null, low: null };
      states.set(point, a.side === 'high' ? { ...prev, high: a.type as 'HH' | 'H' } : { ...prev, low: a.type as 'LL' | 'L' });
    }
    return states;
  }
}
