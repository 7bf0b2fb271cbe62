import type { AlarmSeverity, ConditionType, JurisdictionLevel } from './alarm-kinds.js';
// Types shared by every module. No runtime code beyond injection tokens.

export type PointType =
  | 'temperature'
  | 'pressure'
  | 'level'
  | 'flow'
  | 'combustible_gas'
  | 'toxic_gas'
  | 'oxygen'
  | 'differential_pressure'
  | 'water_level'
  | 'spark'
  | 'state'
  | 'power'
  | 'current';

export interface PointLimits {
  readonly ll: number | null;
  readonly l: number | null;
  readonly h: number | null;
  readonly hh: number | null;
}

export type PointPriority = 'high' | 'medium' | 'low';

/** The settings of a point that a rule profile may supply. */
export type ProfileSetting = 'll' | 'l' | 'h' | 'hh' | 'deadband' | 'onDelayS' | 'offDelayS' | 'priority' | 'rate' | 'trend' | 'stuck' | 'noDataPeriods';

/** Rate-of-change alarm: the least-squares slope over `windowS` at or beyond a rise or fall per minute. */
export interface RateSetting {
  readonly risePerMin: number | null;
  readonly fallPerMin: number | null;
  readonly windowS: number;
}

/** Early warning: the linear trend over `windowS` reaches the outer limit (HH, else H; LL, else L) within `horizonS`. */
export interface TrendSetting {
  readonly horizonS: number;
  readonly windowS: number;
}

/** Stuck sensor: `periods` readings in a row within ±`band` of the first of them. */
export interface StuckSetting {
  readonly periods: number;
  readonly band: number;
}

/** The rules beyond limits that a point takes part in; each null when off. */
export interface PointRules {
  readonly rate: RateSetting | null;
  readonly trend: TrendSetting | null;
  readonly stuck: StuckSetting | null;
  /** Data interruption after this many sample periods without a reading. */
  readonly noDataPeriods: number;
}

/** A named set of defaults by point type (and substance, and unit) that points inherit unless they set their own. */
export interface RuleProfile {
  readonly name: string;
  readonly file: string;
  readonly path: string;
  readonly match: { readonly type: PointType; readonly substance: string | null } | null;
  readonly unit: string | null;
  readonly limits: Partial<PointLimits>;
  readonly deadband?: number;
  readonly onDelayS?: number;
  readonly offDelayS?: number;
  readonly priority?: PointPriority;
  readonly rate?: RateSetting | null;
  readonly trend?: TrendSetting | null;
  readonly stuck?: StuckSetting | null;
  readonly noDataPeriods?: number;
  /** The standard or reason behind the values, shown with every limit taken from the profile. */
  readonly source: string;
}

/** Where a point was declared and which of its effective settings it declared itself (the rest came from `profile`). */
export interface PointOrigin {
  readonly file: string;
  readonly path: string;
  readonly profile: RuleProfile | null;
  readonly own: readonly ProfileSetting[];
}

export interface Point {
  readonly code: string;
  readonly name: string;
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
  readonly hazardSourceCode: string;
  readonly type: PointType;
  /** The gas measured, for gas detectors (e.g. "H2S"); null otherwise. */
  readonly substance: string | null;
  readonly unit: string;
  readonly range: readonly [number, number] | null;
  readonly limits: PointLimits;
  /** Hysteresis: a raised limit alarm clears only once the value is back inside the limit by this much. */
  readonly deadband: number;
  readonly onDelayS: number;
  readonly offDelayS: number;
  /** Expected seconds between two readings (the gateway's reporting period unless the point says otherwise). */
  readonly samplePeriodS: number;
  readonly priority: PointPriority;
  /** What the point does in its hazard source (e.g. "fan", "spray"), for composite rules that select by role. */
  readonly role: string | null;
  readonly rules: PointRules;
  readonly origin: PointOrigin;
}

export type HazardSourceKind =
  | 'tank_farm'
  | 'warehouse'
  | 'reactor_unit'
  | 'production_unit'
  | 'dust_collector'
  | 'polishing_line'
  | 'grinding_line'
  | 'other';

export interface HazardSource {
  readonly code: string;
  readonly name: string;
  readonly enterpriseCode: string;
  readonly kind: HazardSourceKind;
  /** GB 18218-2018 grade, declared or computed from `grading`; null for sites that are not graded (e.g. dust). */
  readonly grade: 1 | 2 | 3 | 4 | null;
  /** R = α Σ βᵢ qᵢ/Qᵢ when the grading inputs were given. */
  readonly r: number | null;
  readonly location: { readonly lat: number; readonly lon: number } | null;
}

export type Industry = 'hazardous_chemicals' | 'dust' | 'mining' | 'other';

/** Administrative divisions derived from a 6-digit region code; county or city is null for a higher-level code. */
export interface Region {
  readonly code: string;
  readonly province: string;
  readonly city: string | null;
  readonly county: string | null;
}

export interface DutyContact {
  readonly name: string;
  readonly role: string | null;
  readonly phone: string;
}

export interface Enterprise {
  readonly code: string;
  readonly name: string;
  readonly industry: Industry;
  readonly regionCode: string;
  readonly region: Region;
  readonly dutyContacts: readonly DutyContact[];
}

export interface Gateway {
  readonly code: string;
  readonly enterpriseCode: string;
  /** Name of the credentials entry the gateway authenticates with (used by the security module). */
  readonly credentialsRef: string | null;
  readonly reportingPeriodS: number;
}

export type Quality = 'good' | 'bad';

/** One decoded measurement, bound to the registry point it belongs to. `ts` is epoch milliseconds (event time). */
export interface Reading {
  readonly point: Point;
  readonly ts: number;
  readonly value: number;
  readonly quality: Quality;
}

export type ReadingBatch = readonly Reading[];

export type LimitLevel = 'HH' | 'H' | 'L' | 'LL';

export type ConditionLevel = LimitLevel | 'ACTIVE';

export type OriginatorKind = 'point' | 'gateway' | 'area' | 'hazard_source' | 'enterprise' | 'system';

/**
 * What raised a condition: a point, a gateway, a voting area, a hazard source (composite rules), an enterprise, or
 * the system itself (a store it cannot write; enterprise code `system`).
 */
export interface Originator {
  readonly kind: OriginatorKind;
  readonly enterpriseCode: string;
  readonly code: string;
  readonly hazardSourceCode: string | null;
  readonly gatewayCode: string | null;
}

/**
 * Emitted by the rule core when a condition changes: raised (`from` null), changed level in place (H → HH), or
 * cleared (`to` null). `key` names the one alarm it belongs to; `from === to` only updates flags (chattering).
 */
export interface ConditionChange {
  readonly key: string;
  readonly originator: Originator;
  readonly condition: ConditionType;
  /** The voting group or composite rule, for conditions that have names. */
  readonly name: string | null;
  readonly from: ConditionLevel | null;
  readonly to: ConditionLevel | null;
  /** Severity of the level entered (of the level left, for a clear). */
  readonly severity: AlarmSeverity;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly unit: string | null;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** Why, in words an operator reads. */
  readonly message: string;
  /** True while the condition chatters (> 5 transitions in 5 min); its transitions are held until it settles. */
  readonly chattering: boolean;
  /** Key of the enterprise's flood alarm this raise is grouped under, or null. */
  readonly floodKey: string | null;
}

/** k-of-n voting: an area alarm when at least `k` of the member points stand at `level` or above (high side). */
export interface VotingGroup {
  readonly enterpriseCode: string;
  readonly code: string;
  readonly name: string;
  readonly hazardSourceCode: string | null;
  readonly points: readonly Point[];
  readonly k: number;
  readonly level: 'H' | 'HH';
  readonly severity: AlarmSeverity;
}

/** One test of a composite rule on the latest good value (or trend, or limit level) of a point. */
export type ClauseTest =
  | { readonly kind: 'above'; readonly value: number }
  | { readonly kind: 'below'; readonly value: number }
  | { readonly kind: 'outside'; readonly low: number; readonly high: number }
  | { readonly kind: 'equals'; readonly value: number }
  | { readonly kind: 'rising'; readonly perMin: number }
  | { readonly kind: 'falling'; readonly perMin: number }
  | { readonly kind: 'level'; readonly level: LimitLevel };

/** A clause holds when any of its points passes its test with a current (not interrupted, good) value. */
export interface CompositeClause {
  readonly points: readonly Point[];
  readonly test: ClauseTest;
}

/** A declarative rule over several points of one hazard source: active while every clause holds. */
export interface CompositeRule {
  readonly enterpriseCode: string;
  readonly hazardSourceCode: string;
  readonly name: string;
  readonly message: string;
  readonly severity: AlarmSeverity;
  readonly onDelayS: number;
  readonly clauses: readonly CompositeClause[];
}

/** Electricity monitoring (电力监测分析) of one enterprise: 15-minute profile of the sum of its `power` points. */
export interface ElectricitySetting {
  readonly enterpriseCode: string;
  readonly capacityKw: number | null;
  readonly declaredState: 'running' | 'stopped';
  /** Above this while declared stopped: production running while declared stopped. */
  readonly stoppedKw: number;
  /** Abnormal when an interval departs from the usual value of its time of day by more than this fraction. */
  readonly baselineTolerance: number;
  /** Days of history a time-of-day slot needs before it is judged. */
  readonly baselineMinDays: number;
  /** UTC offset of the site's clock in minutes (time-of-day slots are local): 480 for China. */
  readonly utcOffsetMin: number;
}

/** One closed 15-minute interval of an enterprise's power profile. */
export interface PowerInterval {
  readonly enterpriseCode: string;
  readonly start: number;
  readonly kw: number;
  /** The usual value of this time of day, once learned. */
  readonly baselineKw: number | null;
}

/** Everything the rule core evaluates, compiled from the registry. */
export interface RuleContext {
  readonly points: readonly Point[];
  readonly gateways: readonly Gateway[];
  readonly votingGroups: readonly VotingGroup[];
  readonly composites: readonly CompositeRule[];
  readonly electricity: readonly ElectricitySetting[];
}

export type AlarmStatus = 'ACTIVE_UNACK' | 'ACTIVE_ACK' | 'CLEARED_UNACK' | 'CLEARED_ACK';

export interface Alarm {
  readonly id: string;
  /** One alarm per key (originator and condition) at a time; its level changes in place (H → HH). */
  readonly key: string;
  readonly originatorKind: OriginatorKind;
  readonly originatorCode: string;
  readonly enterpriseCode: string;
  readonly gatewayCode: string | null;
  readonly hazardSourceCode: string | null;
  /** The point's code for point alarms, else null. */
  readonly pointCode: string | null;
  readonly condition: ConditionType;
  readonly name: string | null;
  readonly level: ConditionLevel;
  readonly severity: AlarmSeverity;
  readonly status: AlarmStatus;
  readonly value: number | null;
  readonly peakValue: number | null;
  readonly threshold: number | null;
  readonly unit: string | null;
  readonly message: string;
  /** Chattering now (held back by chatter protection); it follows the condition and ends when the latch is released. */
  readonly chattering: boolean;
  /** When it was first marked chattering, kept for good (ISA-18.2 reports count alarms that chattered); absent in records stored before this field. */
  readonly chatteredAt?: string | null;
  readonly floodKey: string | null;
  /** Event time of the reading that raised it. */
  readonly raisedAt: string;
  /** Server time when it was raised: escalation deadlines count from here, not from a gateway's clock. */
  readonly detectedAt: string;
  readonly updatedAt: string;
  readonly clearedAt: string | null;
  readonly acknowledged: { readonly by: string; readonly at: string } | null;
  /** Timed shelving: hidden from escalation until `until` (or unshelved), with who and why. */
  readonly shelved: { readonly by: string; readonly reason: string; readonly at: string; readonly until: string } | null;
  /** Set while the alarm's point is out of service for maintenance: recorded, not escalated, not counted in risk. */
  readonly outOfService: MaintenanceWindow | null;
  /** 消警: what caused it, what was done, who handled it. */
  readonly disposal: { readonly cause: string; readonly action: string; readonly handler: string; readonly at: string } | null;
  readonly assignee: string | null;
  readonly comments: readonly { readonly by: string; readonly text: string; readonly at: string }[];
  /** Where the alarm stands in the escalation from the enterprise to the county and city, with each step taken. */
  readonly escalation: {
    readonly level: JurisdictionLevel;
    readonly steps: readonly { readonly level: JurisdictionLevel; readonly regionCode: string; readonly at: string }[];
  };
  /** Set once the alarm is cleared, acknowledged and (when its severity requires it) disposed: it is then final. */
  readonly closedAt: string | null;
}

/** The closed-loop fields of an alarm nobody has handled yet: not acknowledged, shelved, disposed, escalated or closed. */
export const UNHANDLED: Pick<Alarm, 'acknowledged' | 'shelved' | 'outOfService' | 'disposal' | 'assignee' | 'comments' | 'escalation' | 'closedAt'> = Object.freeze({
  acknowledged: null,
  shelved: null,
  outOfService: null,
  disposal: null,
  assignee: null,
  comments: Object.freeze([]),
  escalation: Object.freeze({ level: 'enterprise', steps: Object.freeze([]) }),
  closedAt: null,
});

export type RiskColour = 'red' | 'orange' | 'yellow' | 'blue';

/** Weights of the four-colour risk (四色), from config/risk.yaml (docs/risk.md). */
export interface RiskWeights {
  /** Points for the inherent GB 18218 grade (`ungraded` for sites without one, e.g. dust). */
  readonly grade: Readonly<Record<'1' | '2' | '3' | '4' | 'ungraded', number>>;
  /** Points per active alarm of that severity on the hazard source. */
  readonly activeAlarm: Readonly<Record<AlarmSeverity, number>>;
  /** Points per sensor fault (bad quality, out of range, stuck, no data), instead of its severity's points. */
  readonly sensorFault: number;
  /** Points when a gateway carrying the hazard source's points is offline. */
  readonly gatewayOffline: number;
  /** Points per alarm escalated past the enterprise because nobody acknowledged it. */
  readonly overdueAcknowledgement: number;
  /** Lowest score of each colour; below `yellow` is blue. */
  readonly thresholds: { readonly red: number; readonly orange: number; readonly yellow: number };
}

/** One colour with the reasons behind it, each with its points. */
export interface RiskAssessment {
  readonly enterpriseCode: string;
  /** Null for the enterprise as a whole. */
  readonly hazardSourceCode: string | null;
  readonly colour: RiskColour;
  readonly score: number;
  readonly reasons: readonly { readonly points: number; readonly reason: string }[];
}

/** One change of colour, as stored. */
export interface RiskHistoryEntry {
  readonly at: string;
  readonly enterpriseCode: string;
  readonly hazardSourceCode: string | null;
  readonly from: RiskColour | null;
  readonly to: RiskColour;
  readonly score: number;
  readonly reasons: RiskAssessment['reasons'];
}

/** Escalation (逐级上报) and closing rules, from config/escalation.yaml. */
export interface EscalationPolicy {
  /** By severity: seconds without acknowledgement before the county, then the city, is alerted; null: never escalates. */
  readonly bySeverity: Readonly<Record<AlarmSeverity, { readonly countyAfterS: number; readonly cityAfterS: number } | null>>;
  /** Severities whose alarms cannot close without a disposal record (消警). */
  readonly disposalRequired: readonly AlarmSeverity[];
  /** The longest an alarm may be shelved. */
  readonly maxShelveS: number;
}

export type AlarmEventKind =
  | 'raise'
  | 'update'
  | 'clear'
  | 'ack'
  | 'dispose'
  | 'shelve'
  | 'unshelve'
  | 'comment'
  | 'assign'
  | 'escalate'
  | 'close'
  | 'out_of_service'
  | 'in_service';

/** Sign-ins, refusals and changes of who may do what: audited in the same chain as alarm steps. */
/** A notification of an alarm taken by its channel, or given up after its retry period. */
export type NotificationEventKind = 'notification_sent' | 'notification_failed';

export type SecurityEventKind = 'login' | 'login_failed' | 'logout' | 'access_denied' | 'token_created' | 'token_revoked' | 'user_changed';

/** A point taken out of service for maintenance (检修), until a time or until put back. */
export interface MaintenanceWindow {
  readonly enterpriseCode: string;
  readonly pointCode: string;
  readonly by: string;
  readonly reason: string;
  readonly at: string;
  readonly until: string;
}

/** One change of an alarm, as it happened. */
export interface AlarmEvent {
  readonly kind: AlarmEventKind;
  readonly alarm: Alarm;
}

export type GatewayState = 'online' | 'offline';

export interface GatewayStatus {
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
  readonly state: GatewayState;
  readonly since: string;
}

/** A raw message as the ingest adapter hands it over. `ack` must be called once the message is safely handed off. */
export interface RawMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly receivedAt: number;
  readonly ack: () => void;
}

export type DeadLetterReason =
  | 'bad_topic'
  | 'bad_json'
  | 'bad_schema'
  | 'bad_timestamp'
  | 'future_timestamp'
  | 'unknown_point'
  | 'wrong_gateway'
  | 'bad_status'
  | 'unknown_gateway'
  | 'internal_error';

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly detail: string;
  readonly topic: string;
  readonly payloadExcerpt: string;
  readonly at: string;
}

export interface StoreHealth {
  readonly kind: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface SeriesQuery {
  readonly enterpriseCode: string;
  readonly pointCode: string;
  /** Inclusive bounds, epoch ms. */
  readonly from: number;
  readonly to: number;
  /** Null: raw readings. Else bucket width in ms; buckets start at multiples of it since the epoch. */
  readonly stepMs: number | null;
  /** Raw readings at most (the oldest first); a query reaching it says `truncated`. */
  readonly limit: number;
}

export interface RawSample {
  readonly ts: number;
  readonly value: number;
  readonly quality: Quality;
}

/** One bucket of good-quality readings; buckets without any are left out. */
export interface AggregateSample {
  readonly ts: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly last: number;
  readonly count: number;
}

export type SeriesResult =
  | { readonly stepMs: null; readonly samples: RawSample[]; readonly truncated: boolean }
  | { readonly stepMs: number; readonly samples: AggregateSample[]; readonly truncated: false };

/** Port: durable series storage. `write` never blocks; `onAccepted` fires once the batch is within the buffer bound. */
export interface SeriesStore {
  write(batch: ReadingBatch, onAccepted: () => void): void;
  /** History of one point; both stores answer the same query alike (see the contract tests). */
  query(q: SeriesQuery): Promise<SeriesResult>;
  /**
   * The newest stored reading of each given point taken at or after `since` (epoch ms), for the rule core to go on
   * from after a restart; points without one are left out.
   */
  latest(points: readonly Point[], since: number): Promise<Reading[]>;
  /** Alarm changes as a series of their own (for chart annotations), where the store keeps one. */
  recordAlarmEvents(events: readonly AlarmEvent[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): StoreHealth;
}

export interface AlarmFilter {
  /** `open`: not closed yet (active, or cleared and waiting for acknowledgement or disposal). */
  readonly state?: 'active' | 'open' | 'closed' | 'all';
  readonly status?: AlarmStatus;
  readonly severity?: AlarmSeverity;
  readonly condition?: ConditionType;
  readonly enterpriseCode?: string;
  readonly hazardSourceCode?: string;
  /** Any of these enterprises (e.g. the enterprises within a region). */
  readonly enterpriseCodes?: readonly string[];
  /** Raised within [from, to], epoch ms. */
  readonly from?: number;
  readonly to?: number;
  readonly offset: number;
  readonly limit: number;
}

/** Port: durable alarm state and dead-letter records. */
export interface AlarmStore {
  /** Alarms not closed yet: active ones and cleared ones still waiting for acknowledgement or disposal. */
  loadOpen(): Alarm[];
  get(id: string): Alarm | undefined;
  /** Newest raised first, with the total matching. */
  query(filter: AlarmFilter): { total: number; items: Alarm[] };
  /** Commits every given alarm state in one transaction before returning. */
  saveAll(alarms: readonly Alarm[]): void;
  /** Runs `work` in one transaction (nested saves join it): alarm states, their audit entries and risk changes commit together. */
  transaction<T>(work: () => T): T;
  recordDeadLetter(letter: DeadLetter): void;
  listDeadLetters(limit: number): DeadLetter[];
  /** Points out of service, kept across restarts. */
  loadMaintenance(): MaintenanceWindow[];
  saveMaintenance(window: MaintenanceWindow): void;
  removeMaintenance(enterpriseCode: string, pointCode: string): void;
  /** Appends changes of four-colour risk (their history). */
  recordRiskChanges(changes: readonly RiskHistoryEntry[]): void;
  riskHistory(filter: { enterpriseCode?: string; offset: number; limit: number }): { total: number; items: RiskHistoryEntry[] };
  /** Forgets closed alarms, risk history and dead letters older than `before` (epoch ms); never the audit log. */
  prune(before: number): { alarms: number; riskChanges: number; deadLetters: number };
  close(): void;
  health(): StoreHealth;
}

/** One entry of the append-only audit log; `hash` chains it to the entry before. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  /** Who: a user name, or `system` for the rule core and timers. */
  readonly actor: string;
  /** Where from: the client address of an API call, or `system`. */
  readonly origin: string;
  /**
   * A step of an alarm; `audit_gap`: entries the alarm store could not take and memory could not keep (counted); or
   * a security event (then `alarmId` is empty unless the event concerns an alarm).
   */
  readonly action: AlarmEventKind | 'audit_gap' | SecurityEventKind | NotificationEventKind;
  readonly alarmId: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditRecord = Pick<AuditEntry, 'at' | 'actor' | 'origin' | 'action' | 'alarmId' | 'detail'>;

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  /** Hash of the newest entry: keep it elsewhere to detect a cut-off tail later. */
  readonly head: string;
  /** The first entry that does not check out, and why. */
  readonly problem: { readonly seq: number; readonly reason: string } | null;
}

/** Port: append-only, hash-chained audit log. */
export interface AuditLog {
  /** Appends in one transaction, each entry chained to the one before. */
  append(records: readonly AuditRecord[]): void;
  list(filter: { alarmId?: string; offset: number; limit: number }): { total: number; items: AuditEntry[] };
  verify(): AuditVerification;
}

export const SERIES_STORE = Symbol('SERIES_STORE');
export const ALARM_STORE = Symbol('ALARM_STORE');
export const APP_CONFIG = Symbol('APP_CONFIG');
export const REGISTRY = Symbol('REGISTRY');
export const LOGGER = Symbol('LOGGER');

/** What decode needs of the registry. */
export interface PointLookup {
  findPoint(enterpriseCode: string, pointCode: string): Point | undefined;
}
export * from './auth.js';
export * from './notify.js';
export * from './alarm-kinds.js';
