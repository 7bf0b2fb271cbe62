import type { Observable, Subscription } from 'rxjs';
import { Subject, interval } from 'rxjs';
import type { Alarm, AlarmSeverity, AuditLog, AuditRecord, ConditionChange, EscalationPolicy, MaintenanceWindow, RiskHistoryEntry, RiskWeights, PowerInterval, AlarmEvent, AlarmStore, DeadLetter, DeadLetterReason, GatewayStatus, Originator, RawMessage, Reading, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import type { Rejection } from '#libs/decode/index.js';
import { decodeMessage } from '#libs/decode/index.js';
import { AlarmBook, RiskBoard, type Action, type ActionResult, type BookSnapshot, type RiskChange } from '#libs/alarms/index.js';
import type { LiveRegistry } from '#libs/registry/index.js';
import { boundedByArrival, conditionKey, evaluateRules, RuleEngine, type EngineFault, type EngineOptions, type RuleInput } from '#libs/rules/index.js';
import type { WsHub } from '#libs/ws/index.js';
import type { Logger } from 'pino';
import { watchRuleCore, type Metrics } from './metrics.js';
import { UnsavedChanges, type CommitBatch } from './unsaved-changes.js';
import type { DataQualityBoard } from './data-quality.js';

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
  /** How often the rule core's clock runs (silences, chatter, floods, power intervals). */
  readonly ruleTickMs?: number;
  readonly ruleOptions?: Partial<EngineOptions>;
  /** Closed alarms, risk history and dead letters are kept this long (the audit log always); null keeps them all. */
  readonly historyRetentionMs?: number | null;
  /**
   * Data quality per enterprise (数据完整率): the board counting readings, and the completeness below which an
   * enterprise gets a `data_incomplete` alarm (0: never).
   */
  readonly dataQuality?: { readonly board: DataQualityBoard; readonly minCompleteness: number };
  /** The watchdog's heartbeats: their topic, and what to do when one comes back through the broker. */
  readonly heartbeat?: { readonly topic: string; arrived(payload: Buffer, receivedAt: number): void };
  /** Notifications (config/notify.yaml): the messages a turn's alarm events call for, stored before it returns. */
  readonly notify?: (events: readonly AlarmEvent[]) => void;
}

const EXCERPT = 200;
export const UNREGISTERED = '(unregistered)';
/** Audit entries and risk changes kept in memory while the alarm store fails; past this they are counted only. */
const MAX_UNSAVED_RECORDS = 50_000;
/** Batches written together: each alarm once, in its latest state; audit entries and risk changes all, in order. */
function mergedBatches(batches: readonly CommitBatch[]): CommitBatch {
  if (batches.length === 1) return batches[0]!;
  const alarms = new Map<string, Alarm>();
  const audit: AuditRecord[] = [];
  const risk: RiskHistoryEntry[] = [];
  for (const b of batches) {
    for (const a of b.alarms) alarms.set(a.id, a);
    audit.push(...b.audit);
    risk.push(...b.risk);
  }
  return { alarms: [...alarms.values()], audit, risk };
}

/**
 * Alarm changes are pushed at once and stored within this long, many batches to one transaction: a commit costs the
 * event loop a millisecond or more, so one per message would cap an alarm storm at a few hundred a second. 50 rather
 * than 20 ms: at 2,400 alarm changes a second, 30 % less time in commits (docs/benchmarks.md).
 */
const STORE_WINDOW_MS = 50;
/**
 * What the window gathered is written in transactions of about this many records (alarm states, audit entries, risk
 * changes), each fsynced, the event loop free in between: a storm's commit then holds the event loop for a few
 * milliseconds at a time instead of up to 50 (docs/benchmarks.md).
 */
const SLICE_RECORDS = 128;
/** A turn's alarm changes go to the group commit in batches of this many, each whole (states with their audit entries). */
const EVENTS_PER_BATCH = 32;

const recordsOf = (b: CommitBatch): number => b.alarms.length + b.audit.length + b.risk.length;

/** The alarm store could not take a person's action: nothing of it was applied (HTTP 503). */
export class AlarmStoreUnavailable extends Error {
  override readonly name = 'AlarmStoreUnavailable';
}


/** The system itself (`alarm-store`, `series-store`), as the originator of its own alarms, under enterprise `system`. */
function systemOriginator(code: string): Originator {
  return { kind: 'system', enterpriseCode: 'system', code, hazardSourceCode: null, gatewayCode: null };
}

/** The enterprise as the originator of its own alarms (data completeness). */
function enterpriseOriginator(enterpriseCode: string): Originator {
  return { kind: 'enterprise', enterpriseCode, code: enterpriseCode, hazardSourceCode: null, gatewayCode: null };
}

type OwnCondition = 'storage_unavailable' | 'monitoring_chain' | 'data_incomplete';

/**
 * A condition the monitor judges itself, not the rule core: a store it cannot write, a hop of the monitoring chain
 * that stalled (system originators), an enterprise's data completeness; raised or cleared as an alarm.
 */
function ownChange(
  originator: Originator,
  condition: OwnCondition,
  severity: AlarmSeverity,
  active: boolean,
  message: string,
  ts: number,
  measured: { readonly value: number; readonly threshold: number; readonly unit: string } | null = null,
): ConditionChange {
  return {
    key: conditionKey(originator, condition, null),
    originator,
    condition,
    name: null,
    from: active ? null : 'ACTIVE',
    to: active ? 'ACTIVE' : null,
    severity,
    value: measured?.value ?? null,
    threshold: measured?.threshold ?? null,
    unit: measured?.unit ?? null,
    ts,
    message,
    chattering: false,
    floodKey: null,
  };
}

/** Minutes a monitor observes before judging completeness: a fresh start has not heard every gateway yet. */
const MIN_OBSERVED_MIN = 10;

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
/** Stored readings older than this are not taken as a point's present value after a restart. */
const SEED_WINDOW_MS = 86_400_000;

function pointAudit(enterpriseCode: string, pointCode: string, action: 'out_of_service' | 'in_service', actor: string, origin: string, detail: Record<string, unknown>): AuditRecord {
  return { at: new Date().toISOString(), actor, origin, action, alarmId: `point:${enterpriseCode}/${pointCode}`, detail };
}

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
  /**
   * Alarm changes not yet pushed: those of the messages of one turn of the event loop are pushed together at its end
   * (setImmediate) and handed to the group commit (`toStore`).
   */
  private changed: AlarmEvent[] = [];
  /** When the messages whose alarm changes wait in `changed` arrived (for the push-delay histogram). */
  private arrivals: number[] = [];
  private commitScheduled = false;
  /** Pushed batches waiting for the group commit to the alarm store. */
  private toStore: CommitBatch[] = [];
  private storeTimer: NodeJS.Timeout | null = null;
  /** The next slice of a group commit, on the next turn. */
  private nextSlice: NodeJS.Immediate | null = null;
  private inMessage = false;
  /** Faults the rule core contained while the current message was handled. */
  private readonly faults: EngineFault[] = [];
  /** Audit entries of the system's own steps (a maintenance window that ended), written with the next commit. */
  private pendingAudit: AuditRecord[] = [];
  /** Commits the alarm store refused, retried on the clock; while any wait, the store is failing. */
  private readonly unsaved = new UnsavedChanges(MAX_UNSAVED_RECORDS);
  private storeFailure: { since: string; error: string } | null = null;
  private seriesDownChecks = 0;
  private lastPrune = 0;
  private lastQualityCheck = 0;
  /** The last two days of each enterprise's 15-minute power profile. */
  private readonly power = new Map<string, PowerInterval[]>();

  constructor(private readonly deps: PipelineDeps) {
    this.book = new AlarmBook(deps.alarmStore.loadOpen(), deps.escalation, (e) => deps.registry.registry.findEnterprise(e)?.region, undefined, deps.alarmStore.loadMaintenance(), {
      lookup: (id) => deps.alarmStore.get(id),
    });
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
    this.engine.onFault = (f) => {
      if (this.inMessage) this.faults.push(f);
      else deps.log.error({ err: f.error, during: f.during }, 'rule core fault contained; the clock goes on');
      deps.metrics.internalErrors.inc({ during: f.during });
    };
    watchRuleCore(deps.metrics, () => this.engine.stats, () => this.engine.chatteringKeys().length);
    deps.metrics.activeAlarms.set(this.book.activeCount);
  }

  start(messages$: Observable<RawMessage>): void {
    const { registry } = this.deps;
    const tickMs = this.deps.ruleTickMs ?? 5000;
    this.subscriptions.push(
      registry.swaps$.subscribe(({ next }) => {
        this.guarded('registry reload', () => {
          this.engine.reload(next.ruleContext());
          this.changed.push(...this.book.retire((key) => this.engine.covers(key), new Date().toISOString(), 'no longer monitored: removed from the registry by a reload'));
          if (this.changed.length > 0) this.commitAlarms();
          this.risk.reindex(next);
          this.publishRisk(this.risk.assess(this.book.activeAlarms(), Date.now()));
        });
      }),
      this.inputs$.pipe(evaluateRules(this.engine, { tickMs })).subscribe((c) => this.guarded('alarm change', () => this.onCondition(c))),
      // The alarms' own clock: escalation of unacknowledged alarms, end of timed shelving, the stores' health.
      interval(tickMs).subscribe(() => this.guarded('alarm clock', () => this.alarmClock(Date.now()))),
      messages$.subscribe((msg) => this.handle(msg)),
    );
  }

  private onCondition(c: ConditionChange): void {
    const events = this.book.apply(c, Date.now());
    if (events.length === 0) return;
    this.changed.push(...events);
    // Changes the clock makes (silences, floods…) come outside any message: commit them as they come.
    if (!this.inMessage) this.commitAlarms();
  }

  private alarmClock(now: number): void {
    this.retryUnsaved();
    const windowEnded = (w: MaintenanceWindow): void => {
      this.guarded('maintenance window end', () => this.deps.alarmStore.removeMaintenance(w.enterpriseCode, w.pointCode));
      this.pendingAudit.push(pointAudit(w.enterpriseCode, w.pointCode, 'in_service', 'system', 'system', { reason: 'maintenance window ended' }));
    };
    this.changed.push(...this.book.tick(now, windowEnded));
    // Two checks in a row, so one failed request that the next retry mends raises nothing.
    const series = this.deps.seriesStore.health();
    this.seriesDownChecks = series.ok ? 0 : this.seriesDownChecks + 1;
    if (series.ok || this.seriesDownChecks >= 2) {
      this.systemCondition('series-store', !series.ok, series.ok ? 'series store writing again' : `series store cannot write: ${series.detail ?? 'unavailable'}; readings are kept in its buffer`, now);
    }
    this.checkDataQuality(now);
    if (this.changed.length > 0 || this.pendingAudit.length > 0) this.commitAlarms();
    this.pruneHistory(now);
  }

  /**
   * Once a minute, after ten minutes observed: an enterprise whose readings fall below the completeness bound over
   * the window gets a `data_incomplete` alarm (its own, distinct from one gateway offline); it clears 5 points above.
   */
  private checkDataQuality(now: number): void {
    const dq = this.deps.dataQuality;
    if (dq === undefined || dq.minCompleteness <= 0 || now - this.lastQualityCheck < dq.board.bucketMs) return;
    this.lastQualityCheck = now;
    if (dq.board.observedMin(now) < MIN_OBSERVED_MIN) return;
    this.guarded('data quality', () => {
      for (const q of dq.board.report(now, this.book.activeAlarms())) {
        const key = conditionKey(enterpriseOriginator(q.enterpriseCode), 'data_incomplete', null);
        const active = this.book.activeOf(key) !== undefined;
        const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;
        const measured = { value: Math.round(q.completeness * 1000) / 10, threshold: Math.round(dq.minCompleteness * 1000) / 10, unit: '%' };
        const change = (raise: boolean, message: string): ConditionChange => ownChange(enterpriseOriginator(q.enterpriseCode), 'data_incomplete', 'major', raise, message, now, measured);
        if (!active && q.completeness < dq.minCompleteness) {
          this.changed.push(...this.book.apply(change(true, `数据完整率 data completeness ${pct(q.completeness)} over ${q.windowMin} min (${q.received} of ${q.expected} readings expected) is below ${pct(dq.minCompleteness)}`), now));
        } else if (active && q.completeness >= dq.minCompleteness + 0.05) {
          this.changed.push(...this.book.apply(change(false, `data completeness back to ${pct(q.completeness)}`), now));
        }
      }
    });
  }

  /** Hourly: forgets closed alarms, risk history and dead letters past their retention (never the audit log). */
  private pruneHistory(now: number): void {
    const keepMs = this.deps.historyRetentionMs;
    if (keepMs === undefined || keepMs === null || now - this.lastPrune < 3_600_000) return;
    this.lastPrune = now;
    this.guarded('history retention', () => {
      const pruned = this.deps.alarmStore.prune(now - keepMs);
      if (pruned.alarms + pruned.riskChanges + pruned.deadLetters > 0) this.deps.log.info({ pruned, keptDays: keepMs / 86_400_000 }, 'history past its retention pruned');
    });
  }

  /** Raises or clears a condition of the system (no-op when it already stands so). */
  private systemCondition(code: string, active: boolean, message: string, now: number, condition: 'storage_unavailable' | 'monitoring_chain' = 'storage_unavailable'): void {
    const key = conditionKey(systemOriginator(code), condition, null);
    if (active === (this.book.activeOf(key) !== undefined)) return;
    this.changed.push(...this.book.apply(ownChange(systemOriginator(code), condition, condition === 'monitoring_chain' ? 'critical' : 'major', active, message, now), now));
  }

  /**
   * The watchdog's verdict on one hop of the monitoring chain (`broker`: the heartbeat through the broker and back
   * into this pipeline): a `monitoring_chain` alarm (critical) while it is stalled, stored and pushed at once.
   */
  chainHop(hop: string, active: boolean, message: string): void {
    this.guarded('monitoring chain alarm', () => {
      this.systemCondition(`chain-${hop}`, active, message, Date.now(), 'monitoring_chain');
      if (this.changed.length > 0) this.commitAlarms();
    });
  }

  /**
   * One gateway message. An exception that escapes its handling, or one the rule core contained while evaluating
   * it, dead-letters the message whole (`internal_error`, payload kept, stack logged); the stream goes on.
   */
  private handle(msg: RawMessage): void {
    this.inMessage = true;
    this.faults.length = 0;
    let escaped: unknown = null;
    try {
      this.onMessage(msg);
    } catch (err) {
      escaped = err;
    } finally {
      this.inMessage = false;
    }
    if (escaped === null && this.faults.length === 0) return;
    this.guarded('internal error dead letter', () => {
      const errors = escaped === null ? this.faults.map((f) => f.error) : [escaped, ...this.faults.map((f) => f.error)];
      const points = this.faults.flatMap((f) => (f.reading ? [f.reading.point.code] : []));
      for (const err of errors) this.deps.log.error({ err, topic: msg.topic }, 'internal error while handling a message; dead-lettered, the stream goes on');
      if (escaped !== null) this.deps.metrics.internalErrors.inc({ during: 'message' });
      const detail = `${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}${points.length > 0 ? ` (points ${[...new Set(points)].join(', ')})` : ''}`;
      this.deadLetter(msg, { reason: 'internal_error', detail }, msg.payload.length);
      if (this.changed.length > 0) this.commitAlarms();
    });
    // Readings not handed to the store would hold the broker's next message forever: the payload is kept in the
    // dead letter, so acknowledging is safe. (A message whose readings were handed over is acknowledged by the store.)
    if (escaped !== null) msg.ack();
  }

  /** Runs work of a timer or subscription; an exception is logged and counted, and the timer goes on. */
  private guarded(what: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.deps.log.error({ err, during: what }, 'internal error contained');
      this.deps.metrics.internalErrors.inc({ during: 'timer' });
    }
  }

  /**
   * After a restart: the rule core takes each point's newest stored reading of the last day as its present value
   * (docs/safety.md), so an on-delay or a composite clause that only it knew goes on. A store that cannot answer
   * costs that, not the boot.
   */
  async seedFromStore(now = Date.now()): Promise<void> {
    let readings: Reading[];
    try {
      readings = await this.deps.seriesStore.latest(this.deps.registry.registry.allPoints(), now - SEED_WINDOW_MS);
    } catch (err) {
      this.deps.log.warn({ err }, 'newest stored readings not available; the rule core starts from the active alarms only');
      return;
    }
    this.guarded('seed from the series store', () => {
      this.engine.seed(readings, now, (c) => this.onCondition(c));
      if (this.changed.length > 0) this.commitAlarms();
    });
    this.deps.log.info({ points: readings.length }, 'rule core seeded with the newest stored readings');
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
    if (this.changed.length > 0) this.guarded('alarm commit at stop', () => this.commitAlarms());
    if (this.storeTimer !== null) clearTimeout(this.storeTimer);
    this.storeTimer = null;
    this.guarded('alarm store commit at stop', () => this.flushPending());
  }

  /** Commits (and pushes) the changes gathered so far once this turn's other messages have been handled. */
  private commitSoon(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.guarded('alarm commit', () => {
        if (this.changed.length > 0) this.commitAlarms('system', 'system', 'soon');
      });
    });
  }

  private onMessage(msg: RawMessage): void {
    const { metrics } = this.deps;
    const heartbeat = this.deps.heartbeat;
    if (heartbeat !== undefined && msg.topic === heartbeat.topic) {
      msg.ack();
      heartbeat.arrived(msg.payload, msg.receivedAt);
      return;
    }
    metrics.messages.inc();
    let decoded;
    try {
      decoded = decodeMessage(msg.topic, msg.payload, msg.receivedAt, this.deps.registry);
    } catch (err) {
      decoded = { kind: 'rejected' as const, rejection: { reason: 'bad_schema' as const, detail: `decoder error: ${String(err)}` } };
    }
    switch (decoded.kind) {
      case 'rejected':
        this.deadLetter(msg, decoded.rejection);
        msg.ack();
        return;
      case 'status': {
        // Only registered gateways have a status: anything else could grow the table without bound.
        if (!this.deps.registry.registry.findGateway(decoded.enterpriseCode, decoded.gatewayCode)) {
          this.deadLetter(msg, { reason: 'unknown_gateway', detail: `gateway ${decoded.gatewayCode} of enterprise ${decoded.enterpriseCode} is not registered` });
          msg.ack();
          return;
        }
        const status: GatewayStatus = {
          enterpriseCode: decoded.enterpriseCode,
          gatewayCode: decoded.gatewayCode,
          state: decoded.state,
          since: new Date(msg.receivedAt).toISOString(),
        };
        this.gatewayStates.set(`${status.enterpriseCode}/${status.gatewayCode}`, status);
        this.deps.hub.publishGateway(status);
        const before = this.changed.length;
        this.inputs$.next({ kind: 'gateway', enterpriseCode: status.enterpriseCode, gatewayCode: status.gatewayCode, state: status.state });
        if (this.changed.length > before) this.arrivals.push(msg.receivedAt);
        if (this.changed.length > 0) this.commitSoon();
        msg.ack();
        return;
      }
      case 'telemetry': {
        this.deadLetterReadings(msg, decoded.rejections);
        // Stored and evaluated at the same, arrival-bounded times.
        const readings = decoded.clockAheadMs > 0 ? boundedByArrival(decoded.readings, msg.receivedAt) : decoded.readings;
        if (readings.length === 0) {
          msg.ack();
          return;
        }
        metrics.readings.inc(readings.length);
        this.deps.dataQuality?.board.record(readings, msg.receivedAt);
        this.deps.seriesStore.write(readings, msg.ack);
        const before = this.changed.length;
        this.inputs$.next({ kind: 'readings', batch: readings, clockAheadMs: decoded.clockAheadMs });
        if (this.changed.length > before) this.arrivals.push(msg.receivedAt);
        if (this.changed.length > 0) this.commitSoon();
        this.deps.hub.publishReadings(readings);
        return;
      }
    }
  }

  /**
   * A person's action on an alarm (acknowledge, dispose, shelve…), committed, audited and pushed before it returns.
   * Throws AlarmStoreUnavailable, with nothing applied, when the store cannot take it.
   */
  act(id: string, action: Action, origin: string): ActionResult {
    return this.personal(action.by, origin, () => {
      const result = this.book.act(id, action, new Date().toISOString());
      if (result.ok) this.changed.push(...result.events);
      return result;
    });
  }

  /** Takes a point out of service for maintenance (its alarms are marked, not escalated, not counted in risk). */
  takeOutOfService(enterpriseCode: string, pointCode: string, by: string, reason: string, forS: number, origin: string): MaintenanceWindow {
    const now = Date.now();
    const window: MaintenanceWindow = { enterpriseCode, pointCode, by, reason, at: new Date(now).toISOString(), until: new Date(now + forS * 1000).toISOString() };
    return this.personal(by, origin, () => {
      this.changed.push(...this.book.takeOutOfService(window));
      this.pendingAudit.push(pointAudit(enterpriseCode, pointCode, 'out_of_service', by, origin, { reason, until: window.until }));
      return window;
    }, () => this.deps.alarmStore.saveMaintenance(window));
  }

  /** Puts a point back in service; false when it was not out of service. */
  putInService(enterpriseCode: string, pointCode: string, by: string, origin: string): boolean {
    return this.personal(by, origin, () => {
      const events = this.book.putInService(enterpriseCode, pointCode, new Date().toISOString());
      if (events === null) return false;
      this.changed.push(...events);
      this.pendingAudit.push(pointAudit(enterpriseCode, pointCode, 'in_service', by, origin, {}));
      return true;
    }, () => this.deps.alarmStore.removeMaintenance(enterpriseCode, pointCode));
  }

  /** The alarm store's state as the pipeline sees it: failing while commits wait to be retried. */
  /** Alarm states and audit and risk records kept in memory because the alarm store cannot take them (0: none). */
  get unsavedRecords(): number {
    if (this.storeFailure === null) return 0;
    const { alarms, records, beyondBound } = this.unsaved.counts;
    return alarms + records + beyondBound;
  }

  alarmStoreHealth(): StoreHealth {
    const base = this.deps.alarmStore.health();
    if (this.storeFailure === null) return base;
    const { alarms, records, beyondBound } = this.unsaved.counts;
    return {
      ...base,
      ok: false,
      detail: `cannot write since ${this.storeFailure.since}: ${this.storeFailure.error}; ${alarms} alarms and ${records} audit and risk records kept in memory, retried${beyondBound > 0 ? `; ${beyondBound} records past the bound counted only` : ''}`,
    };
  }

  /**
   * Runs a person's change and commits it with `extra` store work in one transaction; when the store is failing or
   * refuses it, the book is put back as it was and AlarmStoreUnavailable is thrown: a 200 means it is stored.
   */
  private personal<T>(actor: string, origin: string, work: () => T, extra?: () => void): T {
    // Changes of the system still waiting (a timer that failed before its commit) are its own, not this person's,
    // and are stored before it, in order.
    if (this.changed.length > 0) this.commitAlarms();
    this.flushPending();
    if (this.storeFailure !== null) throw new AlarmStoreUnavailable(`the alarm store is failing (${this.storeFailure?.error ?? 'unknown'}); nothing was changed, try again`);
    const before: BookSnapshot = this.book.snapshot();
    const auditBefore = [...this.pendingAudit];
    const result = work();
    if (this.changed.length === 0 && this.pendingAudit.length === auditBefore.length && extra === undefined) return result;
    const events = this.changed;
    this.changed = [];
    const batch = this.batchOf(events, actor, origin);
    try {
      this.deps.alarmStore.transaction(() => {
        extra?.();
        this.write(batch);
      });
    } catch (err) {
      this.book.rollback(before);
      this.pendingAudit = auditBefore;
      // The board took the action's colours when the batch was made: bring it back to the alarms as they are.
      this.riskOf(events);
      this.deps.log.error({ err, actor }, 'alarm store refused a person\'s action; nothing applied');
      throw new AlarmStoreUnavailable(`the alarm store refused the change (${err instanceof Error ? err.message : String(err)}); nothing was changed, try again`);
    }
    this.publish(events, batch.risk);
    return result;
  }

  private batchOf(events: readonly AlarmEvent[], actor: string, origin: string): CommitBatch {
    return { ...this.statesAndAudit(events, actor, origin), risk: this.riskOf(events) };
  }

  /** The states `events` left each alarm in and their audit entries, after the system's own steps still waiting. */
  private statesAndAudit(events: readonly AlarmEvent[], actor: string, origin: string): Omit<CommitBatch, 'risk'> {
    const latest = new Map<string, Alarm>();
    for (const e of events) latest.set(e.alarm.id, e.alarm);
    return { alarms: [...latest.values()], audit: [...this.pendingAudit.splice(0), ...events.map((e) => auditRecord(e, actor, origin))] };
  }

  /**
   * The group commit's batches of a turn's changes, in order, EVENTS_PER_BATCH events each: every batch holds the
   * states its events left and their audit entries, so the store agrees with itself between any two; the risk
   * changes go with the last.
   */
  private batchesOf(events: readonly AlarmEvent[], actor: string, origin: string): CommitBatch[] {
    const batches: CommitBatch[] = [];
    for (let i = 0; i === 0 || i < events.length; i += EVENTS_PER_BATCH) batches.push({ ...this.statesAndAudit(events.slice(i, i + EVENTS_PER_BATCH), actor, origin), risk: [] });
    const last = batches.pop()!;
    batches.push({ ...last, risk: this.riskOf(events) });
    return batches;
  }

  /** Risk changes the events cause; a fault in the risk assessment costs the colours, never the alarms. */
  private riskOf(events: readonly AlarmEvent[]): RiskHistoryEntry[] {
    if (events.length === 0) return [];
    try {
      return riskEntries(this.risk.assess(this.book.activeAlarms(), Date.now(), new Set(events.map((e) => e.alarm.enterpriseCode))));
    } catch (err) {
      this.deps.log.error({ err }, 'risk assessment failed; alarms committed and pushed without it');
      this.deps.metrics.internalErrors.inc({ during: 'risk' });
      return [];
    }
  }

  /** One transaction's worth: alarm states, their audit entries and the risk changes they cause never disagree. */
  private write(batch: CommitBatch): void {
    this.deps.alarmStore.saveAll(batch.alarms);
    this.deps.auditLog.append(batch.audit);
    if (batch.risk.length > 0) this.deps.alarmStore.recordRiskChanges(batch.risk);
  }

  /**
   * Pushes the alarm changes gathered so far on WebSocket and to the series store, and stores them: `soon` (the
   * alarms of gateway messages) by the group commit, since a crash before it costs nothing the restart does not
   * raise again from the stored readings; `now` (the clock's escalations, shelving ends, the system's own
   * conditions) before they are pushed, as a restart could not know them otherwise. When the store refuses,
   * operators still get the push: the batch waits in memory, in order, behind any earlier one, is retried on the
   * clock, and a `storage_unavailable` alarm says so.
   */
  private commitAlarms(actor = 'system', origin = 'system', when: 'now' | 'soon' = 'now'): void {
    const events = this.changed;
    this.changed = [];
    let risk: readonly RiskHistoryEntry[] = [];
    try {
      const batches = this.batchesOf(events, actor, origin);
      risk = batches.at(-1)!.risk;
      for (const batch of batches) this.storeSoon(batch);
      if (when === 'now') this.flushPending();
    } finally {
      // Whatever failed above, the people on duty see the change at once; the store has it within STORE_WINDOW_MS.
      this.publish(events, risk);
    }
  }

  /**
   * Group commit: batches pushed within STORE_WINDOW_MS are written in order, in slices of about SLICE_RECORDS
   * records, one per turn; what comes while slices are being written joins them. While the store is failing they
   * wait in memory behind the earlier ones instead.
   */
  private storeSoon(batch: CommitBatch): void {
    if (this.storeFailure !== null) {
      this.unsaved.add(batch);
      return;
    }
    this.toStore.push(batch);
    if (this.storeTimer !== null) return;
    this.storeTimer = setTimeout(() => {
      this.storeTimer = null;
      // Slices still going after a whole window mean changes come faster than slices take them: all in one, so the
      // backlog never outgrows a window.
      this.guarded('alarm store commit', () => (this.nextSlice === null ? this.writeSlice() : this.flushPending()));
    }, STORE_WINDOW_MS);
  }

  /** Writes the next slice of what waits; the rest follows on the next turn. */
  private writeSlice(): void {
    this.nextSlice = null;
    let n = 0;
    for (let records = 0; n < this.toStore.length && records < SLICE_RECORDS; n++) records += recordsOf(this.toStore[n]!);
    if (n === 0) return;
    if (!this.commit(mergedBatches(this.toStore.splice(0, n)))) return;
    if (this.toStore.length > 0) this.nextSlice = setImmediate(() => this.guarded('alarm store commit', () => this.writeSlice()));
  }

  /** Writes everything waiting for the group commit now, in one transaction (before a read of the store, a person's action, a stop). */
  flushPending(): void {
    if (this.nextSlice !== null) clearImmediate(this.nextSlice);
    this.nextSlice = null;
    if (this.toStore.length > 0) this.commit(mergedBatches(this.toStore.splice(0)));
  }

  /** One transaction; when the store refuses it, it and every batch still waiting are kept in memory, in order. */
  private commit(batch: CommitBatch): boolean {
    try {
      const timer = this.deps.metrics.alarmCommit.startTimer();
      this.deps.alarmStore.transaction(() => this.write(batch));
      timer();
      return true;
    } catch (err) {
      this.unsaved.add(batch);
      for (const waiting of this.toStore.splice(0)) this.unsaved.add(waiting);
      this.storeFailed(err);
      return false;
    }
  }

  private storeFailed(err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    this.deps.log.error({ err, waiting: this.unsaved.counts }, 'alarm store write failed; changes kept in memory and retried');
    if (this.storeFailure !== null) return;
    this.storeFailure = { since: new Date().toISOString(), error };
    this.systemCondition('alarm-store', true, `alarm store cannot write (${error}): alarm changes are pushed but not stored yet; retried`, Date.now());
    if (this.changed.length > 0) this.commitAlarms();
  }

  /** Writes everything waiting, in order, in one transaction; on success the store is healthy again. */
  private retryUnsaved(): void {
    if (this.storeFailure === null) return;
    const waiting = this.unsaved.counts;
    try {
      const batch = this.unsaved.batch();
      this.deps.alarmStore.transaction(() => this.write(batch));
    } catch (err) {
      this.deps.log.warn({ err: String(err), waiting }, 'alarm store still refuses writes');
      return;
    }
    this.deps.log.info({ written: waiting, since: this.storeFailure.since }, 'alarm store writing again; the changes kept in memory are stored in order');
    this.unsaved.clear();
    this.storeFailure = null;
    this.systemCondition('alarm-store', false, 'alarm store writing again: the changes kept in memory are stored', Date.now());
    if (this.changed.length > 0) this.commitAlarms();
  }

  private publish(events: readonly AlarmEvent[], risk: readonly RiskHistoryEntry[]): void {
    this.deps.metrics.activeAlarms.set(this.book.activeCount);
    for (const { kind, alarm } of events) {
      this.deps.metrics.alarmEvents.inc({ kind });
      this.deps.log.info({ alarmId: alarm.id, kind, key: alarm.key, level: alarm.level, status: alarm.status, message: alarm.message }, 'alarm');
    }
    this.deps.hub.publishAlarms(events);
    if (risk.length > 0) this.deps.hub.publishRisk(risk);
    if (this.deps.notify && events.length > 0) {
      // A failing notifier costs its messages (said in the log and on /health), never an alarm or its push.
      try {
        this.deps.notify(events);
      } catch (err) {
        this.deps.log.error({ err }, 'notifications could not be decided or stored for these alarm changes');
        this.deps.metrics.internalErrors.inc({ during: 'notify' });
      }
    }
    if (this.arrivals.length > 0) {
      const now = Date.now();
      for (const at of this.arrivals) this.deps.metrics.alarmPushDelay.observe((now - at) / 1000);
      this.arrivals = [];
    }
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

  /**
   * Readings of one message refused one by one: one dead letter per reason, counting them and naming the first, so
   * a message of thousands of bad readings costs a few records, not thousands.
   */
  private deadLetterReadings(msg: RawMessage, rejections: readonly Rejection[]): void {
    if (rejections.length === 0) return;
    const byReason = new Map<DeadLetterReason, Rejection[]>();
    for (const r of rejections) {
      const list = byReason.get(r.reason);
      if (list) list.push(r);
      else byReason.set(r.reason, [r]);
    }
    for (const [reason, list] of byReason) {
      const detail = list.length === 1 ? list[0]!.detail : `${list.length} readings, the first: ${list[0]!.detail}`;
      this.deadLetter(msg, { reason, detail }, EXCERPT, list.length);
    }
  }

  /** `keep`: bytes of the payload kept (an excerpt, or all of it for an internal error, to replay it); `count`: readings refused. */
  private deadLetter(msg: RawMessage, rejection: Rejection, keep = EXCERPT, count = 1): void {
    // Labels and counts only for registered gateways, so arbitrary topics cannot grow them without bound.
    const [, e = '', g = ''] = msg.topic.split('/');
    const registered = msg.topic.startsWith('sites/') && this.deps.registry.registry.findGateway(e, g) !== undefined;
    const enterprise = registered ? e : UNREGISTERED;
    const gateway = registered ? g : UNREGISTERED;
    this.deps.metrics.deadLetters.inc({ reason: rejection.reason, enterprise, gateway }, count);
    const key = `${enterprise}/${gateway}`;
    const counts = this.refusals.get(key) ?? {};
    counts[rejection.reason] = (counts[rejection.reason] ?? 0) + count;
    this.refusals.set(key, counts);
    const letter: DeadLetter = {
      reason: rejection.reason,
      detail: rejection.detail,
      topic: msg.topic,
      payloadExcerpt: msg.payload.subarray(0, keep).toString('utf8'),
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
