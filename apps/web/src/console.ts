import type { Alarm, AlarmSeverity, ConditionType, DeliveryRecord } from '#libs/contracts/index.js';
import { getJson } from './api.js';
import { consoleRows, durationText, escalationDue, isActive, NO_FILTER, type AlarmFilter, type StateFilter, visibleRows } from './alarm-view.js';
import type { AlarmCue } from './cue.js';
import type { ActionDialog, ActionSpec } from './dialogs.js';
import { $, esc, fmt } from './dom.js';
import { CONDITION, SEVERITIES, SEVERITY, STATUS } from './labels.js';
import type { PageModel } from './model.js';

/** The height the stylesheet gives a row (48 px cells, two lines at most, and the border); measured after each draw. */
const ROW_HEIGHT = 49;
const SHELVE_CHOICES = [900, 3600, 4 * 3600, 8 * 3600];

/** The shelving durations offered: the usual ones within the configured maximum, or the maximum itself. */
export function shelveChoices(maxS: number): number[] {
  const within = SHELVE_CHOICES.filter((s) => s <= maxS);
  return within.length > 0 ? within : [maxS];
}

/**
 * The alarm console: every open alarm of the jurisdiction, sorted by priority then age, filtered, drawn as a
 * virtualised table (only the rows in view exist), with the closed-loop actions the user's role allows.
 */
export class AlarmConsole {
  private readonly alarms = new Map<string, Alarm>();
  /** Alarms seen closed since the last snapshot: an older open copy read over REST must not bring one back. */
  private readonly closed = new Set<string>();
  private rows: Alarm[] = [];
  private filter: AlarmFilter = NO_FILTER;
  /** Flood groups the operator opened. */
  private readonly expanded = new Set<string>();
  private folded: ReadonlyMap<string, number> = new Map();
  private frame = 0;
  private rowHeight = ROW_HEIGHT;
  /** Bumped by each filter change: a region's enterprises read late do not overwrite a newer choice. */
  private filterGeneration = 0;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly model: PageModel,
    private readonly dialog: ActionDialog,
    private readonly cue: AlarmCue,
    /** The enterprises of a region, read from the server when the page did not load them all. */
    private readonly enterprisesIn: (region: string) => Promise<ReadonlySet<string>>,
    private readonly report: (err: unknown) => void,
    signal: AbortSignal,
  ) {
    const severity = $<HTMLSelectElement>('f-severity');
    severity.innerHTML = `<option value="">全部级别 All severities</option>${SEVERITIES.map((s) => `<option value="${s}">${esc(SEVERITY[s])}</option>`).join('')}`;
    const condition = $<HTMLSelectElement>('f-condition');
    condition.innerHTML = `<option value="">全部类型 All conditions</option>${Object.entries(CONDITION).map(([c, l]) => `<option value="${c}">${esc(l)}</option>`).join('')}`;
    for (const id of ['f-severity', 'f-condition', 'f-state', 'f-region', 'f-enterprise']) $(id).addEventListener('change', () => void this.readFilter().catch(this.report), { signal });
    $('alarm-scroll').addEventListener('scroll', () => this.schedule(), { passive: true, signal });
    $('alarms').addEventListener('click', (ev) => this.clicked(ev), { signal });
    $('alarms').addEventListener('change', (ev) => this.chose(ev), { signal });
  }

  /** Called after every change to the alarms the console holds (the map and tiles colour from them). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The region and enterprise choices, from what the page knows of the jurisdiction. */
  setChoices(regions: readonly string[], enterprises: readonly { code: string; name: string }[]): void {
    const region = $<HTMLSelectElement>('f-region');
    const keep = region.value;
    region.innerHTML = `<option value="">全部区域 All regions</option>${regions.map((r) => `<option value="${esc(r)}">${esc(r)}</option>`).join('')}`;
    region.value = regions.includes(keep) ? keep : '';
    const enterprise = $<HTMLSelectElement>('f-enterprise');
    const keepE = enterprise.value;
    enterprise.innerHTML = `<option value="">全部企业 All enterprises</option>${enterprises.map((e) => `<option value="${esc(e.code)}">${esc(e.name)}</option>`).join('')}`;
    enterprise.value = enterprises.some((e) => e.code === keepE) ? keepE : '';
  }

  /**
   * A fresh picture from the server: it replaces every alarm held. After a resync (`first` false) a critical alarm
   * the page had not held is new to the operator and gets its cue.
   */
  replaceAll(alarms: readonly Alarm[], first: boolean): void {
    const before = new Map(this.alarms);
    this.alarms.clear();
    this.closed.clear();
    for (const a of alarms) if (a.closedAt === null) this.alarms.set(a.id, a);
    if (!first) for (const a of this.alarms.values()) this.cueIfNew(a, before.get(a.id));
    this.schedule();
  }

  /**
   * Open alarms read over REST (the cleared ones awaiting handling) fill in only what the pushed changes have not
   * told: those come in order and always win, so no clock is compared, and one seen closed stays closed.
   */
  merge(alarms: readonly Alarm[]): void {
    for (const a of alarms) {
      if (this.closed.has(a.id) || this.alarms.has(a.id)) continue;
      if (a.closedAt === null) this.alarms.set(a.id, a);
    }
    this.schedule();
  }

  /** One change pushed by the server. */
  apply(a: Alarm): void {
    const before = this.alarms.get(a.id);
    if (a.closedAt !== null) {
      this.alarms.delete(a.id);
      this.closed.add(a.id);
    } else this.alarms.set(a.id, a);
    this.cueIfNew(a, before);
    this.schedule();
  }

  /** Cues an alarm that has just become active and critical (raised so, or risen to it, acknowledged or not). */
  private cueIfNew(a: Alarm, before: Alarm | undefined): void {
    if (a.severity !== 'critical' || !isActive(a) || a.closedAt !== null) return;
    if (before !== undefined && before.severity === 'critical' && isActive(before)) return;
    this.cue.raise(a, (x) => `${this.originator(x)} · ${this.model.enterpriseName(x.enterpriseCode)} · ${x.message}`);
  }

  /** Says the console may lack alarms (the cleared ones are still being read), or clears that note. */
  setIncomplete(incomplete: boolean): void {
    $('alarm-scroll').dataset.incomplete = incomplete ? '1' : '';
    $('alarm-loading').hidden = !incomplete;
  }

  /** The timers of the rows drawn, updated in place every second (buttons stay, so no click is lost). */
  tick(): void {
    const now = this.model.now();
    document.querySelectorAll<HTMLElement>('#alarms tr.alarm').forEach((row) => {
      const a = this.alarms.get(row.dataset.id ?? '');
      const cell = row.querySelector('.timer');
      if (a && cell) cell.innerHTML = this.escalation(a, now);
    });
  }

  /** Empties the console at once (sign-out): nothing of this session stays on screen for the next one. */
  clear(): void {
    this.alarms.clear();
    this.closed.clear();
    this.setChoices([], []);
    this.setIncomplete(false);
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.render();
  }

  all(): IterableIterator<Alarm> {
    return this.alarms.values();
  }

  /** Redraws the rows in view (for the timers), at most once a frame. */
  schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private async readFilter(): Promise<void> {
    const gen = ++this.filterGeneration;
    const region = $<HTMLSelectElement>('f-region').value;
    const inRegion = region === '' ? null : await this.enterprisesIn(region);
    if (gen !== this.filterGeneration) return;
    this.filter = {
      severity: $<HTMLSelectElement>('f-severity').value as AlarmSeverity | '',
      condition: $<HTMLSelectElement>('f-condition').value as ConditionType | '',
      state: $<HTMLSelectElement>('f-state').value as StateFilter,
      enterprisesInRegion: inRegion,
      enterprise: $<HTMLSelectElement>('f-enterprise').value,
    };
    $('alarm-scroll').scrollTop = 0;
    this.schedule();
  }

  private render(): void {
    const { rows, folded } = consoleRows(this.alarms.values(), this.filter, this.expanded);
    this.folded = folded;
    this.rows = rows;
    const hidden = [...folded.values()].reduce((n, k) => n + k, 0);
    $('alarm-count').textContent = String(this.alarms.size);
    $('alarm-shown').textContent = this.rows.length === this.alarms.size ? '' : `显示 showing ${this.rows.length}${hidden > 0 ? ` (+${hidden} 已归组 grouped)` : ''}`;
    const body = $('alarms');
    if (this.rows.length === 0) {
      body.innerHTML = `<tr class="empty"><td colspan="8">${this.alarms.size === 0 ? '无报警 No open alarms' : '无符合条件的报警 No alarm matches the filters'}</td></tr>`;
    } else {
      const scroller = $('alarm-scroll');
      const { start, end } = visibleRows(scroller.scrollTop, scroller.clientHeight || 520, this.rowHeight, this.rows.length);
      const now = this.model.now();
      const spacer = (n: number): string => (n > 0 ? `<tr class="spacer"><td colspan="8" style="height:${n * this.rowHeight}px"></td></tr>` : '');
      body.innerHTML = spacer(start) + this.rows.slice(start, end).map((a) => this.row(a, now)).join('') + spacer(this.rows.length - end);
      // Rows are one height by the stylesheet (cells clipped to two lines). Should fonts or zoom make them taller,
      // the window is computed again with the tallest drawn; the height only grows, so this cannot oscillate.
      let tallest = 0;
      body.querySelectorAll<HTMLElement>('tr.alarm').forEach((r) => (tallest = Math.max(tallest, r.getBoundingClientRect().height)));
      if (tallest > this.rowHeight + 0.5) {
        this.rowHeight = tallest;
        this.schedule();
      }
    }
    this.listeners.forEach((l) => l());
  }

  originator(a: Alarm): string {
    if (a.originatorKind === 'point') return a.name ? `${a.name} (${a.pointCode ?? ''})` : (a.pointCode ?? a.originatorCode);
    if (a.originatorKind === 'enterprise') return this.model.enterpriseName(a.enterpriseCode);
    return `${a.name ?? a.originatorCode} [${a.originatorKind}]`;
  }

  private row(a: Alarm, now: number): string {
    const limit = a.condition === 'limit_high' || a.condition === 'limit_low';
    const label = limit ? a.level : CONDITION[a.condition];
    const marks =
      (a.chattering ? ' <span class="mark">⟳ 振荡 chattering</span>' : '') +
      (a.floodKey ? ` <span class="mark" title="${esc(a.floodKey)}">洪流 flood group</span>` : '') +
      (a.shelved ? ` <span class="mark">搁置至 shelved until ${esc(new Date(a.shelved.until).toLocaleTimeString())}</span>` : '') +
      (a.outOfService ? ' <span class="mark">检修 out of service</span>' : '');
    const unit = a.unit ?? '';
    const classes = ['alarm', a.acknowledged === null ? 'unack' : 'acked', isActive(a) ? 'active' : 'cleared'].join(' ');
    const cell = (html: string, title = ''): string => `<td${title ? ` title="${esc(title)}"` : ''}><div class="c">${html}</div></td>`;
    const where = `${this.model.enterpriseName(a.enterpriseCode)}${a.hazardSourceCode ? ` · ${a.hazardSourceCode}` : ''}`;
    return (
      `<tr class="${classes}" data-id="${esc(a.id)}" data-condition="${esc(a.condition)}" data-severity="${a.severity}">` +
      cell(`<span class="lvl lvl-${esc(limit ? a.level : a.severity)}" title="${esc(SEVERITY[a.severity])}">${esc(label)}</span>`) +
      cell(esc(this.originator(a)), this.originator(a)) +
      cell(esc(where), where) +
      cell(`${esc(a.value === null ? '' : `${fmt(a.value)} ${unit}`)}${a.threshold === null ? '' : `<br><small>限 limit ${esc(`${a.threshold} ${unit}`)}</small>`}`) +
      // Marks and the flood's toggle first: the cell is cut at two lines, the message is what may be cut.
      cell(`${a.condition === 'alarm_flood' ? this.floodToggle(a.key) : ''}${marks} ${esc(a.message)}`, a.message) +
      cell(`${esc(STATUS[a.status] ?? a.status)}${a.assignee ? ` <span class="mark">→ ${esc(a.assignee)}</span>` : ''}`) +
      cell(`${esc(new Date(a.raisedAt).toLocaleTimeString())}<br><span class="timer">${this.escalation(a, now)}</span>`, new Date(a.raisedAt).toLocaleString()) +
      `<td class="handle">${this.handle(a)}</td></tr>`
    );
  }

  private floodToggle(key: string): string {
    const n = this.folded.get(key) ?? 0;
    if (this.expanded.has(key)) return `<button type="button" class="flood-toggle" data-flood="${esc(key)}">收起 fold</button> `;
    return n === 0 ? '' : `<button type="button" class="flood-toggle" data-flood="${esc(key)}">+${n} 已归组 grouped ▸</button> `;
  }

  /** Where the alarm stands in the escalation and when it goes further, short enough for the row's second line. */
  private escalation(a: Alarm, now: number): string {
    const level = a.escalation.level;
    const badge = level === 'enterprise' ? '' : `<span class="esc esc-${level}" title="${level === 'county' ? '已上报区县 escalated to the county' : '已上报市 escalated to the city'}">${level === 'county' ? '已报区县' : '已报市'}</span> `;
    const due = escalationDue(a, this.model.policy, now);
    if (due.kind === 'next') return `${badge}<span class="due">${due.level === 'county' ? '→区县 county' : '→市 city'} ${durationText(due.inMs)}</span>`;
    if (due.kind === 'overdue') return `${badge}<span class="due overdue">超时 overdue ${durationText(due.sinceMs)}</span>`;
    return badge;
  }

  /**
   * What this role may do with this alarm (the server still decides, and says why when it refuses): the next step
   * of the closed loop as a button (acknowledge, then dispose), everything allowed in the 更多 More list.
   */
  private handle(a: Alarm): string {
    const m = this.model;
    const id = esc(a.id);
    const b = (verb: string, text: string): string => `<button type="button" class="${verb}" data-verb="${verb}" data-id="${id}">${text}</button>`;
    const out: string[] = [];
    if (a.acknowledged !== null) out.push(`<span class="mark" title="${esc(a.acknowledged.at)}">✓ ${esc(a.acknowledged.by)}</span>`);
    else if (m.can('alarm.ack')) out.push(b('ack', '确认 Ack'));
    if (a.acknowledged !== null && a.disposal === null && m.can('alarm.dispose')) out.push(b('dispose', '处置 Dispose'));
    const more: [string, string][] = [];
    if (a.disposal === null && m.can('alarm.dispose')) more.push(['dispose', '处置 Dispose']);
    if (m.can('alarm.shelve')) more.push(a.shelved ? ['unshelve', '取消搁置 Unshelve'] : ['shelve', '搁置 Shelve']);
    if (m.can('alarm.assign')) more.push(['assign', '指派 Assign']);
    if (m.can('alarm.comment')) more.push(['comment', '备注 Comment']);
    more.push(['notifications', '通知记录 Notifications']);
    if (more.length > 0) out.push(`<select class="more" data-id="${id}" aria-label="更多操作 More actions"><option value="">更多 More…</option>${more.map(([v, t]) => `<option value="${v}">${t}</option>`).join('')}</select>`);
    return out.join(' ');
  }

  private clicked(ev: Event): void {
    const toggle = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-flood]');
    if (toggle) {
      const key = toggle.dataset.flood ?? '';
      if (!this.expanded.delete(key)) this.expanded.add(key);
      this.schedule();
      return;
    }
    const button = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-verb]');
    if (button) this.open(button.dataset.verb ?? '', button.dataset.id ?? '');
  }

  private chose(ev: Event): void {
    const select = (ev.target as HTMLElement).closest<HTMLSelectElement>('select.more');
    if (!select || select.value === '') return;
    const verb = select.value;
    select.value = '';
    this.open(verb, select.dataset.id ?? '');
  }

  private open(verb: string, id: string): void {
    const alarm = this.alarms.get(id);
    if (verb === 'notifications' && alarm) {
      this.showNotifications(alarm).catch(this.report);
      return;
    }
    const spec = alarm ? this.action(verb, alarm) : null;
    if (spec) this.dialog.open(spec);
  }

  /** Who was told of the alarm, on which channel, and what became of each message. */
  private async showNotifications(a: Alarm): Promise<void> {
    const list = await getJson<DeliveryRecord[]>(`/api/alarms/${encodeURIComponent(a.id)}/notifications`);
    const STATE: Readonly<Record<string, string>> = { pending: '待发 pending', sent: '已发 sent', failed: '失败 failed', held: '合并中 held', folded: '已合并 in a summary' };
    const rows = list
      .map((r) => `<tr class="delivery" data-state="${esc(r.state)}"><td>${esc(new Date(r.createdAt).toLocaleTimeString())}</td><td>${esc(r.kind)} · ${esc(r.level)}</td><td>${esc(r.recipient.name)}</td><td>${esc(r.channel)}</td><td>${esc(STATE[r.state] ?? r.state)}${r.lastError ? ` <small>${esc(r.lastError)}</small>` : ''}</td></tr>`)
      .join('');
    this.dialog.show(
      '通知记录 Notifications',
      `${this.originator(a)} · ${this.model.enterpriseName(a.enterpriseCode)}`,
      list.length === 0 ? '<p class="note">无通知 None sent (no route in config/notify.yaml took this alarm)</p>' : `<table class="deliveries"><thead><tr><th>时间 At</th><th>类别 Kind</th><th>接收人 To</th><th>渠道 Channel</th><th>状态 State</th></tr></thead><tbody>${rows}</tbody></table>`,
    );
  }

  private action(verb: string, a: Alarm): ActionSpec | null {
    const url = (v: string): string => `/api/alarms/${encodeURIComponent(a.id)}/${v}`;
    const subject = `${this.originator(a)} · ${this.model.enterpriseName(a.enterpriseCode)} · ${a.message}`;
    const me = this.model.me.username;
    switch (verb) {
      case 'ack':
        return { title: '确认报警 Acknowledge alarm', subject, url: url('ack'), fields: [], body: () => ({}), done: `已确认 acknowledged by ${me}` };
      case 'dispose':
        return {
          title: '处置（消警）Dispose', subject, url: url('dispose'),
          fields: [
            { name: 'cause', label: '原因 Cause', kind: 'textarea' },
            { name: 'action', label: '措施 Action taken', kind: 'textarea' },
            { name: 'handler', label: '处置人 Handler', kind: 'text', value: me },
          ],
          body: (v) => ({ cause: v.cause, action: v.action, handler: v.handler }),
          done: `已处置 disposed by ${me}`,
        };
      case 'shelve': {
        const max = this.model.policy?.maxShelveS ?? 8 * 3600;
        return {
          title: '搁置 Shelve', subject, url: url('shelve'),
          fields: [{ name: 'reason', label: '原因 Reason', kind: 'textarea' }, { name: 'forS', label: '时长 For', kind: 'duration', choices: shelveChoices(max) }],
          body: (v) => ({ reason: v.reason, forS: Number(v.forS) }),
          done: `已搁置 shelved by ${me}`,
        };
      }
      case 'unshelve':
        return { title: '取消搁置 Unshelve', subject, url: url('unshelve'), fields: [], body: () => ({}), done: `已取消搁置 unshelved by ${me}` };
      case 'assign':
        return { title: '指派 Assign', subject, url: url('assign'), fields: [{ name: 'assignee', label: '指派给 Assignee', kind: 'text' }], body: (v) => ({ assignee: v.assignee }), done: `已指派 assigned by ${me}` };
      case 'comment':
        return { title: '备注 Comment', subject, url: url('comments'), fields: [{ name: 'text', label: '备注 Comment', kind: 'textarea' }], body: (v) => ({ text: v.text }), done: `已备注 comment added by ${me}` };
      default:
        return null;
    }
  }
}
