import { Observable, type OperatorFunction } from 'rxjs';
import type { LimitLevel, LimitTransition, Point, PointLimits, ReadingBatch } from '#libs/contracts/index.js';

export type HighLevel = Extract<LimitLevel, 'HH' | 'H'> | null;
export type LowLevel = Extract<LimitLevel, 'LL' | 'L'> | null;

export interface LimitState {
  readonly high: HighLevel;
  readonly low: LowLevel;
}

/**
 * High-side level with hysteresis: a level is entered at its limit and left only when the value falls
 * below limit − deadband, so a value hovering at a limit raises once.
 */
export function highLevel(current: HighLevel, value: number, limits: PointLimits, deadband: number): HighLevel {
  const { h, hh } = limits;
  if (hh !== null && (value >= hh || (current === 'HH' && value > hh - deadband))) return 'HH';
  if (h !== null && (value >= h || (current !== null && value > h - deadband))) return 'H';
  return null;
}

export function lowLevel(current: LowLevel, value: number, limits: PointLimits, deadband: number): LowLevel {
  const { l, ll } = limits;
  if (ll !== null && (value <= ll || (current === 'LL' && value < ll + deadband))) return 'LL';
  if (l !== null && (value <= l || (current !== null && value < l + deadband))) return 'L';
  return null;
}

function limitOf(level: LimitLevel, limits: PointLimits): number {
  const v = level === 'HH' ? limits.hh : level === 'H' ? limits.h : level === 'L' ? limits.l : limits.ll;
  // A level is only ever reached through a configured limit, so v is set.
  return v ?? NaN;
}

const NORMAL: LimitState = { high: null, low: null };

/**
 * LL/L/H/HH limit alarms with deadband. Input: batches of readings; output: one transition per change of a
 * point's level on either side. Bad-quality and non-finite values leave the state untouched (sensor health is
 * a rule of its own). `states` holds each point's level and may come seeded, e.g. from alarms still active before
 * a restart; the caller owns it and may re-key it between batches when the registry is reloaded.
 */
export function limitAlarms(states: Map<Point, LimitState> = new Map()): OperatorFunction<ReadingBatch, LimitTransition> {
  return (source) =>
    new Observable<LimitTransition>((subscriber) => {
      return source.subscribe({
        next(batch) {
          for (let i = 0; i < batch.length; i++) {
            const reading = batch[i]!;
            const { point, value } = reading;
            if (reading.quality !== 'good' || !Number.isFinite(value)) continue;
            const before = states.get(point) ?? NORMAL;
            const high = highLevel(before.high, value, point.limits, point.deadband);
            const low = lowLevel(before.low, value, point.limits, point.deadband);
            if (high === before.high && low === before.low) continue;
            states.set(point, high === null && low === null ? NORMAL : { high, low });
            if (high !== before.high) {
              const threshold = limitOf((high ?? before.high)!, point.limits);
              subscriber.next({ point, side: 'high', from: before.high, to: high, value, threshold, ts: reading.ts });
            }
            if (low !== before.low) {
              const threshold = limitOf((low ?? before.low)!, point.limits);
              subscriber.next({ point, side: 'low', from: before.low, to: low, value, threshold, ts: reading.ts });
            }
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * After a registry reload: moves each point's state to the point's new version (found by `find`), so levels,
 * and with them the alarms they stand for, survive; the next reading is judged against the new limits.
 * States of points no longer registered are dropped.
 */
export function rekeyLimitStates(states: Map<Point, LimitState>, find: (old: Point) => Point | undefined): void {
  const moved: [Point, LimitState][] = [];
  for (const [point, state] of states) {
    const next = find(point);
    if (next) moved.push([next, state]);
  }
  states.clear();
  for (const [point, state] of moved) states.set(point, state);
}
