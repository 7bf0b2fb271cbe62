import type { Alarm, AlarmSeverity } from '#libs/contracts/index.js';
import type { Verdict } from '../scenario.js';
import { barChartSvg } from './charts.js';
import type { DayResult } from './virtual-day.js';

const TEN_MIN = 600_000;
const SEVERITIES: readonly AlarmSeverity[] = ['critical', 'major', 'minor', 'warning'];
const COLOURS: Readonly<Record<AlarmSeverity, string>> = { critical: '#c62828', major: '#ef6c00', minor: '#f9a825', warning: '#1565c0' };

/** A chart of the report: its file name (beside the report, under img/) and the SVG. */
export interface ReportChart {
  readonly file: string;
  readonly svg: string;
}

const local = (t: number): string => new Date(t + 8 * 3_600_000).toISOString().slice(11, 19);
const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const num = (x: number | null, digits = 1): string => (x === null ? '–' : x.toFixed(digits));
const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
const esc = (s: string): string => s.replace(/\|/g, '\\|');
const median = (xs: readonly number[]): number | null => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Alarms raised by one hazard: at its enterprise between its start and the end of its effects. */
function staged(day: DayResult): { attributed: Set<string>; byHazard: Map<number, Alarm[]> } {
  const attributed = new Set<string>();
  const byHazard = new Map<number, Alarm[]>();
  day.hazards.forEach(({ hazard }, i) => {
    const from = day.from + hazard.startS * 1000;
    const to = day.from + hazard.settledS * 1000;
    const mine = day.alarms.filter((a) => a.enterpriseCode === hazard.scenario.enterprise && Date.parse(a.detectedAt) >= from && Date.parse(a.detectedAt) <= to);
    for (const a of mine) attributed.add(a.id);
    byHazard.set(i, mine);
  });
  return { attributed, byHazard };
}

/**
 * Raises per 10 minutes of the day: all, per severity, and per enterprise (each enterprise's duty operator is one
 * operator position).
 */
function buckets(day: DayResult): { all: number[]; bySeverity: Record<AlarmSeverity, number[]>; byEnterprise: Map<string, number[]> } {
  const n = Math.ceil((day.to - day.from) / TEN_MIN);
  const all = new Array<number>(n).fill(0);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, new Array<number>(n).fill(0)])) as Record<AlarmSeverity, number[]>;
  const byEnterprise = new Map<string, number[]>();
  for (const a of day.alarms) {
    const i = Math.floor((Date.parse(a.detectedAt) - day.from) / TEN_MIN);
    if (i < 0 || i >= n) continue;
    all[i]!++;
    bySeverity[a.severity][i]!++;
    const e = byEnterprise.get(a.enterpriseCode) ?? new Array<number>(n).fill(0);
    e[i]!++;
    byEnterprise.set(a.enterpriseCode, e);
  }
  return { all, bySeverity, byEnterprise };
}

/**
 * The alarm-quality report of a standard day as Markdown, with its charts (pure): the ISA-18.2 figures from the
 * monitor's report API, every staged hazard detected or missed and how late, the alarms no hazard explains, and
 * data completeness from the data-quality API, overall and per enterprise. `command` is the command line that
 * made it, printed at its head.
 */
export function alarmQualityReport(day: DayResult, command: string, imgDir: string): { markdown: string; charts: ReportChart[] } {
  const { isa } = day.report;
  const { attributed, byHazard } = staged(day);
  const unexplained = day.alarms.filter((a) => !attributed.has(a.id));
  const { all, bySeverity, byEnterprise } = buckets(day);
  const intervals = all.length;
  const names = new Map(day.enterprises.map((e, i) => [e.code, `#${i + 1}`]));
  const nameOf = (code: string): string => names.get(code) ?? code;
  const perPosition = day.enterprises.map((e) => (byEnterprise.get(e.code) ?? []).reduce((a, b) => a + b, 0) / intervals);
  const positionAverage = perPosition.reduce((a, b) => a + b, 0) / Math.max(1, perPosition.length);
  const positionPeak = Math.max(0, ...[...byEnterprise.values()].map((b) => Math.max(...b)));
  const verdicts = day.hazards.flatMap((h) => h.verdicts);
  const isMust = (v: Verdict): boolean => v.kind === 'must';
  const musts = day.hazards.flatMap((h) => h.verdicts.filter(isMust));
  const detected = day.hazards.filter((h) => h.verdicts.filter(isMust).every((v) => v.ok)).length;
  const delays = musts.flatMap((v) => (v.atS === null ? [] : [v.atS]));
  const longest = musts.reduce<(typeof musts)[number] | undefined>((a, v) => (v.atS !== null && (a === undefined || v.atS > a.atS!) ? v : a), undefined);
  const order = new Map(day.enterprises.map((e, i) => [e.code, i]));
  const dq = [...day.dataQuality].sort((a, b) => (order.get(a.enterpriseCode) ?? 0) - (order.get(b.enterpriseCode) ?? 0));
  const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const lowest = (f: (q: (typeof dq)[number]) => number | null): number | null => {
    const xs = dq.flatMap((q) => (f(q) === null ? [] : [f(q)!]));
    return xs.length === 0 ? null : Math.min(...xs);
  };
  const expected = dq.reduce((n, q) => n + q.expected, 0);
  const received = dq.reduce((n, q) => n + q.received, 0);
  const timely = dq.reduce((n, q) => n + (q.timeliness ?? 0) * q.received, 0);
  const high = isa.severityMix.critical;
  const medium = isa.severityMix.major;
  const low = isa.severityMix.minor + isa.severityMix.warning;
  const acks = day.report.enterprises.flatMap((e) => (e.meanMinutesToAcknowledge === null ? [] : [e.meanMinutesToAcknowledge]));
  const escalated = day.report.enterprises.reduce((n, e) => n + e.escalated, 0);
  const chemical = day.enterprises.filter((e) => e.industry !== 'dust').length;
  const date = new Date(day.from + 8 * 3_600_000).toISOString().slice(0, 10);
  const hours = (day.to - day.from) / 3_600_000;

  const charts: ReportChart[] = [
    {
      file: 'alarm-quality-rate.svg',
      svg: barChartSvg({
        title: 'Alarms raised per 10 minutes, all enterprises (UTC+8)',
        categories: all.map((_, i) => local(day.from + i * TEN_MIN).slice(0, 5)),
        series: SEVERITIES.map((s) => ({
          name: s,
          color: COLOURS[s],
          stack: 'all',
          data: bySeverity[s],
        })),
        yName: 'alarms',
        lines: [{ y: 10, label: 'flood (one position)' }],
        width: 1000,
      }),
    },
    {
      file: 'alarm-quality-detection.svg',
      svg: barChartSvg({
        title: 'Staged hazards: time to each alarm they must raise, as a share of its allowance',
        categories: day.hazards.flatMap((h) => h.verdicts.filter(isMust).map((v) => `${local(day.from + h.hazard.startS * 1000).slice(0, 5)} ${v.subject}`)),
        // As a share of each allowance: most alarms come within seconds, an electricity alarm only when its
        // 15-minute interval closes; the seconds themselves are in the table.
        series: [{ name: 'share of the allowance used', color: '#2e7d32', data: musts.map((v) => (v.atS === null || v.withinS === null ? null : Math.round((v.atS / v.withinS) * 1000) / 10)) }],
        yName: '% of allowance',
        yMax: 100,
        lines: [{ y: 100, label: 'allowance' }],
        width: 1000,
        height: 460,
      }),
    },
    {
      file: 'alarm-quality-data.svg',
      svg: barChartSvg({
        title: 'Data completeness (完整率) and timeliness (及时率) per enterprise',
        categories: dq.map((q) => nameOf(q.enterpriseCode)),
        series: [
          { name: 'completeness %', color: '#1565c0', data: dq.map((q) => Math.round(q.completeness * 1000) / 10) },
          { name: 'timeliness %', color: '#80cbc4', data: dq.map((q) => (q.timeliness === null ? null : Math.round(q.timeliness * 1000) / 10)) },
        ],
        yName: '%',
        yMax: 100,
        lines: [{ y: 90, label: 'minimum' }],
      }),
    },
    {
      file: 'alarm-quality-priority.svg',
      svg: barChartSvg({
        title: 'Priority mix of the alarms raised, against the ISA-18.2 guide',
        categories: ['high (critical)', 'medium (major)', 'low (minor, warning)'],
        series: [
          { name: 'this day %', color: '#6a1b9a', data: [high, medium, Math.round(low * 10) / 10] },
          { name: 'ISA-18.2 guide %', color: '#bdbdbd', data: [5, 15, 80] },
        ],
        yName: '%',
        yMax: 100,
        width: 600,
      }),
    },
  ];
  const img = (file: string, alt: string): string => `![${alt}](${imgDir}/${file})`;

  const lines: string[] = [
    '# Alarm quality of a simulated standard day',
    '',
    `Written by \`${command}\` from the monitor's own APIs (\`/api/reports/alarms\`, \`/api/data-quality\`, \`/api/alarms\`); every`,
    'figure and chart is regenerated by that command, none is typed. How the day is played and what it does not show are at the end.',
    '',
    `**The day**: ${date}, ${hours} h (UTC+8), ${day.enterprises.length} enterprises (${chemical} chemical plants with tank farms and a reactor, ${day.enterprises.length - chemical} dust-collector sites), ${day.points} points;`,
    `${day.published.messages.toLocaleString('en')} MQTT messages carrying ${day.published.readings.toLocaleString('en')} readings; ${day.hazards.length} hazards staged; seed ${day.options.seed}.`,
    `Played on a virtual clock in ${Math.round(day.playedInS)} s.`,
    ...(day.unstaged.length === 0 ? [] : ['', `**Not staged** (no room in a day this short, or no copy of their site): ${day.unstaged.join(', ')}.`]),
    '',
    '## Summary',
    '',
    row(['figure', 'this day', 'ISA-18.2 / target']),
    row(['---', '---', '---']),
    row(['alarms raised', day.alarms.length, '']),
    row(['average alarms per 10 min per operator position (one per enterprise)', num(positionAverage, 3), '≤ 1 very likely acceptable, ≤ 2 manageable']),
    row(['most alarms in 10 min at one position', positionPeak, '≤ 10']),
    row(['average alarms per 10 min, all enterprises together (report API)', num(isa.alarmsPer10MinAverage, 2), '']),
    row(['10-minute intervals in flood (> 10 alarms), all together', `${isa.floodIntervalShare} %`, '< 1 %']),
    row(['flood alarms', isa.floods, '0']),
    row(['chattering alarms', isa.chattering, '0']),
    row(['stale alarms (active > 24 h) at the end', isa.stale, '< 5']),
    row(['priority mix high / medium / low', `${high} / ${medium} / ${Math.round(low * 10) / 10} %`, '≈ 5 / 15 / 80 %']),
    row(['staged hazards detected (every alarm it must raise, in time)', `${detected} of ${day.hazards.length}`, 'all']),
    row(['scenarios not staged (no room in the day)', day.unstaged.length === 0 ? '0' : `${day.unstaged.length}: ${day.unstaged.join(', ')}`, '0']),
    row(['expectations met (must and must not)', `${verdicts.filter((v) => v.ok).length} of ${verdicts.length}`, 'all']),
    row(['seconds from a hazard to each alarm it must raise: median / longest', `${num(median(delays))} / ${longest === undefined ? '–' : `${num(longest.atS)} (${esc(longest.subject)})`}`, 'within each scenario\'s allowance']),
    row(['alarms no staged hazard explains (false alarms)', unexplained.length, '0']),
    row(['data completeness 完整率 / timeliness 及时率, all enterprises', `${pct(expected === 0 ? null : Math.min(1, received / expected))} / ${pct(received === 0 ? null : timely / received)}`, '≥ 90 %']),
    row(['lowest completeness / timeliness / online rate of one enterprise', `${pct(lowest((q) => q.completeness))} / ${pct(lowest((q) => q.timeliness))} / ${pct(lowest((q) => q.online))}`, '≥ 90 %']),
    row(['mean minutes to acknowledge (mean of enterprises)', num(mean(acks)), '']),
    row(['alarms escalated to the county for want of an acknowledgement', escalated, '']),
    '',
    img('alarm-quality-rate.svg', 'alarms per 10 minutes'),
    '',
    img('alarm-quality-priority.svg', 'priority mix'),
    '',
    `The priority mix leans to high and medium because the day's alarms are almost all staged hazards: overpressure,`,
    'overflow, gas and sparks are critical or major by design. A plant whose mix looks like this in real operation has',
    'too many high-priority alarms or too few low ones; here it says the staged hazards were serious, not that the rules',
    'are badly prioritised.',
    '',
    '## Staged hazards',
    '',
    'Each is a scenario of `simulators/scenarios/` played at one enterprise (a copy of the scenario\'s demo site) among',
    'its normal traffic; it must raise its alarms within its allowance and not raise those it must not.',
    '',
    row(['time', 'scenario', 'enterprise', 'expectation', 'result', 'alarms raised']),
    row(['---', '---', '---', '---', '---', '---']),
    ...day.hazards.flatMap((h, i) =>
      h.verdicts.map((v, j) =>
        row([
          j === 0 ? local(day.from + h.hazard.startS * 1000) : '',
          j === 0 ? h.hazard.scenario.name : '',
          j === 0 ? nameOf(h.hazard.scenario.enterprise) : '',
          esc(v.expectation),
          `${v.ok ? 'ok' : '**MISSED**'}: ${v.detail}`,
          j === 0 ? (byHazard.get(i) ?? []).map((a) => `${a.condition}${a.level === 'ACTIVE' ? '' : ` ${a.level}`} ${a.pointCode ?? a.originatorCode}`).join(', ') : '',
        ]),
      ),
    ),
    '',
    img('alarm-quality-detection.svg', 'detection delays'),
    '',
    '## Alarms no staged hazard explains',
    '',
    ...(unexplained.length === 0
      ? ['None: a healthy plant with realistic signals raised nothing of its own, and the monitor raised nothing about itself.']
      : [
          row(['raised', 'enterprise', 'alarm', 'severity', 'message']),
          row(['---', '---', '---', '---', '---']),
          ...unexplained.slice(0, 50).map((a) => row([local(Date.parse(a.detectedAt)), nameOf(a.enterpriseCode), `${a.condition} ${a.pointCode ?? a.originatorCode}`, a.severity, esc(a.message)])),
          ...(unexplained.length > 50 ? [`\n…and ${unexplained.length - 50} more.`] : []),
        ]),
    '',
    '## Per enterprise',
    '',
    'An enterprise\'s duty operator is one operator position. Figures from `/api/reports/alarms` (raised, priority,',
    'times, escalations, offline hours) and `/api/data-quality` (completeness 完整率 and timeliness 及时率 over the day;',
    'online 在线率 at its end).',
    '',
    row(['enterprise', 'name', 'raised', 'per 10 min', 'peak 10 min', 'critical / major / minor / warning', 'min to ack', 'min to dispose', 'escalated', 'gateway offline h', 'online', 'completeness', 'timeliness']),
    row(['---', '---', '---:', '---:', '---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...day.enterprises.map((e, i) => {
      const r = day.report.enterprises.find((x) => x.enterpriseCode === e.code);
      const q = dq.find((x) => x.enterpriseCode === e.code);
      const b = byEnterprise.get(e.code) ?? [];
      return row([
        `#${i + 1} \`${e.code}\``,
        esc(e.name),
        r?.raised ?? 0,
        num(perPosition[i] ?? 0, 3),
        Math.max(0, ...b),
        r === undefined ? '0 / 0 / 0 / 0' : SEVERITIES.map((s) => r.bySeverity[s]).join(' / '),
        num(r?.meanMinutesToAcknowledge ?? null),
        num(r?.meanMinutesToDispose ?? null),
        r?.escalated ?? 0,
        num(r?.gatewayOfflineHours ?? 0, 2),
        pct(q?.online ?? null),
        pct(q?.completeness ?? null),
        pct(q?.timeliness ?? null),
      ]);
    }),
    '',
    img('alarm-quality-data.svg', 'data completeness per enterprise'),
    '',
    '## How the day is played',
    '',
    '- `npm run standard-day` writes a registry of copies of the demo sites (two chemical plants to every dust site, each',
    '  with its own credit code, county and position; every eighth from the fourth a tank farm declared stopped, 停产,',
    '  drawing standby power) and starts the monitor in its own process with the embedded',
    '  broker and store. Every `Date` and timer of that process (the monitor\'s rule clock, escalation timers, the',
    '  broker\'s keep-alives, the gateways) runs on a virtual clock that moves to the next event only once the monitor',
    '  has taken in every message published so far: 24 hours take minutes, and the same options give the same day.',
    '- Each gateway is its own MQTT client (QoS 1, retained `online`, `offline` as its will) and reports every',
    '  `reportingPeriodS` with the realistic signals of `simulators/signals.ts` (tank temperatures with the day, levels',
    '  filling and draining, gas near zero with rare small spikes, fans running, power on the day shift or at standby).',
    '- About one hazard per enterprise per day is staged, every scenario at least once (a day too short for one says so',
    '  above and the command exits 1), process upsets (`dayWeight: 2`)',
    '  twice as often as faults, never two at once at one enterprise. While a hazard runs, the points it drives leave',
    '  its gateway\'s normal messages; a gateway clock set fast is fast for all its messages; a gateway cut off stays away',
    '  10 minutes, then reconnects.',
    '- A duty operator acknowledges each alarm over the REST API (seven in ten within 3 min, a quarter within 8 min, one',
    '  in twenty after 12–20 min, late enough to escalate) and disposes of critical and major ones 2–10 min after they',
    '  clear. Alarms still unacknowledged at the end count as overdue.',
    '- Each alarm a hazard must raise is judged by its own time limit; what it must not raise, over the whole of its',
    '  effects (its run, a cut gateway\'s absence and return, five minutes more), counting only alarms raised during it.',
    '  Alarms are attributed to a hazard when raised at its enterprise within that span; any other alarm is counted',
    '  as a false alarm.',
    '',
    'Completeness counts the readings received against those the registry\'s periods call for, per enterprise: a',
    'replayed buffer fills the gap of an outage, and so do the extra readings a scenario replays; a dead point shows in',
    'the online rate (its `no_data` alarm) rather than in completeness.',
    '',
    'Not shown: an operator\'s real behaviour (shelving, comments, out-of-service), InfluxDB (the embedded store is',
    'used), network delays (the broker is in the process), notifications (none are configured), and gateways that',
    'drift in number or period over the day.',
    '',
  ];
  return { markdown: lines.join('\n'), charts };
}
