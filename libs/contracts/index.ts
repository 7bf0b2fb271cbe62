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

export interface Point {
  readonly code: string;
  readonly name: string;
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
  readonly hazardSourceCode: string;
  readonly type: PointType;
  readonly unit: string;
  readonly range: readonly [number, number] | null;
  readonly limits: PointLimits;
  /** Hysteresis: a raised limit alarm clears only once the value is back inside the limit by this much. */
  readonly deadband: number;
}

export interface HazardSource {
  readonly code: string;
  readonly name: string;
  readonly enterpriseCode: string;
  readonly kind: string;
  readonly grade: 1 | 2 | 3 | 4 | null;
}

export interface Enterprise {
  readonly code: string;
  readonly name: string;
  readonly regionCode: string;
}

export interface Gateway {
  readonly code: string;
  readonly enterpriseCode: string;
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

/** Port: durable series storage. `write` never blocks; `onAccepted` fires once the batch is within the buffer bound. */
export interface SeriesStore {
  write(batch: ReadingBatch, onAccepted: () => void): void;
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
