import { durationS, type Scenario } from '../scenario.js';
import { seededRandom } from '../signals.js';
import type { DayEnterprise } from './day-registry.js';

/** A gateway cut off stays away this long before it reconnects (a realistic outage, seen in data completeness). */
export const OFFLINE_HOLD_S = 600;
/** Quiet time at an enterprise after a staged hazard before the next one there (its alarms clear, operators act). */
const QUIET_S = 900;
/** After a hazard ends its consequences still count as its own for this long (e.g. a trend alarm as the value falls back). */
const SETTLE_S = 300;
/** Nothing is staged in the first minutes: the rules and data-quality counters settle first. */
const WARM_UP_S = 600;

/** One hazard staged in the day: a scenario played at one enterprise (a copy of the scenario's own), from `startS`. */
export interface StagedHazard {
  readonly scenario: Scenario;
  /** Seconds after the day's start. */
  readonly startS: number;
  /** When its checks end (`durationS` after the start), and when its effects are over (the gateway back, alarms cleared). */
  readonly judgedUntilS: number;
  readonly settledS: number;
}

/** Seconds a staged scenario keeps its enterprise busy: its run, a cut gateway's absence, then quiet. */
function busyS(s: Scenario): number {
  const drop = s.steps.find((x) => x.status === 'drop');
  return Math.max(durationS(s) + 1, drop === undefined ? 0 : drop.at + OFFLINE_HOLD_S) + SETTLE_S;
}

/**
 * The hazards of a standard day (pure, deterministic for a seed): about one per enterprise per day, every scenario
 * at least once, the rest drawn by `dayWeight`; each at a random copy of the scenario's demo enterprise and a
 * random time, never overlapping another at the same enterprise. A scenario with no copy of its enterprise in the
 * day is left out.
 */
export function planDay(enterprises: readonly DayEnterprise[], scenarios: readonly Scenario[], hours: number, seed: number): StagedHazard[] {
  const random = seededRandom(seed ^ 0x5eed);
  const dayS = hours * 3600;
  const playable = scenarios.filter((s) => enterprises.some((e) => e.template === s.enterprise));
  const total = Math.max(playable.length, Math.round((enterprises.length * hours) / 24));
  const picks: Scenario[] = [...playable];
  const weight = playable.reduce((n, s) => n + s.dayWeight, 0);
  while (picks.length < total && weight > 0) {
    let x = random() * weight;
    picks.push(playable.find((s) => (x -= s.dayWeight) < 0) ?? playable[playable.length - 1]!);
  }
  const busy = new Map<string, [number, number][]>();
  const staged: StagedHazard[] = [];
  for (const s of picks) {
    const candidates = enterprises.filter((e) => e.template === s.enterprise);
    const span = busyS(s);
    for (let attempt = 0; attempt < 50; attempt++) {
      const e = candidates[Math.floor(random() * candidates.length)]!;
      const latest = dayS - span - 60;
      if (latest <= WARM_UP_S) break;
      const startS = Math.floor(WARM_UP_S + random() * (latest - WARM_UP_S));
      const taken = busy.get(e.code) ?? [];
      if (taken.some(([a, b]) => startS < b + QUIET_S && a < startS + span + QUIET_S)) continue;
      taken.push([startS, startS + span]);
      busy.set(e.code, taken);
      staged.push({ scenario: { ...s, enterprise: e.code }, startS, judgedUntilS: startS + durationS(s) + 1, settledS: startS + span });
      break;
    }
  }
  return staged.sort((a, b) => a.startS - b.startS);
}
