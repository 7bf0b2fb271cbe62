import type { Alarm, GatewayStatus } from '#libs/contracts/index.js';

/** One live value as the WebSocket carries it. */
export interface LiveValue {
  readonly enterpriseCode: string;
  readonly point: string;
  readonly value: number;
  readonly ts: number;
  readonly quality: 'good' | 'bad';
}

/** Which live values the page wants: none, or one enterprise (optionally one hazard source of it). */
export type View = 'none' | { readonly enterprise: string; readonly hazardSource?: string };

export interface LiveHandlers {
  /** A fresh picture: every active alarm of the jurisdiction replaces what the page held (`first`: of this feed). */
  snapshot(alarms: readonly Alarm[], gateways: readonly GatewayStatus[], first: boolean): void;
  /** The server's clock, as a heartbeat tells it (epoch ms). */
  clock(serverNow: number): void;
  alarm(alarm: Alarm): void;
  values(values: readonly LiveValue[], replace: boolean): void;
  gateway(gateway: GatewayStatus): void;
  risk(): void;
  registry(): void;
  status(state: 'up' | 'down' | 'stale', text: string): void;
  /** The upgrade was refused for want of a session (close code 4401), or a reconnect found another user signed in. */
  sessionLost(): void;
  /** Before reconnecting: resolves false when the page must stop (signed out or another user). */
  stillSignedIn(): Promise<boolean>;
}

interface Frame {
  readonly type: string;
  readonly seq?: number;
  readonly stream?: string;
  readonly pos?: number;
  readonly alarms?: Alarm[];
  readonly alarm?: Alarm;
  readonly gateways?: GatewayStatus[];
  readonly gateway?: GatewayStatus;
  readonly values?: LiveValue[];
  readonly readings?: LiveValue[];
  readonly reason?: string;
  readonly at?: number;
}

/** The server sends a heartbeat every 15 s: three missed mean the socket is dead although it did not say so. */
const SILENT_MS = 45_000;

/**
 * The page's WebSocket (docs/ws-protocol.md): snapshot, then alarm changes in `seq` order; after a drop it resumes
 * from the last alarm change seen (`?resume=stream.pos`), so the server replays what was missed or sends a fresh
 * snapshot. Live values come only for the view the page subscribed to.
 */
export class LiveFeed {
  private socket: WebSocket | null = null;
  private seq = 0;
  private stream: string | null = null;
  private pos = 0;
  private lastFrameAt = 0;
  private view: View = 'none';
  private closed = false;
  private delay = 500;
  private snapshots = 0;
  private readonly watchdog: number;

  constructor(private readonly on: LiveHandlers) {
    this.watchdog = window.setInterval(() => this.checkSilence(), 5000);
  }

  start(): void {
    this.open();
  }

  /** Ends the feed for good (sign-out): no reconnect. */
  close(): void {
    this.closed = true;
    window.clearInterval(this.watchdog);
    const ws = this.socket;
    this.socket = null;
    ws?.close();
  }

  /** Chooses the live values; the server answers with the latest value of each point in the view. */
  subscribe(view: View): void {
    this.view = view;
    const ws = this.socket;
    if (ws !== null && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'subscribe', values: view }));
  }

  /** Drops the connection as a network fault would: the feed reconnects and resumes (also what the tests use). */
  drop(): void {
    this.socket?.close();
  }

  /** Drops the resume point (the registry changed): the next connection starts from a snapshot. */
  restart(): void {
    this.stream = null;
    this.socket?.close();
  }

  private open(): void {
    const query = new URLSearchParams({ values: 'none' });
    if (this.stream !== null) query.set('resume', `${this.stream}.${this.pos}`);
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws?${query.toString()}`);
    this.socket = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.lastFrameAt = Date.now();
      this.on.status('up', '实时 live');
      if (this.view !== 'none') ws.send(JSON.stringify({ type: 'subscribe', values: this.view }));
    };
    ws.onclose = (ev) => {
      if (this.closed || ws !== this.socket) return;
      if (ev.code === 4401) {
        this.on.sessionLost();
        return;
      }
      this.on.status('down', '已断开 disconnected: reconnecting');
      window.setTimeout(() => void this.reconnect(), this.delay);
    };
    ws.onmessage = (ev: MessageEvent<string>) => {
      if (this.closed || ws !== this.socket) return;
      this.lastFrameAt = Date.now();
      this.frame(JSON.parse(ev.data) as Frame, ws);
    };
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    // An upgrade refused for want of a session shows only as a failed connection: ask first.
    const ok = await this.on.stillSignedIn().catch(() => true);
    if (this.closed || !ok) return;
    this.delay = Math.min(this.delay * 2, 10_000);
    this.open();
  }

  private frame(msg: Frame, ws: WebSocket): void {
    switch (msg.type) {
      case 'snapshot':
        this.seq = msg.seq ?? 0;
        this.stream = msg.stream ?? null;
        this.pos = msg.pos ?? 0;
        this.on.snapshot(msg.alarms ?? [], msg.gateways ?? [], this.snapshots++ === 0);
        if (msg.values && msg.values.length > 0) this.on.values(msg.values, false);
        return;
      case 'resume':
        this.seq = msg.seq ?? 0;
        (msg.gateways ?? []).forEach((g) => this.on.gateway(g));
        return;
      case 'alarm':
        // A gap in seq: reconnect and resume from the last change seen rather than show a picture with a hole.
        if (msg.seq !== this.seq + 1) {
          ws.close();
          return;
        }
        this.seq = msg.seq;
        if (msg.pos !== undefined) this.pos = msg.pos;
        if (msg.alarm) this.on.alarm(msg.alarm);
        return;
      case 'heartbeat':
        if (msg.at !== undefined) this.on.clock(msg.at);
        // The server sent more alarm frames than arrived: reconnect from the last change really seen.
        if (msg.seq !== undefined && msg.seq !== this.seq) {
          ws.close();
          return;
        }
        // Every alarm change for this page up to pos has come before this frame.
        if (msg.stream === this.stream && msg.pos !== undefined && msg.pos > this.pos) this.pos = msg.pos;
        return;
      case 'gateway':
        if (msg.gateway) this.on.gateway(msg.gateway);
        return;
      case 'risk':
        this.on.risk();
        return;
      case 'registry':
        this.on.registry();
        return;
      case 'values':
        this.on.values(msg.values ?? [], true);
        return;
      case 'reading':
        this.on.values(msg.readings ?? [], false);
        return;
      default:
        return;
    }
  }

  private checkSilence(): void {
    const ws = this.socket;
    if (this.closed || ws === null || ws.readyState !== WebSocket.OPEN || Date.now() - this.lastFrameAt < SILENT_MS) return;
    this.on.status('stale', '无心跳，数据可能过时 no heartbeat: data may be stale; reconnecting');
    ws.close();
  }
}
