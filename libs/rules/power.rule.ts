import type { ConditionChange, ConditionLevel, ConditionType, ElectricitySetting, Originator, Point, PowerInterval } from '#libs/contracts/index.js';
import { change, conditionKey, num } from './condition.js';

export const INTERVAL_MS = 900_000;
const SLOTS = 96;
const DAY_MS = 86_400_000;
/** Once a slot has this many days, its baseline moves as an exponential average over about a week. */
const BASELINE_DAYS = 7;

class Accumulator {
  sum = 0;
  count = 0;
  /** The mean of the last interval with readings, carried into intervals without any. */
  lastMean = 0;
}

/**
 * Electricity monitoring of one enterprise: the 15-minute mean of each `power` point, summed, judged against
 * the declared capacity, the declared production state, and the enterprise's own usual value at that time of day.
 */
export class PowerProfile {
  private start: number | null = null;
  private readonly acc = new Map<Point, Accumulator>();
  private readonly baseline = new Float64Array(SLOTS);
  private readonly days = new Uint16Array(SLOTS);
  private readonly originator: Originator;

  /** `active` is the engine's map of conditions in force, where this profile's conditions are kept too. */
  constructor(
    private setting: ElectricitySetting,
    private active: Map<string, ConditionLevel>,
  ) {
    const e = setting.enterpriseCode;
    this.originator = { kind: 'enterprise', enterpriseCode: e, code: e, hazardSourceCode: null, gatewayCode: null };
  }

  /** The settings and power points of the enterprise (again after a reload), keeping the running interval's sums. */
  reconfigure(setting: ElectricitySetting, points: readonly Point[], active: Map<string, ConditionLevel>): this {
    this.setting = setting;
    this.active = active;
    const old = new Map([...this.acc].map(([p, a]) => [p.code, a]));
    this.acc.clear();
    for (const p of points) this.acc.set(p, old.get(p.code) ?? new Accumulator());
    return this;
  }

  add(p: Point, kw: number, ts: number, emit: (c: ConditionChange) => void, onInterval: (i: PowerInterval) => void): void {
    const a = this.acc.get(p);
    if (!a) return;
    const interval = ts - (ts % INTERVAL_MS);
    if (this.start === null) this.start = interval;
    if (interval < this.start) return;
    if (interval > this.start) {
      this.close(emit, onInterval);
      this.start = interval;
    }
    a.sum += kw;
    a.count++;
  }

  closeIfDue(now: number, graceMs: number, emit: (c: ConditionChange) => void, onInterval: (i: PowerInterval) => void): void {
    if (this.start === null || now < this.start + INTERVAL_MS + graceMs) return;
    this.close(emit, onInterval);
    this.start = null;
  }

  private close(emit: (c: ConditionChange) => void, onInterval: (i: PowerInterval) => void): void {
    const start = this.start!;
    let kw = 0;
    for (const a of this.acc.values()) {
      if (a.count > 0) a.lastMean = a.sum / a.count;
      kw += a.lastMean;
      a.sum = 0;
      a.count = 0;
    }
    const s = this.setting;
    const slot = Math.floor((((start + s.utcOffsetMin * 60_000) % DAY_MS) + DAY_MS) % DAY_MS / INTERVAL_MS);
    const learned = this.days[slot]! >= s.baselineMinDays;
    const base = this.baseline[slot]!;
    onInterval({ enterpriseCode: s.enterpriseCode, start, kw, baselineKw: learned ? base : null });
    const ts = start + INTERVAL_MS;
    const at = `${clock(start + s.utcOffsetMin * 60_000)}–${clock(ts + s.utcOffsetMin * 60_000)}`;
    const cap = s.capacityKw;
    this.judge('power_over_capacity', cap !== null && kw > cap, ts, kw, cap, 'major', emit, `${num(kw)} kW mean over ${at} exceeds the declared capacity ${cap} kW`, `${num(kw)} kW over ${at}, within capacity`);
    this.judge('power_while_stopped', s.declaredState === 'stopped' && kw > s.stoppedKw, ts, kw, s.stoppedKw, 'major', emit, `${num(kw)} kW over ${at} while production is declared stopped (above ${s.stoppedKw} kW): production running while declared stopped?`, `${num(kw)} kW over ${at}, consistent with the declared state`);
    // Deviation from the usual value, measured against at least 5 % of capacity (or 1 kW) so a near-zero usual value does not flag every blip.
    const floor = Math.max(base, cap !== null ? cap * 0.05 : 1);
    const abnormal = learned && Math.abs(kw - base) > s.baselineTolerance * floor;
    this.judge('power_abnormal', abnormal, ts, kw, learned ? base : null, 'warning', emit, `${num(kw)} kW over ${at} against a usual ${num(base)} kW at this time of day (±${Math.round(s.baselineTolerance * 100)} %)`, `${num(kw)} kW over ${at}, back near the usual ${num(base)} kW`);
    const n = this.days[slot]!;
    this.baseline[slot] = n === 0 ? kw : base + (kw - base) / Math.min(n + 1, BASELINE_DAYS);
    if (n < 65535) this.days[slot] = n + 1;
  }

  private judge(condition: ConditionType, on: boolean, ts: number, kw: number, threshold: number | null, severity: 'major' | 'warning', emit: (c: ConditionChange) => void, raise: string, clear: string): void {
    const key = conditionKey(this.originator, condition, null);
    const active = this.active.has(key);
    if (on === active) return;
    if (on) this.active.set(key, 'ACTIVE');
    else this.active.delete(key);
    emit(change({ originator: this.originator, condition, from: on ? null : 'ACTIVE', to: on ? 'ACTIVE' : null, severity, value: kw, threshold, unit: 'kW', ts, message: on ? raise : clear }));
  }
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
