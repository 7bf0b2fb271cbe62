import { hashString, seededRandom } from '../signals.js';

/** What the duty operator does with one alarm: seconds after it is raised to acknowledge it, and after it has cleared to dispose of it. */
export interface OperatorResponse {
  readonly ackAfterS: number;
  readonly disposeAfterS: number;
}

/**
 * The duty operator of a standard day (pure, deterministic for the alarm and seed): seven in ten alarms
 * acknowledged within 30 s–3 min, a quarter within 3–8 min, one in twenty only after 12–20 min (late enough for
 * the escalation to the county); disposal (消警) 2–10 min after the alarm has cleared.
 */
export function operatorResponse(alarmKey: string, detectedAt: string, seed: number): OperatorResponse {
  const random = seededRandom(seed ^ hashString(`${alarmKey}@${detectedAt}`));
  const x = random();
  const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
  const ackAfterS = x < 0.7 ? between(30, 180) : x < 0.95 ? between(180, 480) : between(720, 1200);
  return { ackAfterS, disposeAfterS: between(120, 600) };
}
