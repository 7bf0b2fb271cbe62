import type { AlarmSeverity, ConditionType, RiskColour } from '#libs/contracts/index.js';

/** Bilingual labels: 中文 first, then English. */
export const CONDITION: Readonly<Record<ConditionType, string>> = {
  limit_high: '超上限 high limit', limit_low: '超下限 low limit', rate_of_change: '变化率 rate', trend_to_limit: '趋势 trend',
  bad_quality: '坏值 bad', out_of_range: '超量程 range', sensor_stuck: '卡滞 stuck', no_data: '中断 no data',
  gateway_offline: '离线 offline', vote: '表决 vote', composite: '联动 composite', power_over_capacity: '超容 capacity',
  power_while_stopped: '停产用电 stopped', power_abnormal: '用电异常 power', alarm_flood: '报警洪流 flood',
  clock_skew: '时钟偏差 clock skew', evaluation_error: '计算错误 evaluation error', storage_unavailable: '存储不可用 storage',
  monitoring_chain: '监测链路中断 monitoring chain', data_incomplete: '数据不完整 data incomplete',
};

export const SEVERITY: Readonly<Record<AlarmSeverity, string>> = { critical: '紧急 critical', major: '重要 major', minor: '一般 minor', warning: '预警 warning' };
export const SEVERITIES: readonly AlarmSeverity[] = ['critical', 'major', 'minor', 'warning'];

export const COLOUR: Readonly<Record<RiskColour, string>> = { red: '红 red', orange: '橙 orange', yellow: '黄 yellow', blue: '蓝 blue' };
export const COLOURS: readonly RiskColour[] = ['red', 'orange', 'yellow', 'blue'];
export const COLOUR_HEX: Readonly<Record<RiskColour, string>> = { red: '#e5383b', orange: '#f08c00', yellow: '#fcc419', blue: '#1c7ed6' };

export const STATUS: Readonly<Record<string, string>> = {
  ACTIVE_UNACK: '报警·未确认 active, unacked', ACTIVE_ACK: '报警·已确认 active, acked',
  CLEARED_UNACK: '恢复·未确认 cleared, unacked', CLEARED_ACK: '恢复·待关闭 cleared, acked',
};

export const SESSION_ENDED = '会话已结束，请重新登录 Your session has ended: sign in again';
