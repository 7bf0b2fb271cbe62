import type { Observable, Subscription } from 'rxjs';
import { Subject, interval } from 'rxjs';
import type { Alarm, AuditLog, AuditRecord, EscalationPolicy, MaintenanceWindow, RiskHistoryEntry, RiskWeights, PowerInterval, AlarmEvent, AlarmStore, DeadLetter, DeadLetterReason, GatewayStatus, RawMessage, SeriesStore } from '#libs/contracts/index.js';
import type { Rejection } from '#libs/decode/index.js';
import { decodeMessage } from '#libs/decode/index.js';
import { AlarmBook, RiskBoard, type Action, type ActionResult, type RiskChange } from '#libs/alarms/index.js';
import type { LiveRegistry } from '#libs/registry/index.js';
import { evaluateRules, RuleEngine, type EngineOptions, type RuleInput } from '#libs/rules/index.js';
import type { WsHub } from '#libs/ws/index.js';
import type { Logger } from 'pino';
import { watchRuleCore, type Metrics } from './metrics.js';

export interface PipelineDeps {
  readonly registry: LiveRegistry;
  readonly seriesStore: SeriesStore;
  readonly alarmStore: AlarmStore;
  readonly auditLog: AuditLog;
  readonly escalation: EscalationPolicy;
  readonly riskWeights: RiskWeights;
  readonly hub: WsHub;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly maxFutureMs?: number;
  /** How often the rule core's clock runs (silences, chatter, floods, power intervals). */
  readonly ruleTickMs?: number;
  readonly ruleOptions?: Partial<EngineOptions>;
}

const EXCERPT = 200;
export const UNREGISTERED = '(unregistered)';

function riskEntries(changes: readonly RiskChange[]): RiskHistoryEntry[] {
  return changes.map(({ at, from, assessment: a }) => ({ at, enterpriseCode: a.enterpriseCode, hazardSourceCode: a.hazardSourceCode, from, to: a.colour, score: a.score, reasons: a.reasons }));
}

/** What the audit log keeps of an alarm event: the facts of that step, not the whole alarm. */
function auditRecord({ kind, alarm: a }: AlarmEvent, actor: string, origin: string): AuditRecord {
  const detail: Record<string, unknown> = { key: a.key, status: a.status, level: a.level };
  if (kind === 'raise' || kind === 'update' || kind === 'clear') Object.assign(detail, { value: a.value, message: a.message });
  if (kind === 'dispose') detail.disposal = a.disposal;
  if (kind === 'shelve') detail.shelved = a.shelved;
  if (kind === 'comment') detail.comment = a.comments.at(-1);
  if (kind === 'assign') detail.assignee = a.assignee;
  if (kind === 'escalate') detail.escalation = a.escalation.steps.at(-1);
  if (kind === 'out_of_service') detail.outOfService = a.outOfService;
  return { at: a.updatedAt, actor, origin, action: kind, alarmId: a.id, detail };
}
const POWER_INTERVALS_KEPT = 192;

/**
 * gateway message → decode → (series store | rule core → alarm book → alarm store + WebSocket).
 * Everything per message runs synchronously in one tick; the MQTT ack waits only for the series store to accept.
 */
export class MonitorPipeline {
  readonly book: AlarmBook;
  readonly engine: RuleEngine;
  readonly risk: RiskBoard;
  private readonly inputs$ = new Subject<RuleInput>();
  private readonly gatewayStates = new Map<string, GatewayStatus>();
  /** Refused messages and readings since boot, per `enterprise/gateway` and reason. */
  private readonly refusals = new Map<string, Partial<Record<DeadLetterReason, number>>>();
  private subscriptions: Subscription[] = [];
  /** Alarm changes of the message being processed: committed together, then pushed, in the same tick. */
  private changed: AlarmEvent[] = [];
  private inMessage = false;
  /** The last two days of each enterprise's 15-minute power profile. */
  private readonly power = new Map<string, PowerInterval[]>();

  constructor(private readonly deps: PipelineDeps) {
    this.book = new AlarmBook(deps.alarmStore.loadOpen(), deps.escalation, (e) => deps.registry.registry.findEnterprise(e)?.region, undefined, deps.alarmStore.loadMaintenance());
    this.engine = new RuleEngine(deps.registry.registry.ruleContext(), Date.now(), deps.ruleOptions);
    this.engine.restore(this.book.conditions());
    this.risk = new RiskBoard(deps.riskWeights, deps.registry.registry);
    this.risk.assess(this.book.activeAlarms(), Date.now());
    this.engine.onInterval = (i) => {
      const list = this.power.get(i.enterpriseCode) ?? [];
      list.push(i);
      if (list.length > POWER_INTERVALS_KEPT) list.shift();
      this.power.set(i.enterpriseCode, list);
    };
    watchRuleCore(deps.metrics, () => this.engine.stats, () => this.engine.chatteringKeys().length);
    deps.metrics.activeAlarms.set(this.book.activeCount);
  }

  start(messages$: Observable<RawMessage>): void {
    const { registry } = this.deps;
    const tickMs = this.deps.ruleTickMs ?? 5000;
    this.subscriptions.push(
      registry.swaps$.subscribe(({ next }) => {
        this.engine.reload(next.ruleContext());
        this.changed.push(...this.book.retire((key) => this.engine.covers(key), new Date().toISOString(), 'no longer monitored: removed from the registry by a reload'));
        if (this.changed.length > 0) this.commitAlarms();
        this.risk.reindex(next);
        this.publishRisk(this.risk.assess(this.book.activeAlarms(), Date.now()));
      }),
      this.inputs$.pipe(evaluateRules(this.engine, { tickMs })).subscribe((c) => {
        const events = this.book.apply(c);
        if (events.length === 0) return;
        this.changed.push(...events);
        // Changes the clock makes (silences, floods…) come outside any message: commit them as they come.
        if (!this.inMessage) this.commitAlarms();
      }),
      // The alarms' own clock: escalation of unacknowledged alarms, end of timed shelving.
      interval(tickMs).subscribe(() => {
        const windowEnded = (w: MaintenanceWindow): void => {
          this.deps.alarmStore.removeMaintenance(w.enterpriseCode, w.pointCode);
          this.auditPoint(w.enterpriseCode, w.pointCode, 'in_service', 'system', 'system', { reason: 'maintenance window ended' });
        };
        this.changed.push(...this.book.tick(Date.now(), windowEnded));
        if (this.changed.length > 0) this.commitAlarms();
      }),
      messages$.subscribe((msg) => {
        this.inMessage = true;
        try {
          this.onMessage(msg);
        } finally {
          this.inMessage = false;
        }
      }),
    );
  }

  /** Closed 15-minute power intervals of an enterprise, oldest first (empty without electricity monitoring). */
  powerProfile(enterpriseCode: string): readonly PowerInterval[] {
    return this.power.get(enterpriseCode) ?? [];
  }

  gateways(): GatewayStatus[] {
    return [...this.gatewayStates.values()];
  }

  gatewayStatus(enterpriseCode: string, gatewayCode: string): GatewayStatus | undefined {
    return this.gatewayStates.get(`${enterpriseCode}/${gatewayCode}`);
  }

  /** Counts of refused messages and readings by reason, keyed `enterpriseCode/gatewayCode` as in the topic. */
  refusalsByGateway(): ReadonlyMap<string, Readonly<Partial<Record<DeadLetterReason, number>>>> {
    return this.refusals;
  }

  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
  }

  private onMessage(msg: RawMessage): void {
    const { metrics } = this.deps;
    metrics.messages.inc();
    let decoded;
    try {
      decoded = decodeMessage(msg.topic, msg.payload, msg.receivedAt, this.deps.registry, { maxFutureMs: this.deps.maxFutureMs ?? 300_000 });
    } catch (err) {
      decoded = { kind: 'rejected' as const, rejection: { reason: 'bad_schema' as const, detail: `decoder error: ${String(err)}` } };
    }
    switch (decoded.kind) {
      case 'rejected':
        this.deadLetter(msg, decoded.rejection);
        msg.ack();
        return;
      case 'status': {
        const status: GatewayStatus = {
          enterpriseCode: decoded.enterpriseCode,
          gatewayCode: decoded.gatewayCode,
          state: decoded.state,
          since: new Date(msg.receivedAt).toISOString(),
        };
        this.gatewayStates.set(`${status.enterpriseCode}/${status.gatewayCode}`, status);
        this.deps.hub.publishGateway(status);
        this.inputs$.next({ kind: 'gateway', enterpriseCode: status.enterpriseCode, gatewayCode: status.gatewayCode, state: status.state });
        if (this.changed.length > 0) this.commitAlarms();
        msg.ack();
        return;
      }
      case 'telemetry': {
        for (const r of decoded.rejections) this.deadLetter(msg, r);
        const { readings } = decoded;
        if (readings.length === 0) {
          msg.ack();
          return;
        }
        metrics.readings.inc(readings.length);
        this.deps.seriesStore.write(readings, msg.ack);
        this.inputs$.next({ kind: 'readings', batch: readings });
        if (this.changed.length > 0) this.commitAlarms();
        this.deps.hub.publishReadings(readings);
        return;
      }
    }
  }

  /** A person's action on an alarm (acknowledge, dispose, shelve…), committed, audited and pushed before it returns. */
  act(id: string, action: Action, origin: string): ActionResult {
    const result = this.book.act(id, action, new Date().toISOString());
    if (result.ok) {
      this.changed.push(...result.events);
      this.commitAlarms(action.by, origin);
    }
    return result;
  }

  /** Takes a point out of service for maintenance (its alarms are marked, not escalated, not counted in risk). */
  takeOutOfService(enterpriseCode: string, pointCode: string, by: string, reason: string, forS: number, origin: string): MaintenanceWindow {
    const now = Date.now();
    const window: MaintenanceWindow = { enterpriseCode, pointCode, by, reason, at: new Date(now).toISOString(), until: new Date(now + forS * 1000).toISOString() };
    this.deps.alarmStore.saveMaintenance(window);
    this.auditPoint(enterpriseCode, pointCode, 'out_of_service', by, origin, { reason, until: window.until });
    this.changed.push(...this.book.takeOutOfService(window));
    this.commitAlarms(by, origin);
    return window;
  }

  /** Puts a point back in service; false when it was not out of service. */
  putInService(enterpriseCode: string, pointCode: string, by: string, origin: string): boolean {
    const events = this.book.putInService(enterpriseCode, pointCode, new Date().toISOString());
    if (events === null) return false;
    this.deps.alarmStore.removeMaintenance(enterpriseCode, pointCode);
    this.auditPoint(enterpriseCode, pointCode, 'in_service', by, origin, {});
    this.changed.push(...events);
    this.commitAlarms(by, origin);
    return true;
  }

  private auditPoint(enterpriseCode: string, pointCode: string, action: 'out_of_service' | 'in_service', actor: string, origin: string, detail: Record<string, unknown>): void {
    try {
      this.deps.auditLog.append([{ at: new Date().toISOString(), actor, origin, action, alarmId: `point:${enterpriseCode}/${pointCode}`, detail }]);
    } catch (err) {
      this.deps.log.error({ err }, 'audit log write failed');
    }
  }

  /**
   * Commits the alarm changes gathered so far in one transaction (each alarm's last state), appends them to the
   * audit log, then pushes them on WebSocket and to the series store, all in the same tick.
   */
  private commitAlarms(actor = 'system', origin = 'system'): void {
    const events = this.changed;
    this.changed = [];
    const latest = new Map<string, Alarm>();
    for (const e of events) latest.set(e.alarm.id, e.alarm);
    const risk = riskEntries(this.risk.assess(this.book.activeAlarms(), Date.now(), new Set(events.map((e) => e.alarm.enterpriseCode))));
    // One transaction: alarm states, their audit entries and the risk changes they cause never disagree.
    try {
      this.deps.alarmStore.transaction(() => {
        this.deps.alarmStore.saveAll([...latest.values()]);
        this.deps.auditLog.append(events.map((e) => auditRecord(e, actor, origin)));
        if (risk.length > 0) this.deps.alarmStore.recordRiskChanges(risk);
      });
    } catch (err) {
      this.deps.log.error({ err, alarms: latest.size }, 'alarm store write failed');
    }
    this.deps.metrics.activeAlarms.set(this.book.activeCount);
    for (const { kind, alarm } of events) {
      this.deps.metrics.alarmEvents.inc({ kind });
      this.deps.log.info({ alarmId: alarm.id, kind, key: alarm.key, level: alarm.level, status: alarm.status, message: alarm.message, actor }, 'alarm');
      this.deps.hub.publishAlarm(alarm, kind);
    }
    if (risk.length > 0) this.deps.hub.publishRisk(risk);
    this.deps.seriesStore.recordAlarmEvents(events);
  }

  /** Stores and pushes changes of four-colour risk that no alarm change caused (e.g. after a registry reload). */
  private publishRisk(changes: readonly RiskChange[]): void {
    const entries = riskEntries(changes);
    if (entries.length === 0) return;
    try {
      this.deps.alarmStore.recordRiskChanges(entries);
    } catch (err) {
      this.deps.log.error({ err }, 'risk history write failed');
    }
    this.deps.hub.publishRisk(entries);
  }

  private deadLetter(msg: RawMessage, rejection: Rejection): void {
    // Labels and counts only for registered gateways, so arbitrary topics cannot grow them without bound.
    const [, e = '', g = ''] = msg.topic.split('/');
    const registered = msg.topic.startsWith('sites/') && this.deps.registry.registry.findGateway(e, g) !== undefined;
    const enterprise = registered ? e : UNREGISTERED;
    const gateway = registered ? g : UNREGISTERED;
    this.deps.metrics.deadLetters.inc({ reason: rejection.reason, enterprise, gateway });
    const key = `${enterprise}/${gateway}`;
    const counts = this.refusals.get(key) ?? {};
    counts[rejection.reason] = (counts[rejection.reason] ?? 0) + 1;
    this.refusals.set(key, counts);
    const letter: DeadLetter = {
      reason: rejection.reason,
      detail: rejection.detail,
      topic: msg.topic,
      payloadExcerpt: msg.payload.subarray(0, EXCERPT).toString('utf8'),
      at: new Date(msg.receivedAt).toISOString(),
    };
    this.deps.log.warn({ deadLetter: letter }, `dead letter: ${rejection.reason}`);
    try {
      this.deps.alarmStore.recordDeadLetter(letter);
    } catch (err) {
      this.deps.log.error({ err }, 'dead-letter store write failed');
    }
  }
}
