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
 * One side's level with on- and off-delay. A move away from the current level (up: raise or escalate; down:
 * de-escalate or clear) takes effect once the value has stayed on that side of the current level for the delay,
 * measured in event time by the readings or on the server clock since the reading that began it arrived,
 * whichever confirms first: a gateway that reports by exception (one HH value, then silence) is confirmed by the
 * clock (`confirm`). The level applied is the one the latest reading calls for.
 */
export class DelayedLevel<L extends LimitLevel> {
  level: L | null = null;
  /** Direction of a pending move (1 up, -1 down, 0 none), its event time and server time, and the level it aims at. */
  private pendingDir = 0;
  private pendingSince = 0;
  private pendingArrival = 0;
  private pendingLevel: L | null = null;

  /** Returns true when `level` changed. */
  step(desired: L | null, ts: number, arrival: number, onDelayMs: number, offDelayMs: number): boolean {
    const dir = Math.sign(rankOf(desired) - rankOf(this.level));
    if (dir === 0) {
      this.pendingDir = 0;
      return false;
    }
    if (dir !== this.pendingDir) {
      this.pendingDir = dir;
      this.pendingSince = ts;
      this.pendingArrival = arrival;
    }
    this.pendingLevel = desired;
    const delay = dir > 0 ? onDelayMs : offDelayMs;
    if (ts - this.pendingSince < delay && arrival - this.pendingArrival < delay) return false;
    this.apply();
    return true;
  }

  /** Whether a move is waiting for its delay. */
  get pending(): boolean {
    return this.pendingDir !== 0;
  }

  /** The clock: applies a pending move whose delay has passed on the server clock. Returns true when `level` changed. */
  confirm(now: number, onDelayMs: number, offDelayMs: number): boolean {
    if (this.pendingDir === 0 || now - this.pendingArrival < (this.pendingDir > 0 ? onDelayMs : offDelayMs)) return false;
    this.apply();
    return true;
  }

  /** Forgets a pending move (its times belong to a clock that was reset). */
  restart(): void {
    this.pendingDir = 0;
  }

  private apply(): void {
    this.level = this.pendingLevel;
    this.pendingDir = 0;
  }
}
