import type { LimitLevel, PointLimits } from '#libs/contracts/index.js';

export type HighLevel = Extract<LimitLevel, 'HH' | 'H'> | null;
export type LowLevel = Extract<LimitLevel, 'LL' | 'L'> | null;

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

/** 0 normal, 1 first alarm (H/L), 2 second alarm (HH/LL). */
export function rankOf(level: LimitLevel | null): 0 | 1 | 2 {
  return level === null ? 0 : level === 'HH' || level === 'LL' ? 2 : 1;
}

export function limitOf(level: LimitLevel, limits: PointLimits): number {
  const v = level === 'HH' ? limits.hh : level === 'H' ? limits.h : level === 'L' ? limits.l : limits.ll;
  // A level is only ever reached through a configured limit, so v is set.
  return v ?? NaN;
}

/**
 * One side's level with on- and off-delay, in event time. A move away from the current level (up: raise or
 * escalate; down: de-escalate or clear) takes effect once the value has stayed on that side of the current level
 * for the delay, at the first reading that shows it; the level applied is the one the latest reading calls for.
 */
export class DelayedLevel<L extends LimitLevel> {
  level: L | null = null;
  /** Direction of a pending move (1 up, -1 down, 0 none) and the event time it began. */
  private pendingDir = 0;
  private pendingSince = 0;

  /** Returns true when `level` changed. */
  step(desired: L | null, ts: number, onDelayMs: number, offDelayMs: number): boolean {
    const dir = Math.sign(rankOf(desired) - rankOf(this.level));
    if (dir === 0) {
      this.pendingDir = 0;
      return false;
    }
    if (dir !== this.pendingDir) {
      this.pendingDir = dir;
      this.pendingSince = ts;
    }
    if (ts - this.pendingSince < (dir > 0 ? onDelayMs : offDelayMs)) return false;
    this.level = desired;
    this.pendingDir = 0;
    return true;
  }
}
