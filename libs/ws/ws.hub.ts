import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Alarm, AlarmEventKind, GatewayStatus, RiskHistoryEntry, Point, Reading, ReadingBatch } from '#libs/contracts/index.js';

export interface LiveValue {
  readonly enterpriseCode: string;
  readonly point: string;
  readonly value: number;
  readonly ts: number;
  readonly quality: Reading['quality'];
}

export interface HubSnapshotSource {
  activeAlarms(): Alarm[];
  gateways(): GatewayStatus[];
}

export interface WsHubOptions {
  readonly path?: string;
  /** Live values are coalesced per point and sent at most this often. Alarms are never delayed. */
  readonly readingIntervalMs?: number;
  /** A client whose unsent bytes exceed this skips live-value frames until it catches up. */
  readonly softBufferBytes?: number;
  /** A client whose unsent bytes exceed this is closed (1013) and must reconnect for a fresh snapshot. */
  readonly hardBufferBytes?: number;
}

const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

const toLive = (r: Reading): LiveValue => ({ enterpriseCode: r.point.enterpriseCode, point: r.point.code, value: r.value, ts: r.ts, quality: r.quality });

/**
 * WebSocket fan-out. Protocol: on connect `{"type":"snapshot","seq",…}`; then `{"type":"alarm","seq",alarm}` at
 * once on every alarm change (seq +1 each, so a gap tells a client to reconnect), `{"type":"gateway",…}` and
 * coalesced `{"type":"reading","readings":[…]}` frames.
 */
export class WsHub {
  /** Clients send nothing but control frames: a frame above maxPayload closes the connection (1009) unbuffered. */
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_CLIENT_FRAME_BYTES });
  private latest = new Map<Point, Reading>();
  private pending = new Map<Point, Reading>();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly path: string;
  private readonly softBuffer: number;
  private readonly hardBuffer: number;
  private readonly intervalMs: number;
  private upgradeListener: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  private server: Server | null = null;

  constructor(
    private readonly source: HubSnapshotSource,
    opts: WsHubOptions = {},
  ) {
    this.path = opts.path ?? '/ws';
    this.intervalMs = opts.readingIntervalMs ?? 250;
    this.softBuffer = opts.softBufferBytes ?? 1 << 20;
    this.hardBuffer = opts.hardBufferBytes ?? 16 << 20;
  }

  attach(server: Server): void {
    this.server = server;
    this.upgradeListener = (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== this.path) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    };
    server.on('upgrade', this.upgradeListener);
    this.timer = setInterval(() => this.flushReadings(), this.intervalMs);
    this.timer.unref();
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  /** One alarm change; `event` says what happened (raise, update, clear, ack, escalate, close…). */
  publishAlarm(alarm: Alarm, event: AlarmEventKind = 'update'): void {
    this.broadcast(JSON.stringify({ type: 'alarm', seq: ++this.seq, event, alarm }), true);
  }

  /** Changes of four-colour risk of hazard sources and enterprises. */
  publishRisk(changes: readonly RiskHistoryEntry[]): void {
    this.broadcast(JSON.stringify({ type: 'risk', changes }), true);
  }

  publishGateway(status: GatewayStatus): void {
    this.broadcast(JSON.stringify({ type: 'gateway', gateway: status }), true);
  }

  publishReadings(batch: ReadingBatch): void {
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      const prev = this.latest.get(r.point);
      if (prev !== undefined && prev.ts > r.ts) continue;
      this.latest.set(r.point, r);
      this.pending.set(r.point, r);
    }
  }

  /**
   * After a registry reload: moves the latest values to the points' new versions (dropping removed points)
   * and tells clients to fetch the registry again.
   */
  registryReloaded(find: (old: Point) => Point | undefined, points: number): void {
    const rekey = (m: Map<Point, Reading>): Map<Point, Reading> => {
      const next = new Map<Point, Reading>();
      for (const [point, r] of m) {
        const p = find(point);
        if (p) next.set(p, { ...r, point: p });
      }
      return next;
    };
    this.latest = rekey(this.latest);
    this.pending = rekey(this.pending);
    this.broadcast(JSON.stringify({ type: 'registry', points }), true);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.server && this.upgradeListener) this.server.off('upgrade', this.upgradeListener);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    const snapshot = {
      type: 'snapshot',
      seq: this.seq,
      alarms: this.source.activeAlarms(),
      gateways: this.source.gateways(),
      values: [...this.latest.values()].map(toLive),
    };
    ws.send(JSON.stringify(snapshot));
    ws.on('error', () => ws.terminate());
  }

  private flushReadings(): void {
    if (this.pending.size === 0) return;
    const readings = [...this.pending.values()].map(toLive);
    this.pending = new Map();
    if (this.wss.clients.size === 0) return;
    this.broadcast(JSON.stringify({ type: 'reading', readings }), false);
  }

  private broadcast(frame: string, mustDeliver: boolean): void {
    for (const ws of this.wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const backlog = ws.bufferedAmount;
      if (backlog > this.hardBuffer) {
        ws.close(1013, 'too slow: reconnect for a fresh snapshot');
        continue;
      }
      if (!mustDeliver && backlog > this.softBuffer) continue;
      ws.send(frame);
    }
  }
}
