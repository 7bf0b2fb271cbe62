import type { AlarmEvent, AlarmSeverity, Delivery, DeliveryRecord, Enterprise, NotifyPolicy } from '#libs/contracts/index.js';
import { ChannelError, channelOf, type Channel } from './channels.js';
import { summaryMessage } from './message.js';
import { Outbox, recipientKey } from './outbox.js';
import { decide } from './routing.js';

const TICK_MS = 1000;
const BATCH = 20;
const IN_FLIGHT_PER_CHANNEL = 2;
const MAX_BACKOFF_MS = 300_000;

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
   * recipient already told of the same alarm condition within the repeat window, or past their hourly limit, is
   * held for the summary instead; escalations are never held.
   */
  onEvents(events: readonly AlarmEvent[]): void {
    if (this.closed) return;
    const now = this.now();
    const { repeatWindowS, perRecipientPerHour } = this.deps.policy;
    const items: { delivery: Delivery; state: 'pending' | 'held' }[] = [];
    for (const e of events) {
      const before = this.severity.get(e.alarm.id);
      if (e.alarm.closedAt !== null) this.severity.delete(e.alarm.id);
      else this.severity.set(e.alarm.id, e.alarm.severity);
      for (const d of decide(e, this.deps.policy, this.deps.enterprise(e.alarm.enterpriseCode), now, before === undefined ? null : { severity: before })) {
        const to = recipientKey(d);
        const sameBatch = items.filter((i) => i.delivery.channel === d.channel && recipientKey(i.delivery) === to);
        const repeated = sameBatch.some((i) => i.delivery.alarmKey === d.alarmKey) || this.outbox.toldOf(d.channel, to, d.alarmKey, now - repeatWindowS * 1000);
        const overLimit = this.outbox.countTo(d.channel, to, now - 3_600_000) + sameBatch.filter((i) => i.state === 'pending').length >= perRecipientPerHour;
        items.push({ delivery: d, state: d.kind !== 'escalate' && (repeated || overLimit) ? 'held' : 'pending' });
      }
    }
    if (items.length === 0) return;
    this.outbox.add(items, now);
    if (items.some((i) => i.state === 'pending')) queueMicrotask(() => this.tick());
  }

  get channelNames(): string[] {
    return [...this.channels.keys()];
  }

  forAlarm(alarmId: string): DeliveryRecord[] {
    return this.outbox.forAlarm(alarmId);
  }

  health(): NotifierHealth {
    const c = this.outbox.counts();
    // A channel failing now degrades health; messages given up earlier are counted (and audited), not held against it.
    return { ok: this.failing.size === 0, pending: c.pending, failed: c.failed, held: c.held, failing: Object.fromEntries(this.failing) };
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

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    this.summarise(now);
    for (const r of this.outbox.due(now, BATCH)) {
      if (this.inFlight.has(r.id)) continue;
      const busy = this.perChannel.get(r.channel) ?? 0;
      if (busy >= IN_FLIGHT_PER_CHANNEL) continue;
      this.inFlight.add(r.id);
      this.perChannel.set(r.channel, busy + 1);
      const p = this.send(r).finally(() => {
        this.inFlight.delete(r.id);
        this.perChannel.set(r.channel, (this.perChannel.get(r.channel) ?? 1) - 1);
        this.sending = this.sending.filter((x) => x !== p);
      });
      this.sending.push(p);
    }
  }

  /** Held messages whose window has passed go out as one summary per recipient, channel and alarm condition. */
  private summarise(now: number): void {
    const windowMs = this.deps.policy.repeatWindowS * 1000;
    for (const g of this.outbox.heldGroups(now - windowMs)) {
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
      this.outbox.sent(r.id, this.now());
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
