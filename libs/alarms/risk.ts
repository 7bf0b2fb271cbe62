import type { Alarm, ConditionType, HazardSource, RiskAssessment, RiskColour, RiskWeights } from '#libs/contracts/index.js';

const FAULTS: ReadonlySet<ConditionType> = new Set(['bad_quality', 'out_of_range', 'sensor_stuck', 'no_data']);

export interface RiskInput {
  readonly enterpriseCode: string;
  readonly hazardSources: readonly HazardSource[];
  /** Active alarms of the enterprise. */
  readonly alarms: readonly Alarm[];
  /** Gateways whose points belong to each hazard source, by hazard source code. */
  readonly gatewaysOf: ReadonlyMap<string, ReadonlySet<string>>;
  /** Epoch ms, for how long acknowledgements are overdue. */
  readonly now: number;
}

export function colourOf(score: number, t: RiskWeights['thresholds']): RiskColour {
  return score >= t.red ? 'red' : score >= t.orange ? 'orange' : score >= t.yellow ? 'yellow' : 'blue';
}

const COLOUR_RANK: Record<RiskColour, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };

/**
 * Four-colour risk (四色) of each hazard source of one enterprise and of the enterprise: inherent grade plus live
 * state (active alarms by severity, sensor faults, offline gateways, overdue acknowledgements; alarms of points out
 * of service for maintenance excluded), each with its
 * points and a reason an operator reads. The enterprise takes its worst hazard source plus what belongs to no
 * hazard source (e.g. its own offline gateway), and never shows better than its worst hazard source.
 */
export function assessRisk(given: RiskInput, w: RiskWeights): { hazardSources: RiskAssessment[]; enterprise: RiskAssessment } {
  // Alarms of points out of service for maintenance are known and expected: they do not colour the map.
  const input = { ...given, alarms: given.alarms.filter((a) => a.outOfService === null) };
  const offline = new Set(input.alarms.filter((a) => a.condition === 'gateway_offline').map((a) => a.originatorCode));
  const sources = input.hazardSources.map((hs) => {
    const reasons: { points: number; reason: string }[] = [];
    const grade = hs.grade === null ? 'ungraded' : (String(hs.grade) as '1' | '2' | '3' | '4');
    reasons.push({ points: w.grade[grade], reason: hs.grade === null ? 'ungraded site' : `inherent grade ${hs.grade} (GB 18218-2018)` });
    const mine = input.alarms.filter((a) => a.hazardSourceCode === hs.code && a.condition !== 'gateway_offline');
    add(reasons, mine, w, input.now);
    const gateways = [...(input.gatewaysOf.get(hs.code) ?? [])].filter((g) => offline.has(g));
    if (gateways.length > 0) reasons.push({ points: w.gatewayOffline, reason: `gateway ${gateways.join(', ')} offline: monitoring blind` });
    return finish(input.enterpriseCode, hs.code, reasons, w);
  });
  const worst = sources.reduce<RiskAssessment | null>((a, b) => (a === null || b.score > a.score ? b : a), null);
  const reasons: { points: number; reason: string }[] = worst ? [{ points: worst.score, reason: `worst hazard source ${worst.hazardSourceCode} (${worst.colour})` }] : [];
  const unattached = input.alarms.filter((a) => a.hazardSourceCode === null && a.condition !== 'gateway_offline');
  add(reasons, unattached, w, input.now);
  const unattachedGateways = [...offline].filter((g) => ![...input.gatewaysOf.values()].some((set) => set.has(g)));
  if (sources.length === 0 && offline.size > 0) reasons.push({ points: w.gatewayOffline, reason: `gateway ${[...offline].join(', ')} offline: monitoring blind` });
  else if (unattachedGateways.length > 0) reasons.push({ points: w.gatewayOffline, reason: `gateway ${unattachedGateways.join(', ')} offline` });
  const enterprise = finish(input.enterpriseCode, null, reasons, w);
  return { hazardSources: sources, enterprise: worst && COLOUR_RANK[worst.colour] > COLOUR_RANK[enterprise.colour] ? { ...enterprise, colour: worst.colour } : enterprise };
}

function add(reasons: { points: number; reason: string }[], alarms: readonly Alarm[], w: RiskWeights, now: number): void {
  const groups = new Map<string, { points: number; alarms: Alarm[] }>();
  const overdue: Alarm[] = [];
  for (const a of alarms) {
    const fault = FAULTS.has(a.condition);
    const label = fault ? 'sensor fault' : `${a.severity} alarm`;
    const g = groups.get(label) ?? { points: fault ? w.sensorFault : w.activeAlarm[a.severity], alarms: [] };
    g.alarms.push(a);
    groups.set(label, g);
    if (a.acknowledged === null && a.escalation.level !== 'enterprise') overdue.push(a);
  }
  for (const [label, g] of groups) {
    const where = [...new Set(g.alarms.map((a) => a.originatorCode))].slice(0, 3).join(', ');
    reasons.push({ points: g.points * g.alarms.length, reason: `${g.alarms.length} ${label}${g.alarms.length > 1 ? 's' : ''} active (${where})` });
  }
  if (overdue.length > 0) {
    const longest = Math.max(...overdue.map((a) => now - Date.parse(a.raisedAt)));
    reasons.push({ points: w.overdueAcknowledgement * overdue.length, reason: `${overdue.length} unacknowledged past escalation, the oldest for ${Math.round(longest / 60_000)} min` });
  }
}

function finish(enterpriseCode: string, hazardSourceCode: string | null, reasons: { points: number; reason: string }[], w: RiskWeights): RiskAssessment {
  const score = reasons.reduce((s, r) => s + r.points, 0);
  return { enterpriseCode, hazardSourceCode, colour: colourOf(score, w.thresholds), score, reasons: reasons.filter((r) => r.points !== 0) };
}
