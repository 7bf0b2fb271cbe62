import { UNHANDLED, type Alarm, type Delivery, type NotifyPolicy } from '#libs/contracts/index.js';
import { channelOf, decide, type Channel } from '#libs/notify/index.js';

export interface WatchdogOptions {
  /** The monitor's base URL. */
  readonly url: string;
  /** An API token of a role that reads (docs/security.md), for the detail of /health. */
  readonly token: string | null;
  /** How long the monitor may fail to answer, or answer `degraded`, before the people on duty are told. */
  readonly downAfterMs: number;
  /** How old the heartbeat through the broker may be before that counts as a problem. */
  readonly staleAfterMs: number;
  /** One request's time limit: a monitor paused (SIGSTOP) or hung keeps the connection open and answers nothing. */
  readonly timeoutMs: number;
}

export interface WatchdogState {
  readonly since: number | null;
  readonly told: 'down' | 'up';
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly problem: string };

interface Health {
  readonly status?: string;
  readonly chain?: { readonly lastBackAt?: string | null; readonly ageMs?: number | null; readonly problem?: string | null };
  readonly notifications?: { readonly failing?: Readonly<Record<string, string>> };
  readonly stores?: Record<string, { ok: boolean; detail?: string }>;
  readonly broker?: { connected: boolean };
}

/** One look at the monitor from outside: does /health answer, is it ok, is its heartbeat fresh? */
export async function checkMonitor(o: WatchdogOptions): Promise<Verdict> {
  let res: Response;
  try {
    res = await fetch(`${o.url}/health`, { headers: o.token ? { authorization: `Bearer ${o.token}` } : {}, signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { ok: false, problem: timedOut ? `monitor at ${o.url} did not answer /health within ${o.timeoutMs / 1000} s (hung or paused)` : `monitor at ${o.url} unreachable (${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)})` };
  }
  const health = (await res.json().catch(() => ({}))) as Health;
  if (!res.ok) return { ok: false, problem: `monitor at ${o.url} answered /health with HTTP ${res.status}` };
  // The heartbeat's age by the monitor's own clock: two hosts' clocks are never compared.
  const age = health.chain?.ageMs ?? null;
  if (o.token !== null && age !== null && age > o.staleAfterMs) {
    return { ok: false, problem: `monitor at ${o.url} answers, but its heartbeat through the broker last came back ${Math.round(age / 1000)} s ago` };
  }
  if (health.status !== 'ok') {
    const why = [
      health.broker && !health.broker.connected ? 'broker not connected' : null,
      ...Object.entries(health.stores ?? {}).filter(([, s]) => !s.ok).map(([name, s]) => `${name} store: ${s.detail ?? 'failing'}`),
      health.chain?.problem ?? null,
      ...Object.entries(health.notifications?.failing ?? {}).map(([channel, why]) => `notification channel ${channel}: ${why}`),
    ].filter((x): x is string => x !== null);
    return { ok: false, problem: `monitor at ${o.url} reports ${health.status ?? 'no status'}${why.length > 0 ? `: ${why.join('; ')}` : ''}` };
  }
  return { ok: true };
}

/** The alarm the watchdog raises for the monitor, routed like the monitor's own alarms (county and city routes). */
function watchdogAlarm(problem: string, active: boolean, since: number): Alarm {
  const at = new Date(since).toISOString();
  return {
    id: `watchdog-${since}`,
    key: 'system/system:monitor/monitoring_chain',
    originatorKind: 'system',
    originatorCode: 'monitor',
    enterpriseCode: 'system',
    gatewayCode: null,
    hazardSourceCode: null,
    pointCode: null,
    condition: 'monitoring_chain',
    name: '监测平台 monitor',
    level: 'ACTIVE',
    severity: 'critical',
    status: active ? 'ACTIVE_UNACK' : 'CLEARED_UNACK',
    value: null,
    peakValue: null,
    threshold: null,
    unit: null,
    message: problem,
    chattering: false,
    floodKey: null,
    raisedAt: at,
    detectedAt: at,
    updatedAt: at,
    clearedAt: active ? null : at,
    ...UNHANDLED,
  };
}

/**
 * The watchdog on another host (`npm run watchdog`): looks at the monitor every interval and, once it has been
 * down, hung or degraded for `downAfterMs`, tells the people on duty through the channels of config/notify.yaml
 * (the county and city routes that take `monitoring_chain`), again when it recovers. Retries each message until
 * it is taken or the state changes.
 */
export class MonitorWatchdog {
  private since: number | null = null;
  private lastProblem = '';
  private told: 'down' | 'up' = 'up';
  private readonly channels: Map<string, Channel>;
  private unsent: Delivery[] = [];

  constructor(
    private readonly options: WatchdogOptions,
    private readonly policy: NotifyPolicy,
    private readonly log: (line: string) => void,
    /** Where a previous run (`--once` from cron) left off. */
    state?: WatchdogState,
  ) {
    this.channels = new Map(policy.channels.map((c) => [c.name, channelOf(c)]));
    if (state) {
      this.since = state.since;
      this.told = state.told;
    }
    if (this.deliveries('check', true, Date.now()).length === 0) {
      throw new Error('no county or city route of notify.yaml takes monitoring_chain alarms on raise: the watchdog would tell no one');
    }
  }

  /** What to keep between two runs of `--once`. */
  get state(): WatchdogState {
    return { since: this.since, told: this.told };
  }

  /** One check; resolves with the verdict after any message it called for was tried. */
  async check(now: number): Promise<Verdict> {
    const verdict = await checkMonitor(this.options);
    if (verdict.ok) {
      this.since = null;
      if (this.told === 'down') {
        this.told = 'up';
        this.unsent = this.deliveries(`监测平台恢复 monitor back: ${this.options.url} answers and is ok again`, false, now);
        this.log(`monitor back: ${this.options.url}`);
      }
    } else {
      this.since ??= now;
      this.lastProblem = verdict.problem;
      if (this.told === 'up' && now - this.since >= this.options.downAfterMs) {
        this.told = 'down';
        this.unsent = this.deliveries(`监测平台异常 monitor down or blind: ${verdict.problem} (for ${Math.round((now - this.since) / 1000)} s)`, true, now);
        this.log(`monitor problem for ${Math.round((now - this.since) / 1000)} s: ${verdict.problem}`);
      }
    }
    await this.sendUnsent();
    return verdict;
  }

  get problem(): string {
    return this.lastProblem;
  }

  private deliveries(message: string, active: boolean, now: number): Delivery[] {
    const alarm = watchdogAlarm(message, active, now);
    // A recovery is told to the same people as the problem: routed as the raise it answers, then said as what it is.
    const title = active ? '【Sentinel】监测平台异常 monitor down or blind' : '【Sentinel】监测平台恢复 monitor back';
    return decide({ kind: 'raise', alarm: { ...alarm, status: 'ACTIVE_UNACK' } }, this.policy, undefined, now).map((d) => ({
      ...d,
      kind: active ? 'raise' : 'recovery',
      title,
      text: `### ${title}\n- ${message}\n- 时间 At: ${new Date(now).toISOString()}`,
      params: { kind: active ? 'monitor_down' : 'monitor_back', monitor: this.options.url, problem: message, time: new Date(now).toISOString() },
    }));
  }

  private async sendUnsent(): Promise<void> {
    const left: Delivery[] = [];
    for (const d of this.unsent) {
      const channel = this.channels.get(d.channel);
      try {
        if (!channel) throw new Error(`no channel ${d.channel}`);
        await channel.send(d);
        this.log(`told ${d.recipient.name} on ${d.channel}`);
      } catch (err) {
        this.log(`could not tell ${d.recipient.name} on ${d.channel}: ${err instanceof Error ? err.message : String(err)}; retried at the next check`);
        left.push(d);
      }
    }
    this.unsent = left;
  }
}
