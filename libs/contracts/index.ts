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
export type ProfileSetting = 'll' | 'l' | 'h' | 'hh' | 'deadband' | 'onDelayS' | 'offDelayS' | 'priority';

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
export type LimitSide = 'high' | 'low';

/** Emitted by the rule core when a point's limit level on one side changes. `to: null` means back to normal. */
export interface LimitTransition {
  readonly point: Point;
  readonly side: LimitSide;
  readonly from: LimitLevel | null;
  readonly to: LimitLevel | null;
  readonly value: number;
  /** The limit crossed (for a raise or escalation) or the limit left (for a clear). */
  readonly threshold: number;
  readonly ts: number;
}

export type AlarmSeverity = 'critical' | 'major';
export type AlarmStatus = 'ACTIVE_UNACK' | 'ACTIVE_ACK' | 'CLEARED_UNACK' | 'CLEARED_ACK';

export interface Alarm {
  readonly id: string;
  readonly pointCode: string;
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
  readonly hazardSourceCode: string;
  /** One limit alarm per point and side; `type` is its current level and changes in place (H → HH). */
  readonly side: LimitSide;
  readonly type: LimitLevel;
  readonly severity: AlarmSeverity;
  readonly status: AlarmStatus;
  readonly value: number;
  readonly peakValue: number;
  readonly threshold: number;
  readonly unit: string;
  readonly raisedAt: string;
  readonly updatedAt: string;
  readonly clearedAt: string | null;
}

export type AlarmEventKind = 'raise' | 'update' | 'clear';

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
  | 'bad_status';

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
  /** Alarm changes as a series of their own (for chart annotations), where the store keeps one. */
  recordAlarmEvents(events: readonly AlarmEvent[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): StoreHealth;
}

/** Port: durable alarm state and dead-letter records. */
export interface AlarmStore {
  loadActive(): Alarm[];
  list(filter: { status?: 'active' | 'all'; limit: number }): Alarm[];
  /** Commits every given alarm state in one transaction before returning. */
  saveAll(alarms: readonly Alarm[]): void;
  recordDeadLetter(letter: DeadLetter): void;
  listDeadLetters(limit: number): DeadLetter[];
  close(): void;
  health(): StoreHealth;
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
