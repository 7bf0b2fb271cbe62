import type { ConditionChange } from '#libs/contracts/index.js';
import { change } from './condition.js';

export interface FloodSettings {
  /** More than this many raises per enterprise within `windowMs` is a flood (ISA-18.2: > 10 in 10 min). */
  readonly maxRaises: number;
  readonly windowMs: number;
  /** The flood ends when fewer raises than this remain in the window. */
  readonly endBelow: number;
}

export const ISA_FLOOD: FloodSettings = { maxRaises: 10, windowMs: 600_000, endBelow: 5 };

class FloodState {
  readonly times: number[] = [];
  floodKey: string | null = null;
  grouped = 0;
  constructor(readonly enterpriseCode: string) {}
}

/**
 * Flood mode per enterprise: past 10 raises in 10 minutes, one `alarm_flood` alarm is raised and every further
 * raise still goes out, marked with the flood's key so screens group it under the flood. The flood clears when
 * fewer than 5 raises remain in the window.
 */
export class FloodGuard {
  private readonly states = new Map<string, FloodState>();

  constructor(private readonly settings: FloodSettings = ISA_FLOOD) {}

  pass(c: ConditionChange, emit: (c: ConditionChange) => void): void {
    if (c.from !== null || c.to === null || c.condition === 'alarm_flood') {
      emit(c);
      return;
    }
    const e = c.originator.enterpriseCode;
    let st = this.states.get(e);
    if (!st) {
      st = new FloodState(e);
      this.states.set(e, st);
    }
    st.times.push(c.ts);
    this.expire(st, c.ts);
    if (st.floodKey === null && st.times.length > this.settings.maxRaises) {
      const flood = change({
        originator: { kind: 'enterprise', enterpriseCode: e, code: e, hazardSourceCode: null, gatewayCode: null },
        condition: 'alarm_flood',
        from: null,
        to: 'ACTIVE',
        severity: 'major',
        value: st.times.length,
        threshold: this.settings.maxRaises,
        ts: c.ts,
        message: `alarm flood: ${st.times.length} alarms in ${this.settings.windowMs / 60_000} min; further alarms are grouped under this one`,
      });
      st.floodKey = flood.key;
      st.grouped = 0;
      emit(flood);
    }
    if (st.floodKey !== null) {
      st.grouped++;
      emit({ ...c, floodKey: st.floodKey });
      return;
    }
    emit(c);
  }

  tick(now: number, emit: (c: ConditionChange) => void): void {
    for (const [e, st] of this.states) {
      this.expire(st, now);
      if (st.floodKey !== null && st.times.length < this.settings.endBelow) {
        emit(
          change({
            originator: { kind: 'enterprise', enterpriseCode: e, code: e, hazardSourceCode: null, gatewayCode: null },
            condition: 'alarm_flood',
            from: 'ACTIVE',
            to: null,
            severity: 'major',
            value: st.times.length,
            threshold: this.settings.maxRaises,
            ts: now,
            message: `alarm flood over: ${st.grouped} alarms were grouped under it`,
          }),
        );
        st.floodKey = null;
      }
      if (st.floodKey === null && st.times.length === 0) this.states.delete(e);
    }
  }

  /** After a restart: an enterprise whose flood alarm is still active stays in flood mode. */
  restore(enterpriseCode: string, floodKey: string): void {
    const st = new FloodState(enterpriseCode);
    st.floodKey = floodKey;
    this.states.set(enterpriseCode, st);
  }

  private expire(st: FloodState, now: number): void {
    const from = now - this.settings.windowMs;
    while (st.times.length > 0 && st.times[0]! < from) st.times.shift();
  }
}
