import type { Reading } from '#libs/contracts/index.js';

/**
 * A reading's time is bounded by its arrival (docs/safety.md, time model): a point whose readings are stamped ahead
 * of `arrivedAt` (its clock running fast) has them moved back by their largest lead, keeping their order and
 * spacing; a point not ahead keeps its times. One point's clock never moves another point's readings. Returns the
 * same array when nothing was ahead.
 */
export function boundedByArrival(readings: readonly Reading[], arrivedAt: number): readonly Reading[] {
  let lead: Map<Reading['point'], number> | null = null;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    if (r.ts <= arrivedAt) continue;
    lead ??= new Map();
    lead.set(r.point, Math.max(lead.get(r.point) ?? 0, r.ts - arrivedAt));
  }
  if (lead === null) return readings;
  const by = lead;
  return readings.map((r) => {
    const ms = by.get(r.point);
    return ms === undefined ? r : { ...r, ts: r.ts - ms };
  });
}
