import type { ConditionChange } from '#libs/contracts/index.js';
import { change } from './condition.js';
import { TimeWindow } from './time-window.js';

export interface FloodSettings {
  /** More than this many raises per enterprise within `windowMs` is a flood (ISA-18.2: > 10 in 10 min). */
  readonly maxRaises: number;
  readonly windowMs: number;
  /** The flood ends when fewer raises than this remain in the window. */
  readonly endBelow: number;
}

export const ISA_FLOOD: FloodSettings = { maxRaises: 10, windowMs: 600_000, endBelow: 5 };

class FloodState {
  readonly raises: TimeWindow;
  floodKey: string | null = null;
  grouped = 0;
  constructor(windowMs: number) {
    this.raises = new TimeWindow(windowMs);
  }
}

/**
 * Flood mode per enterprise: past 10 raises in 10 minutes (server clock), one `alarm_flood` alarm is raised and every further
 * raise still goes out, marked with the flood's key so screens group it under the flood. The flood clears when
 * fewer than 5 raises remain in the window.
 */
export class FloodGuard {
  private readonly states = new Map<string, FloodState>();

  constructor(private readonly settings: FloodSettings = ISA_FLOOD) {}

  /** `now` is the server time of the change: the flood window runs on the server clock. */
  pass(c: ConditionChange, now: number, emit: (c: ConditionChange) => void): void {
    if (c.from !== null || c.to === null || c.condition === 'alarm_flood') {
      emit(c);
      return;
    }
    const e = c.originator.enterpriseCode;
    let st = this.states.get(e);
    if (!st) {
      st = new FloodState(this.settings.windowMs);
      this.states.set(e, st);
    }
    st.raises.push(now);
    const raises = st.raises.expire(now);
    if (st.floodKey === null && raises > this.settings.maxRaises) {
      const flood = change({
        originator: { kind: 'enterprise', enterpriseCode: e, code: e, hazardSourceCode: null, gatewayCode: null },
        condition: 'alarm_flood',
        from: null,
        to: 'ACTIVE',
        severity: 'major',
        value: raises,
        threshold: this.settings.maxRaises,
        ts: c.ts,
        message: `alarm flood: ${raises} alarms in ${this.settings.windowMs / 60_000} min; further alarms are grouped under this one`,
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
      const raises = st.raises.expire(now);
      if (st.floodKey !== null && raises < this.settings.endBelow) {
        emit(
          change({
            originator: { kind: 'enterprise', enterpriseCode: e, code: e, hazardSourceCode: null, gatewayCode: null },
            condition: 'alarm_flood',
            from: 'ACTIVE',
            to: null,
            severity: 'major',
            value: raises,
            threshold: this.settings.maxRaises,
            ts: now,
            message: `alarm flood over: ${st.grouped} alarms were grouped under it`,
          }),
        );
        st.floodKey = null;
      }
      if (st.floodKey === null && raises === 0) this.states.delete(e);
    }
  }

  /** After a restart: an enterprise whose flood alarm is still active stays in flood mode. */
  restore(enterpriseCode: string, floodKey: string): void {
    const st = new FloodState(this.settings.windowMs);
    st.floodKey = floodKey;
    this.states.set(enterpriseCode, st);
  }

}
