import { SEVERITY_RANK, type AlarmEvent, type AlarmSeverity, type Delivery, type DeliveryRecord, type DeliveryState, type Enterprise, type NotifyPolicy } from '#libs/contracts/index.js';
import { ChannelError, channelOf, type Channel } from './channels.js';
import { summaryMessage } from './message.js';
import { Outbox, recipientKey } from './outbox.js';
import { decide } from './routing.js';

const TICK_MS = 1000;
const BATCH = 20;
const IN_FLIGHT_PER_CHANNEL = 2;
const MAX_BACKOFF_MS = 300_000;
/** Sent, failed and folded messages are kept this long (for the alarm's record), then deleted. */
const RETAIN_MS = 90 * 86_400_000;

export interface NotifierDeps {
  readonly policy: NotifyPolicy;
  readonly outboxFile: string;
  readonly enterprise: (code: string) => Enterprise | undefined;
  /** Each message taken by its channel, or given up: for the audit log and the logs. */
  readonly onOutcome: (record: DeliveryRecord, outcome: 'sent' | 'failed', error: string | null) => void;
  /** Channels by name; default: built from the policy's channel configs. */
  readonly channels?: ReadonlyMap<string, Channel>;
  readonly now?: () => number;
}

export interface NotifierHealth {
  readonly ok: boolean;
  readonly pending: number;
  readonly failed: number;
  readonly held: number;
  /** Per channel: the last failure not yet followed by a success. */
  readonly failing: Readonly<Record<string, string>>;
}

/**
 * Notifications (预警推送): decides who hears of each alarm event (routing.ts), stores the messages in the outbox
 * before sending, sends them on their channels with retries and backoff, holds repeats and what exceeds a
 * recipient's hourly limit for one summary, and reports each outcome.
 */
export class Notifier {
  private readonly outbox: Outbox;
  private readonly channels: ReadonlyMap<string, Channel>;
  private readonly now: () => number;
  private readonly inFlight = new Set<number>();
  private readonly perChannel = new Map<string, number>();
  private readonly failing = new Map<string, string>();
  private readonly severity = new Map<string, AlarmSeverity>();
  private timer: NodeJS.Timeout | null = null;
  /** Sent, but the outbox could not record it: never sent again meanwhile. */
  private readonly sentUnrecorded = new Set<number>();
  private outboxError: string | null = null;
  private lastRetention = 0;
  private sending: Promise<unknown>[] = [];
  private closed = false;

  constructor(private readonly deps: NotifierDeps) {
    this.outbox = new Outbox(deps.outboxFile);
    this.channels = deps.channels ?? new Map(deps.policy.channels.map((c) => [c.name, channelOf(c)]));
    this.now = deps.now ?? Date.now;
  }

  /** Starts sending what is pending (also what a previous run left) and keeps at it every second. */
  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.tick();
  }

  /**
   * The alarm events of one turn: the messages they call for are stored before this returns. A message to a
   * recipient already told of the same alarm condition at the same or a higher severity within the repeat window,
   * or past their hourly limit, is held for the summary instead; escalations and rises in severity are never held.
   * The outbox is asked once per recipient and channel, so an alarm storm costs a lookup per person, not per message.
   */
  onEvents(events: readonly AlarmEvent[]): void {
    if (this.closed) return;
    const now = this.now();
    const { repeatWindowS, perRecipientPerHour } = this.deps.policy;
    const items: { delivery: Delivery; state: 'pending' | 'held' }[] = [];
    const seen = new Map<string, { sent: number; told: Map<string, number> }>();
    try {
      for (const e of events) {
        const a = e.alarm;
        // The severity last seen, else (after a restart) the highest one notified for this alarm.
        const before = this.severity.get(a.id) ?? this.outbox.severityNotified(a.id);
        if (a.closedAt !== null || !(a.status === 'ACTIVE_UNACK' || a.status === 'ACTIVE_ACK')) this.severity.delete(a.id);
        else this.severity.set(a.id, a.severity);
        for (const d of decide(e, this.deps.policy, this.deps.enterprise(a.enterpriseCode), now, before === undefined ? undefined : { severity: before })) {
          const pair = `${d.channel}\u0000${recipientKey(d)}`;
          let s = seen.get(pair);
          if (s === undefined) {
            s = { sent: this.outbox.countTo(d.channel, recipientKey(d), now - 3_600_000), told: new Map() };
            seen.set(pair, s);
          }
          if (!s.told.has(d.alarmKey)) s.told.set(d.alarmKey, this.outbox.toldRank(d.channel, recipientKey(d), d.alarmKey, now - repeatWindowS * 1000));
          const toldRank = s.told.get(d.alarmKey)!;
          const rank = SEVERITY_RANK[d.severity];
          const repeated = toldRank >= 0 && rank <= toldRank;
          const hold = d.kind !== 'escalate' && (repeated || s.sent >= perRecipientPerHour) && !(toldRank >= 0 && rank > toldRank);
          items.push({ delivery: d, state: hold ? 'held' : 'pending' });
          if (!hold) s.sent++;
          s.told.set(d.alarmKey, Math.max(toldRank, rank));
        }
      }
      if (items.length === 0) return;
      this.outbox.add(items, now);
      this.outboxError = null;
    } catch (err) {
      // Said on /health; the caller (the pipeline) logs it and goes on: the alarm itself is not at stake.
      this.outboxError = `the notification outbox failed: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    }
    if (items.some((i) => i.state === 'pending')) queueMicrotask(() => this.tick());
  }

  get channelNames(): string[] {
    return [...this.channels.keys()];
  }

  forAlarm(alarmId: string): DeliveryRecord[] {
    return this.outbox.forAlarm(alarmId);
  }

  health(): NotifierHealth {
    // A channel failing now degrades health; messages given up earlier are counted (and audited), not held against it.
    let c: Record<DeliveryState, number>;
    try {
      c = this.outbox.counts();
    } catch (err) {
      this.outboxError = `the notification outbox cannot be read: ${err instanceof Error ? err.message : String(err)}`;
      c = { pending: 0, sent: 0, failed: 0, held: 0, folded: 0 };
    }
    const failing = Object.fromEntries(this.failing);
    if (this.outboxError !== null) failing.outbox = this.outboxError;
    return { ok: this.failing.size === 0 && this.outboxError === null, pending: c.pending, failed: c.failed, held: c.held, failing };
  }

  /** Stops taking work and waits for the messages on their way (their outcome is stored before the outbox closes). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.sending);
    this.outbox.close();
  }

  /** One round now (summaries due, then the messages due), resolved once they are sent or failed. */
  async runOnce(): Promise<void> {
    this.tick();
    await Promise.allSettled(this.sending);
  }

  /** A round: summaries due, then per channel the messages due (a slow channel holds up only its own). */
  private tick(): void {
    if (this.closed) return;
    try {
      const now = this.now();
      this.summarise(now);
      this.retain(now);
      for (const channel of this.channels.keys()) {
        const busy = this.perChannel.get(channel) ?? 0;
        if (busy >= IN_FLIGHT_PER_CHANNEL) continue;
        for (const r of this.outbox.due(channel, now, MAX_BACKOFF_MS, BATCH)) {
          if (this.inFlight.has(r.id) || this.sentUnrecorded.has(r.id)) continue;
          if ((this.perChannel.get(channel) ?? 0) >= IN_FLIGHT_PER_CHANNEL) break;
          this.dispatch(r);
        }
      }
      for (const r of this.outbox.dueUnknownChannel([...this.channels.keys()], now, BATCH)) if (!this.inFlight.has(r.id)) this.dispatch(r);
      this.outboxError = null;
    } catch (err) {
      // A timer must not throw: the process would exit. Said on /health, tried again next round.
      this.outboxError = `the notification outbox failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private dispatch(r: DeliveryRecord): void {
    this.inFlight.add(r.id);
    this.perChannel.set(r.channel, (this.perChannel.get(r.channel) ?? 0) + 1);
    const p = this.send(r)
      .catch((err: unknown) => {
        this.outboxError = `the notification outbox failed: ${err instanceof Error ? err.message : String(err)}`;
      })
      .finally(() => {
        this.inFlight.delete(r.id);
        this.perChannel.set(r.channel, (this.perChannel.get(r.channel) ?? 1) - 1);
        this.sending = this.sending.filter((x) => x !== p);
      });
    this.sending.push(p);
  }

  /** Hourly: forgets messages sent, given up or folded more than RETAIN_MS ago. */
  private retain(now: number): void {
    if (now - this.lastRetention < 3_600_000) return;
    this.lastRetention = now;
    this.outbox.prune(now - RETAIN_MS);
  }

  /** Held messages whose window has passed go out as one summary per recipient, channel and alarm condition. */
  private summarise(now: number): void {
    const windowMs = this.deps.policy.repeatWindowS * 1000;
    for (const g of this.outbox.heldGroups(now - windowMs, now)) {
      const message = summaryMessage(g.alarmKey, g.ids.length, g.last.title, this.deps.policy.repeatWindowS);
      this.outbox.fold(g.ids, { ...g.last, kind: 'summary', ...message }, now);
    }
  }

  private async send(r: DeliveryRecord): Promise<void> {
    const channel = this.channels.get(r.channel);
    let error: ChannelError;
    try {
      if (!channel) throw new ChannelError(`no channel named ${r.channel} in config/notify.yaml`, true);
      await channel.send(r);
      this.sentUnrecorded.add(r.id);
      this.outbox.sent(r.id, this.now());
      this.sentUnrecorded.delete(r.id);
      this.failing.delete(r.channel);
      this.deps.onOutcome({ ...r, state: 'sent', attempts: r.attempts + 1 }, 'sent', null);
      return;
    } catch (err) {
      error = err instanceof ChannelError ? err : new ChannelError(err instanceof Error ? err.message : String(err));
    }
    const now = this.now();
    this.failing.set(r.channel, error.message);
    const giveUp = error.permanent || now - Date.parse(r.createdAt) >= this.deps.policy.retryForS * 1000;
    const retryAt = giveUp ? null : now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(r.attempts, 16));
    this.outbox.failed(r.id, error.message, retryAt);
    if (giveUp) this.deps.onOutcome({ ...r, state: 'failed', attempts: r.attempts + 1, lastError: error.message }, 'failed', error.message);
  }
}
