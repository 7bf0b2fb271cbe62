import { randomUUID } from 'node:crypto';
import type { Alarm, AlarmEvent, ConditionChange, ConditionLevel } from '#libs/contracts/index.js';

/**
 * Keeps one alarm per condition key: raised on the first change, updated in place while active (level, value,
 * peak, flags), cleared when the rule core reports the condition gone.
 */
export class AlarmBook {
  private readonly active = new Map<string, Alarm>();

  constructor(
    activeAlarms: readonly Alarm[],
    private readonly newId: () => string = randomUUID,
  ) {
    for (const a of activeAlarms) this.active.set(a.key, a);
  }

  /** The alarm event a condition change makes, or null when it changes nothing (e.g. a clear of no alarm). */
  apply(c: ConditionChange): AlarmEvent | null {
    const existing = this.active.get(c.key);
    const at = new Date(c.ts).toISOString();
    if (c.to === null) {
      if (!existing) return null;
      this.active.delete(c.key);
      return {
        kind: 'clear',
        alarm: {
          ...existing,
          status: existing.status === 'ACTIVE_ACK' ? 'CLEARED_ACK' : 'CLEARED_UNACK',
          value: c.value ?? existing.value,
          message: c.message,
          chattering: c.chattering,
          updatedAt: at,
          clearedAt: at,
        },
      };
    }
    if (existing) {
      const alarm: Alarm = {
        ...existing,
        level: c.to,
        severity: c.severity,
        value: c.value,
        peakValue: peakOf(c, existing.peakValue),
        threshold: c.threshold ?? existing.threshold,
        message: c.message,
        chattering: c.chattering,
        floodKey: existing.floodKey ?? c.floodKey,
        updatedAt: at,
      };
      this.active.set(c.key, alarm);
      return { kind: 'update', alarm };
    }
    const o = c.originator;
    const alarm: Alarm = {
      id: this.newId(),
      key: c.key,
      originatorKind: o.kind,
      originatorCode: o.code,
      enterpriseCode: o.enterpriseCode,
      gatewayCode: o.gatewayCode,
      hazardSourceCode: o.hazardSourceCode,
      pointCode: o.kind === 'point' ? o.code : null,
      condition: c.condition,
      name: c.name,
      level: c.to,
      severity: c.severity,
      status: 'ACTIVE_UNACK',
      value: c.value,
      peakValue: c.value,
      threshold: c.threshold,
      unit: c.unit,
      message: c.message,
      chattering: c.chattering,
      floodKey: c.floodKey,
      raisedAt: at,
      updatedAt: at,
      clearedAt: null,
    };
    this.active.set(c.key, alarm);
    return { kind: 'raise', alarm };
  }

  get activeCount(): number {
    return this.active.size;
  }

  activeAlarms(): Alarm[] {
    return [...this.active.values()];
  }

  /** The conditions in force, for the rule core to continue from after a restart. */
  conditions(): { key: string; level: ConditionLevel }[] {
    return [...this.active.values()].map((a) => ({ key: a.key, level: a.level }));
  }
}

function peakOf(c: ConditionChange, prev: number | null): number | null {
  if (c.value === null) return prev;
  if (prev === null) return c.value;
  return c.condition === 'limit_low' ? Math.min(prev, c.value) : Math.max(prev, c.value);
}
