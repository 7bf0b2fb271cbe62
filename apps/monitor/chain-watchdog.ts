/** What the watchdog saw of the monitoring chain, on /health. */
export interface ChainHealth {
  readonly ok: boolean;
  readonly intervalS: number;
  /** When the last heartbeat came back, and how long its round trip through the broker took. */
  readonly lastBackAt: string | null;
  /** How long ago that was, by the monitor's clock (a watchdog on another host compares this, not two clocks). */
  readonly ageMs: number | null;
  readonly roundTripMs: number | null;
  /** Heartbeats sent and not yet back. */
  readonly outstanding: number;
  readonly problem: string | null;
}

export interface ChainWatchdogDeps {
  readonly intervalMs: number;
  /** Sends one heartbeat through the broker to this monitor. */
  readonly publish: (payload: string) => void;
  /** Raises (`active`) or clears the monitoring_chain alarm of a hop. */
  readonly verdict: (hop: 'broker', active: boolean, message: string) => void;
  readonly now?: () => number;
  /** Each heartbeat back: its round trip and when (for the metrics). */
  readonly onBack?: (roundTripMs: number, at: number) => void;
}

/**
 * The monitor's watchdog of its own monitoring chain (监测链路): every interval it publishes a heartbeat to itself
 * through the broker, on the same connection and subscription as the gateways' telemetry, and follows it back into
 * the pipeline. One not back within three intervals raises a critical `monitoring_chain` alarm naming the hop
 * (notified like any alarm, through channels that depend on neither the broker nor the stores); its return clears
 * it. The stores have their own `storage_unavailable` alarms; a monitor hung or stopped as a whole is the external
 * `npm run watchdog`'s to see.
 */
export class ChainWatchdog {
  private seq = 0;
  private readonly sent = new Map<number, number>();
  private lastBack: { at: number; roundTripMs: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly nonce = Math.random().toString(36).slice(2);

  constructor(private readonly deps: ChainWatchdogDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.deps.intervalMs);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Sends the next heartbeat, then judges the ones still out. */
  tick(): void {
    const now = this.now();
    const seq = ++this.seq;
    this.sent.set(seq, now);
    this.deps.publish(JSON.stringify({ nonce: this.nonce, seq, sentAt: now }));
    // The verdict every round, not only on a change: the alarm store may hold this alarm from before a restart,
    // and the pipeline raises or clears only what differs from the book.
    const stalledMs = this.stalledMs(now);
    this.deps.verdict(
      'broker',
      stalledMs !== null,
      stalledMs !== null
        ? `monitoring chain stalled at the broker: no heartbeat back for ${Math.round(stalledMs / 1000)} s (sent every ${this.deps.intervalMs / 1000} s); gateway data may not be arriving`
        : `monitoring chain back: heartbeats through the broker in ${this.lastBack?.roundTripMs ?? '?'} ms`,
    );
    // Forget what can no longer come back in time, so the map stays small through a long outage.
    for (const [s, at] of this.sent) if (now - at > 10 * this.boundMs) this.sent.delete(s);
  }

  /** A heartbeat came back through the broker into the pipeline. Others' (another monitor's) are ignored. */
  arrived(payload: Buffer): void {
    let beat: { nonce?: unknown; seq?: unknown; sentAt?: unknown };
    try {
      beat = JSON.parse(payload.toString('utf8')) as typeof beat;
    } catch {
      return;
    }
    if (beat.nonce !== this.nonce || typeof beat.seq !== 'number' || typeof beat.sentAt !== 'number') return;
    const now = this.now();
    for (const s of [...this.sent.keys()]) if (s <= beat.seq) this.sent.delete(s);
    this.lastBack = { at: now, roundTripMs: now - beat.sentAt };
    this.deps.onBack?.(now - beat.sentAt, now);
    if (this.stalledMs(now) === null) {
      this.deps.verdict('broker', false, `monitoring chain back: heartbeat through the broker in ${now - beat.sentAt} ms`);
    }
  }

  health(): ChainHealth {
    const stalledMs = this.stalledMs(this.now());
    return {
      ok: stalledMs === null,
      intervalS: this.deps.intervalMs / 1000,
      lastBackAt: this.lastBack === null ? null : new Date(this.lastBack.at).toISOString(),
      ageMs: this.lastBack === null ? null : Math.max(0, this.now() - this.lastBack.at),
      roundTripMs: this.lastBack?.roundTripMs ?? null,
      outstanding: this.sent.size,
      problem: stalledMs !== null ? `no heartbeat back through the broker for ${Math.round(stalledMs / 1000)} s` : null,
    };
  }

  /** Three intervals without a heartbeat back mean the chain is stalled. */
  private get boundMs(): number {
    return 3 * this.deps.intervalMs;
  }

  /** How long the oldest heartbeat still out has been out, when that is past the bound; null: not stalled. */
  private stalledMs(now: number): number | null {
    const out = now - Math.min(...this.sent.values());
    return out >= this.boundMs ? out : null;
  }
}
