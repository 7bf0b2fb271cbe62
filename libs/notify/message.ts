import type { Alarm, Enterprise, JurisdictionLevel } from '#libs/contracts/index.js';

const SEVERITY: Readonly<Record<Alarm['severity'], string>> = { critical: '紧急 critical', major: '重要 major', minor: '一般 minor', warning: '预警 warning' };
const LEVEL: Readonly<Record<JurisdictionLevel, string>> = { enterprise: '企业 enterprise', county: '区县 county', city: '市 city' };

/** Local time of the command centres (UTC+8), as people on duty read it. */
export function beijingTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')} (UTC+8)`;
}

export interface MessageText {
  readonly title: string;
  readonly text: string;
  readonly params: Readonly<Record<string, string>>;
}

/** What an alarm notification says: title, Markdown body and SMS template parameters, bilingual, no HTML. */
export function alarmMessage(a: Alarm, enterprise: Enterprise | undefined, kind: 'raise' | 'escalate', level: JurisdictionLevel): MessageText {
  const name = enterprise?.name ?? a.enterpriseCode;
  const what = a.pointCode ?? a.name ?? a.originatorCode;
  const head = kind === 'escalate' ? `逐级上报至${LEVEL[level]} escalated` : '报警 alarm';
  const title = `【Sentinel】${SEVERITY[a.severity]} ${head}: ${name} · ${what} ${a.level}`;
  const lines = [
    `### ${title}`,
    `- 企业 Enterprise: ${name} (${a.enterpriseCode})`,
    a.hazardSourceCode ? `- 危险源 Hazard source: ${a.hazardSourceCode}` : null,
    `- 报警 Alarm: ${a.message}`,
    a.value !== null ? `- 报警值 Value: ${a.value}${a.unit ? ` ${a.unit}` : ''}${a.threshold !== null ? ` (限值 limit ${a.threshold})` : ''}` : null,
    `- 时间 Raised: ${beijingTime(a.raisedAt)}`,
    kind === 'escalate' ? `- 未确认，已上报 Not acknowledged in time: now with the ${level}` : null,
    `- 请登录指挥中心确认处置 Acknowledge and dispose in the command centre. ID ${a.id}`,
  ];
  return {
    title,
    text: lines.filter((l): l is string => l !== null).join('\n'),
    params: { enterprise: name, point: what, level: a.level, severity: a.severity, value: a.value === null ? '' : String(a.value), time: beijingTime(a.raisedAt), kind },
  };
}

/** The summary of messages held back for one alarm condition and recipient. */
export function summaryMessage(alarmKey: string, count: number, lastTitle: string, windowS: number): MessageText {
  const title = `【Sentinel】汇总 summary: ${count} 条报警消息 messages held in ${Math.round(windowS / 60)} min`;
  return {
    title,
    text: `### ${title}\n- 报警 Alarm: ${alarmKey}\n- 最近 Latest: ${lastTitle}\n- 同一报警反复出现，已合并 The same alarm repeated (chattering or flooding); these are summarised instead of sent one by one.`,
    params: { alarm: alarmKey, count: String(count), kind: 'summary' },
  };
}
