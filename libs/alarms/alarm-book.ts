import { randomUUID } from 'node:crypto';
import { UNHANDLED, type Alarm, type AlarmEvent, type AlarmEventKind, type ConditionChange, type ConditionLevel, type EscalationPolicy, type JurisdictionLevel, type MaintenanceWindow, type Region } from '#libs/contracts/index.js';
import { act, closeIfDone, escalationDue, rank, type Action, type Done, type Outcome } from './lifecycle.js';

export type ActionResult = { readonly ok: true; readonly alarm: Alarm; readonly events: AlarmEvent[] } | Extract<Outcome, { ok: false }> | { readonly ok: false; readonly refusal: { readonly kind: 'not_found'; readonly reason: string } };

const LEVELS: readonly JurisdictionLevel[] = ['enterprise', 'county', 'city'];
const SEVERITY_RANK: Readonly<Record<Alarm['severity'], number>> = { warning: 0, minor: 1, major: 2, critical: 3 };

/** The book's state at one moment, to undo a person's action that could not be stored. */
export interface BookSnapshot {
  readonly active: ReadonlyMap<string, Alarm>;
  readonly open: ReadonlyMap<string, Alarm>;
  readonly maintenance: ReadonlyMap<string, MaintenanceWindow>;
}

/** Where alarms no longer held in memory are found (the alarm store), and how many cleared ones memory holds. */
export interface BookOptions {
  readonly lookup?: (id: string) => Alarm | undefined;
  readonly maxClearedInMemory?: number;
}

/**
 * Every alarm not yet closed: one active alarm per condition key (raised on the first change, updated in place
 * while active, cleared when the rule core reports the condition gone), plus cleared alarms still waiting for
 * acknowledgement or disposal. Lifecycle actions and the clock (escalation, end of shelving) act on them here.
 * Memory holds every active alarm and the most recent cleared ones; older cleared alarms, which nothing but a
 * person's action touches, are looked up in the store, so a flapping source cannot grow memory without bound.
 */
export class AlarmBook {
  private readonly active = new Map<string, Alarm>();
  private readonly open = new Map<string, Alarm>();
  private cleared = 0;
  private readonly lookup: (id: string) => Alarm | undefined;
  private readonly maxCleared: number;
  /** Points out of service, by `enterprise/point`. */
  private readonly maintenance = new Map<string, MaintenanceWindow>();

  constructor(
    openAlarms: readonly Alarm[],
    private readonly policy: EscalationPolicy,
    private readonly regionOf: (enterpriseCode: string) => Region | undefined = () => undefined,
    private readonly newId: () => string = randomUUID,
    maintenance: readonly MaintenanceWindow[] = [],
    options: BookOptions = {},
  ) {
    this.lookup = options.lookup ?? (() => undefined);
    this.maxCleared = options.maxClearedInMemory ?? 2000;
    for (const a of openAlarms) this.hold(a);
    for (const w of maintenance) this.maintenance.set(`${w.enterpriseCode}/${w.pointCode}`, w);
  }

  /**
   * Takes a point out of service until `window.until`: its open alarms and any it raises meanwhile are marked,
   * still recorded and cleared, but not escalated nor counted in risk.
   */
  takeOutOfService(window: MaintenanceWindow): AlarmEvent[] {
    this.maintenance.set(`${window.enterpriseCode}/${window.pointCode}`, window);
    return this.markPoint(window.enterpriseCode, window.pointCode, window, 'out_of_service', window.at);
  }

  /** Puts a point back in service; null when it was not out of service. */
  putInService(enterpriseCode: string, pointCode: string, at: string): AlarmEvent[] | null {
    if (!this.maintenance.delete(`${enterpriseCode}/${pointCode}`)) return null;
    return this.markPoint(enterpriseCode, pointCode, null, 'in_service', at);
  }

  maintenanceWindows(): MaintenanceWindow[] {
    return [...this.maintenance.values()];
  }

  private markPoint(enterpriseCode: string, pointCode: string, window: MaintenanceWindow | null, kind: AlarmEventKind, at: string): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    for (const a of [...this.open.values()]) {
      if (a.enterpriseCode !== enterpriseCode || a.pointCode !== pointCode) continue;
      events.push(...this.keep({ ok: true, alarm: { ...a, outOfService: window, updatedAt: at }, events: [kind] }));
    }
    return events;
  }

  /**
   * The alarm events a condition change makes: none (e.g. a clear of no alarm), or a raise, update or clear (and
   * close). `now` is the server time (escalation counts from it); the change's own time is the reading's.
   */
  apply(c: ConditionChange, now: number = c.ts): AlarmEvent[] {
    const existing = this.active.get(c.key);
    const at = new Date(c.ts).toISOString();
    if (c.to === null) {
      if (!existing) return [];
      this.active.delete(c.key);
      const cleared: Alarm = {
        ...existing,
        status: existing.status === 'ACTIVE_ACK' ? 'CLEARED_ACK' : 'CLEARED_UNACK',
        value: c.value ?? existing.value,
        message: c.message,
        chattering: c.chattering,
        chatteredAt: chatteredAt(existing, c, at),
        updatedAt: at,
        clearedAt: at,
        // A cleared alarm cannot stay shelved: nothing is left to hide.
        shelved: null,
      };
      return this.keep(closeIfDone(cleared, ['clear'], at, this.policy));
    }
    if (existing) {
      // Shelving hides an alarm at the severity a person saw; a rise above it is shown again at once.
      const unshelved = existing.shelved !== null && SEVERITY_RANK[c.severity] > SEVERITY_RANK[existing.severity];
      const alarm: Alarm = {
        ...existing,
        shelved: unshelved ? null : existing.shelved,
        level: c.to,
        severity: c.severity,
        value: c.value,
        peakValue: peakOf(c, existing.peakValue),
        threshold: c.threshold ?? existing.threshold,
        message: c.message,
        chattering: c.chattering,
        chatteredAt: chatteredAt(existing, c, at),
        floodKey: existing.floodKey ?? c.floodKey,
        updatedAt: at,
      };
      this.active.set(c.key, alarm);
      this.open.set(alarm.id, alarm);
      return unshelved ? [{ kind: 'update', alarm }, { kind: 'unshelve', alarm }] : [{ kind: 'update', alarm }];
    }
    const o = c.originator;
    const alarm: Alarm = {
      id: this.newId(),
      key: c.key,
      originatorKind: o.kind,
      originatorCode: o.code,
      enterpriseCode: o.enterpriseCode,
      gatewayCode: o.gatewayCode,
      hazardSourceCode: o.hazardSourceCode,
      pointCode: o.kind === 'point' ? o.code : null,
      condition: c.condition,
      name: c.name,
      level: c.to,
      severity: c.severity,
      status: 'ACTIVE_UNACK',
      value: c.value,
      peakValue: c.value,
      threshold: c.threshold,
      unit: c.unit,
      message: c.message,
      chattering: c.chattering,
      chatteredAt: c.chattering ? at : null,
      floodKey: c.floodKey,
      raisedAt: at,
      detectedAt: new Date(now).toISOString(),
      updatedAt: at,
      clearedAt: null,
      ...UNHANDLED,
      outOfService: o.kind === 'point' ? (this.maintenance.get(`${o.enterpriseCode}/${o.code}`) ?? null) : null,
    };
    this.active.set(c.key, alarm);
    this.open.set(alarm.id, alarm);
    return [{ kind: 'raise', alarm }];
  }

  /**
   * Clears the active alarms whose condition is no longer evaluated (e.g. their point was removed by a registry
   * reload), with a message saying so; they then close through the usual loop.
   */
  retire(stillEvaluated: (key: string) => boolean, at: string, message: string): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    for (const a of [...this.active.values()]) {
      if (stillEvaluated(a.key)) continue;
      this.active.delete(a.key);
      const cleared: Alarm = { ...a, status: a.status === 'ACTIVE_ACK' ? 'CLEARED_ACK' : 'CLEARED_UNACK', message, updatedAt: at, clearedAt: at, shelved: null };
      events.push(...this.keep(closeIfDone(cleared, ['clear'], at, this.policy)));
    }
    return events;
  }

  /** A person's action on an open alarm; refused with a reason when its state does not allow it. */
  act(id: string, action: Action, at: string): ActionResult {
    const alarm = this.find(id);
    if (!alarm) return { ok: false, refusal: { kind: 'not_found', reason: `no open alarm ${id}` } };
    const outcome = act(alarm, action, at, this.policy);
    if (!outcome.ok) return outcome;
    return { ok: true, alarm: outcome.alarm, events: this.keep(outcome) };
  }

  /**
   * The clock: maintenance windows and shelving that have run out end (`onWindowEnded` hears of each window, e.g.
   * to forget it in the store); unacknowledged alarms escalate to the county, then the city.
   */
  tick(now: number, onWindowEnded: (w: MaintenanceWindow) => void = () => undefined): AlarmEvent[] {
    const at = new Date(now).toISOString();
    const events: AlarmEvent[] = [];
    for (const w of [...this.maintenance.values()]) {
      if (Date.parse(w.until) > now) continue;
      events.push(...(this.putInService(w.enterpriseCode, w.pointCode, at) ?? []));
      onWindowEnded(w);
    }
    for (const a of [...this.open.values()]) {
      let alarm = a;
      if (alarm.shelved && Date.parse(alarm.shelved.until) <= now) {
        alarm = { ...alarm, shelved: null, updatedAt: at };
        events.push(...this.keep({ ok: true, alarm, events: ['unshelve'] }));
      }
      const due = escalationDue(alarm, this.policy, now);
      while (rank(alarm.escalation.level) < rank(due)) {
        const level = LEVELS[rank(alarm.escalation.level) + 1]!;
        const region = this.regionOf(alarm.enterpriseCode);
        const regionCode = (level === 'county' ? region?.county : region?.city) ?? region?.code ?? '';
        alarm = { ...alarm, escalation: { level, steps: [...alarm.escalation.steps, { level, regionCode, at }] }, updatedAt: at };
        events.push(...this.keep({ ok: true, alarm, events: ['escalate'] }));
      }
    }
    return events;
  }

  /** Alarms are immutable values: copying the maps is enough to come back to this moment. */
  snapshot(): BookSnapshot {
    return { active: new Map(this.active), open: new Map(this.open), maintenance: new Map(this.maintenance) };
  }

  rollback(s: BookSnapshot): void {
    for (const [mine, saved] of [[this.active, s.active], [this.open, s.open]] as const) {
      mine.clear();
      for (const [k, v] of saved) mine.set(k, v);
    }
    this.cleared = [...this.open.values()].filter((a) => a.clearedAt !== null).length;
    this.maintenance.clear();
    for (const [k, v] of s.maintenance) this.maintenance.set(k, v);
  }

  /** The active alarm of a condition key, if any. */
  activeOf(key: string): Alarm | undefined {
    return this.active.get(key);
  }

  get activeCount(): number {
    return this.active.size;
  }

  activeAlarms(): Alarm[] {
    return [...this.active.values()];
  }

  /** The open alarms memory holds: every active one and the most recent cleared ones (the store has them all). */
  openAlarms(): Alarm[] {
    return [...this.open.values()];
  }

  /** An open alarm, from memory or (a cleared one memory let go of) from the store. */
  find(id: string): Alarm | undefined {
    const held = this.open.get(id);
    if (held) return held;
    const stored = this.lookup(id);
    return stored && stored.closedAt === null ? stored : undefined;
  }

  /** The conditions in force, for the rule core to continue from after a restart. */
  conditions(): { key: string; level: ConditionLevel }[] {
    return [...this.active.values()].map((a) => ({ key: a.key, level: a.level }));
  }

  private keep(outcome: Done): AlarmEvent[] {
    this.hold(outcome.alarm);
    return outcome.events.map((kind: AlarmEventKind) => ({ kind, alarm: outcome.alarm }));
  }

  private hold(alarm: Alarm): void {
    const before = this.open.get(alarm.id);
    if (before && before.clearedAt !== null) this.cleared--;
    this.open.delete(alarm.id);
    if (alarm.closedAt !== null) return;
    // Set anew, so the oldest cleared alarms come first when memory lets some go.
    this.open.set(alarm.id, alarm);
    if (alarm.clearedAt === null) {
      this.active.set(alarm.key, alarm);
      return;
    }
    this.cleared++;
    if (this.cleared <= this.maxCleared) return;
    for (const [id, a] of this.open) {
      if (this.cleared <= this.maxCleared) break;
      if (a.clearedAt === null) continue;
      this.open.delete(id);
      this.cleared--;
    }
  }
}

function peakOf(c: ConditionChange, prev: number | null): number | null {
  if (c.value === null) return prev;
  if (prev === null) return c.value;
  return c.condition === 'limit_low' ? Math.min(prev, c.value) : Math.max(prev, c.value);
}

/** When the alarm was first marked chattering: kept once set, whatever the mark does afterwards. */
function chatteredAt(existing: Alarm, c: ConditionChange, at: string): string | null {
  return existing.chatteredAt ?? (c.chattering ? at : null);
}
