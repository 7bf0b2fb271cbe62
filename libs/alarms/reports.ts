import type { Alarm, AlarmSeverity } from '#libs/contracts/index.js';

const TEN_MIN = 600_000;
const DAY = 86_400_000;

export interface ReportRange {
  readonly from: number;
  readonly to: number;
  /** For "alarms per day": days are local days at this UTC offset (480 for China). */
  readonly utcOffsetMin: number;
  readonly now: number;
}

export interface EnterpriseReport {
  readonly enterpriseCode: string;
  readonly raised: number;
  readonly perDay: Readonly<Record<string, number>>;
  readonly bySeverity: Readonly<Record<AlarmSeverity, number>>;
  /** Mean minutes from raise to acknowledgement / to disposal, over the alarms that had one; null without any. */
  readonly meanMinutesToAcknowledge: number | null;
  readonly meanMinutesToDispose: number | null;
  /** Escalated past the enterprise (county or city) for want of an acknowledgement. */
  readonly escalated: number;
  /** Still unacknowledged after escalation, at `now`. */
  readonly overdue: number;
  /** Hours within the range during which a gateway of the enterprise was offline (a regulator's KPI). */
  readonly gatewayOfflineHours: number;
}

/** ISA-18.2 / IEC 62682 performance figures over the range. */
export interface IsaFigures {
  readonly alarmsPer10MinAverage: number;
  readonly alarmsPer10MinPeak: number;
  /** Share of 10-minute intervals with more than 10 alarms (target: < 1 %). */
  readonly floodIntervalShare: number;
  readonly floods: number;
  /** Alarms that chattered at any time (marked chattering now, or `chatteredAt` set). */
  readonly chattering: number;
  /** Active alarms standing more than 24 h at `now`. */
  readonly stale: number;
  /** Percent of raises per severity (ISA suggests about 80/15/5 low/medium/high). */
  readonly severityMix: Readonly<Record<AlarmSeverity, number>>;
}

const severities = (): Record<AlarmSeverity, number> => ({ critical: 0, major: 0, minor: 0, warning: 0 });
const mean = (xs: number[]): number | null => (xs.length === 0 ? null : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10);

/**
 * Supervisors' report over the alarms raised in a range (and, for stale and overdue, the alarms still open):
 * per enterprise per day, mean times to acknowledge and dispose, escalated and overdue alarms, gateway offline
 * hours, and the ISA-18.2 figures.
 */
export function alarmReport(raised: readonly Alarm[], open: readonly Alarm[], r: ReportRange): { enterprises: EnterpriseReport[]; isa: IsaFigures } {
  const inRange = raised.filter((a) => {
    const t = Date.parse(a.raisedAt);
    return t >= r.from && t <= r.to;
  });
  const byEnterprise = new Map<string, Alarm[]>();
  for (const a of inRange) byEnterprise.set(a.enterpriseCode, [...(byEnterprise.get(a.enterpriseCode) ?? []), a]);
  const offlineHours = new Map<string, number>();
  for (const a of [...raised, ...open]) {
    if (a.condition !== 'gateway_offline') continue;
    const start = Math.max(Date.parse(a.raisedAt), r.from);
    const end = Math.min(a.clearedAt === null ? r.now : Date.parse(a.clearedAt), r.to);
    if (end > start) offlineHours.set(`${a.enterpriseCode}/${a.id}`, (end - start) / 3_600_000);
  }
  const enterprises = new Set([...byEnterprise.keys(), ...[...offlineHours.keys()].map((k) => k.split('/')[0]!)]);
  const reports = [...enterprises].sort().map((e): EnterpriseReport => {
    const alarms = byEnterprise.get(e) ?? [];
    const perDay: Record<string, number> = {};
    const bySeverity = severities();
    for (const a of alarms) {
      const day = new Date(Date.parse(a.raisedAt) + r.utcOffsetMin * 60_000).toISOString().slice(0, 10);
      perDay[day] = (perDay[day] ?? 0) + 1;
      bySeverity[a.severity]++;
    }
    const minutes = (at: string, a: Alarm): number => (Date.parse(at) - Date.parse(a.raisedAt)) / 60_000;
    let hours = 0;
    for (const [k, h] of offlineHours) if (k.startsWith(`${e}/`)) hours += h;
    return {
      enterpriseCode: e,
      raised: alarms.length,
      perDay,
      bySeverity,
      meanMinutesToAcknowledge: mean(alarms.flatMap((a) => (a.acknowledged ? [minutes(a.acknowledged.at, a)] : []))),
      meanMinutesToDispose: mean(alarms.flatMap((a) => (a.disposal ? [minutes(a.disposal.at, a)] : []))),
      escalated: alarms.filter((a) => a.escalation.steps.length > 0).length,
      overdue: open.filter((a) => a.enterpriseCode === e && a.acknowledged === null && a.escalation.level !== 'enterprise').length,
      gatewayOfflineHours: Math.round(hours * 100) / 100,
    };
  });
  const buckets = new Map<number, number>();
  for (const a of inRange) {
    const b = Math.floor(Date.parse(a.raisedAt) / TEN_MIN);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const intervals = Math.max(1, Math.ceil((r.to - r.from) / TEN_MIN));
  const mix = severities();
  for (const a of inRange) mix[a.severity]++;
  for (const s of Object.keys(mix) as AlarmSeverity[]) mix[s] = inRange.length === 0 ? 0 : Math.round((mix[s] / inRange.length) * 1000) / 10;
  return {
    enterprises: reports,
    isa: {
      alarmsPer10MinAverage: Math.round((inRange.length / intervals) * 100) / 100,
      alarmsPer10MinPeak: Math.max(0, ...buckets.values()),
      floodIntervalShare: Math.round(([...buckets.values()].filter((n) => n > 10).length / intervals) * 10000) / 100,
      floods: inRange.filter((a) => a.condition === 'alarm_flood').length,
      chattering: inRange.filter((a) => a.chattering || (a.chatteredAt ?? null) !== null).length,
      stale: open.filter((a) => a.clearedAt === null && r.now - Date.parse(a.raisedAt) > DAY).length,
      severityMix: mix,
    },
  };
}
