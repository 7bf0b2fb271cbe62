// What alarms are about and how grave they are: shared by the alarm and notification contracts.

/** What an alarm is about. Limit alarms have levels; every other condition is simply active or not. */
export type ConditionType =
  | 'limit_high'
  | 'limit_low'
  | 'rate_of_change'
  | 'trend_to_limit'
  | 'bad_quality'
  | 'out_of_range'
  | 'sensor_stuck'
  | 'no_data'
  | 'gateway_offline'
  | 'vote'
  | 'composite'
  | 'power_over_capacity'
  | 'power_while_stopped'
  | 'power_abnormal'
  | 'alarm_flood'
  | 'clock_skew'
  | 'evaluation_error'
  | 'storage_unavailable'
  | 'monitoring_chain'
  | 'data_incomplete';

/** Every condition, in the order the API documents them. */
export const CONDITION_TYPES: readonly ConditionType[] = [
  'limit_high', 'limit_low', 'rate_of_change', 'trend_to_limit', 'bad_quality', 'out_of_range', 'sensor_stuck', 'no_data',
  'gateway_offline', 'vote', 'composite', 'power_over_capacity', 'power_while_stopped', 'power_abnormal', 'alarm_flood',
  'clock_skew', 'evaluation_error', 'storage_unavailable', 'monitoring_chain', 'data_incomplete',
];

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning';

/** Severities from the least to the gravest, for comparing two. */
export const SEVERITY_RANK: Readonly<Record<AlarmSeverity, number>> = { warning: 0, minor: 1, major: 2, critical: 3 };

/** The levels of the jurisdiction an alarm escalates through. */
export type JurisdictionLevel = 'enterprise' | 'county' | 'city';
