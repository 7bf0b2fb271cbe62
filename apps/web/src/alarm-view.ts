import type { Alarm, AlarmSeverity, ConditionType, EscalationPolicy } from '#libs/contracts/index.js';

/** Pure rules of the alarm console: which alarms it lists, in what order, and what their timers say. */

const RANK: Readonly<Record<AlarmSeverity, number>> = { critical: 0, major: 1, minor: 2, warning: 3 };

/** An alarm the console keeps: every alarm not yet closed (active, or cleared and still awaiting ack or disposal). */
export const isOpen = (a: Alarm): boolean => a.closedAt === null;
export const isActive = (a: Alarm): boolean => a.status === 'ACTIVE_UNACK' || a.status === 'ACTIVE_ACK';
export const isUnacknowledged = (a: Alarm): boolean => a.acknowledged === null;

/**
 * Priority first (critical … warning), then the alarms still active before the cleared ones, then unacknowledged
 * before acknowledged, then newest first; the id settles ties so that the order is total.
 */
export function consoleOrder(a: Alarm, b: Alarm): number {
  return (
    RANK[a.severity] - RANK[b.severity] ||
    Number(isActive(b)) - Number(isActive(a)) ||
    Number(isUnacknowledged(b)) - Number(isUnacknowledged(a)) ||
    b.raisedAt.localeCompare(a.raisedAt) ||
    a.id.localeCompare(b.id)
  );
}

export type StateFilter = '' | 'unack' | 'active' | 'cleared' | 'shelved';

export interface AlarmFilter {
  readonly severity: AlarmSeverity | '';
  readonly condition: ConditionType | '';
  readonly state: StateFilter;
  /** Enterprises of the chosen region (null: any region). */
  readonly enterprisesInRegion: ReadonlySet<string> | null;
  readonly enterprise: string;
}

export const NO_FILTER: AlarmFilter = { severity: '', condition: '', state: '', enterprisesInRegion: null, enterprise: '' };

export function matches(a: Alarm, f: AlarmFilter): boolean {
  if (f.severity !== '' && a.severity !== f.severity) return false;
  if (f.condition !== '' && a.condition !== f.condition) return false;
  if (f.enterprise !== '' && a.enterpriseCode !== f.enterprise) return false;
  if (f.enterprisesInRegion !== null && !f.enterprisesInRegion.has(a.enterpriseCode)) return false;
  switch (f.state) {
    case 'unack':
      return isUnacknowledged(a);
    case 'active':
      return isActive(a);
    case 'cleared':
      return !isActive(a);
    case 'shelved':
      return a.shelved !== null;
    default:
      return true;
  }
}

/**
 * Flood grouping (ISA-18.2): the alarms raised during an enterprise's alarm flood carry the flood alarm's key and
 * fold under its row until the operator expands it. A critical alarm never folds: it is shown on its own however
 * many arrive with it. Returns the alarms to list and, per flood key, how many folded.
 */
export function foldFloods(alarms: readonly Alarm[], expanded: ReadonlySet<string>): { readonly shown: Alarm[]; readonly folded: ReadonlyMap<string, number> } {
  const floods = new Set(alarms.filter((a) => a.condition === 'alarm_flood').map((a) => a.key));
  const folded = new Map<string, number>();
  const shown: Alarm[] = [];
  for (const a of alarms) {
    const group = a.floodKey;
    if (group !== null && floods.has(group) && a.severity !== 'critical' && !expanded.has(group)) folded.set(group, (folded.get(group) ?? 0) + 1);
    else shown.push(a);
  }
  return { shown, folded };
}

/**
 * The console's rows: the alarms matching the filter, floods folded among them only (a flood row filtered out folds
 * nothing), in console order; with how many folded under each flood row shown.
 */
export function consoleRows(alarms: Iterable<Alarm>, filter: AlarmFilter, expanded: ReadonlySet<string>): { readonly rows: Alarm[]; readonly folded: ReadonlyMap<string, number> } {
  const { shown, folded } = foldFloods([...alarms].filter((a) => matches(a, filter)), expanded);
  return { rows: shown.sort(consoleOrder), folded };
}

export type Due =
  | { readonly kind: 'none' }
  | { readonly kind: 'next'; readonly level: 'county' | 'city'; readonly inMs: number }
  | { readonly kind: 'overdue'; readonly sinceMs: number };

/**
 * What the escalation timer says of an unacknowledged alarm: when it reaches the county or city (counted from the
 * server's detection time, as the server counts), or how long it has been overdue once the city has it.
 */
export function escalationDue(a: Alarm, policy: EscalationPolicy | null, now: number): Due {
  const steps = policy?.bySeverity[a.severity] ?? null;
  // As the server counts: only an active alarm escalates; one that cleared by itself only waits for its acknowledgement.
  if (steps === null || !isActive(a) || a.acknowledged !== null || a.shelved !== null || a.outOfService !== null) return { kind: 'none' };
  const detected = Date.parse(a.detectedAt);
  if (Number.isNaN(detected)) return { kind: 'none' };
  const county = detected + steps.countyAfterS * 1000;
  const city = detected + steps.cityAfterS * 1000;
  if (a.escalation.level === 'enterprise' && now < county) return { kind: 'next', level: 'county', inMs: county - now };
  if (a.escalation.level !== 'city' && now < city) return { kind: 'next', level: 'city', inMs: city - now };
  return { kind: 'overdue', sinceMs: Math.max(0, now - city) };
}

export function durationText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A value is stale once it is older than three of its point's expected periods (never under 10 s). */
export const staleAfterMs = (samplePeriodS: number): number => Math.max(10_000, 3 * samplePeriodS * 1000);

/** The rows a virtualised list draws: those in view plus `overscan` on either side. */
export function visibleRows(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 10): { readonly start: number; readonly end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, Math.min(total, first - overscan));
  const end = Math.min(total, first + Math.ceil(viewport / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}
