import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Alarm, AlarmEventKind, GatewayStatus, RiskHistoryEntry, Point, Reading, ReadingBatch, Region } from '#libs/contracts/index.js';

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
  /** The administrative region of an enterprise, for value views by region; unset: such views match nothing. */
  readonly regionOf?: (enterpriseCode: string) => Region | undefined;
}

/** One connected client's view: which enterprises it may see, and whether its credentials still hold. */
export interface WsViewer {
  /** Clients with the same key see the same enterprises and share frames. */
  readonly key: string;
  sees(enterpriseCode: string): boolean;
  /** How many registered points the client sees (told after a registry reload); unset: all of them. */
  visiblePoints?(): number;
  stillValid(): boolean;
}

/** Decides an upgrade: a viewer, or the HTTP status and reason the upgrade is refused with. */
export type WsGate = (req: IncomingMessage) => { readonly viewer: WsViewer } | { readonly status: 401 | 403; readonly reason: string };

/** Everything, for a hub attached without a gate (tests of the hub alone). */
const EVERYONE: WsViewer = { key: '*', sees: () => true, stillValid: () => true };

interface Client {
  readonly viewer: WsViewer;
  /** Per connection: a client sees only its jurisdiction's alarms, and a gap in its own sequence means a lost frame. */
  seq: number;
  /** Answered the last ping (or has not been pinged yet). */
  alive: boolean;
  /** Which points' live values it asked for; null: every point it may see (the default). */
  values: ValueView | null;
  /** The stream name this client was given: the run, its jurisdiction and the registry's generation together. */
  readonly stream: string;
  /** The position of the last alarm change sent to it (or of its snapshot). */
  pos: number;
  /** Frames it sent in the current second, for the rate limit. */
  frames: { second: number; count: number };
}

/** Live values a client subscribed to: none, one enterprise, one hazard source, or a list of points. */
type ValueView =
  | { readonly kind: 'none' }
  | { readonly kind: 'region'; readonly region: string }
  | { readonly kind: 'enterprise'; readonly enterprise: string; readonly hazardSource: string | null }
  | { readonly kind: 'points'; readonly keys: ReadonlySet<string> };

const VIEWS = 'values must be "all", "none", {"region"}, {"enterprise"[,"hazardSource"]} or {"points":[{"enterprise","point"}]}';

const MAX_VIEW_POINTS = 1_000;
/** A client sending more frames a second than this is closed (1008): each subscription scans the latest values. */
const MAX_CLIENT_FRAMES_PER_S = 5;
/** Bytes of alarm changes held for resuming clients, besides their number: an alarm's body can be large (comments). */
const REPLAY_MAX_BYTES = 8 * 2 ** 20;

/** Parses a client's `{"type":"subscribe","values":…}`; a string says what is wrong with it. */
export function valueViewOf(frame: unknown): ValueView | null | string {
  if (typeof frame !== 'object' || frame === null || (frame as { type?: unknown }).type !== 'subscribe') return 'expected {"type":"subscribe","values":…}';
  const v = (frame as { values?: unknown }).values;
  if (v === 'all') return null;
  if (v === 'none') return { kind: 'none' };
  if (typeof v !== 'object' || v === null) return VIEWS;
  const { enterprise, hazardSource, points, region } = v as { enterprise?: unknown; hazardSource?: unknown; points?: unknown; region?: unknown };
  if (region !== undefined) {
    if (typeof region !== 'string' || !/^\d{6}$/.test(region) || enterprise !== undefined || points !== undefined) return 'values.region must be a 6-digit division code (province, city or county), alone';
    return { kind: 'region', region };
  }
  if (typeof enterprise === 'string' && points === undefined) {
    if (hazardSource !== undefined && typeof hazardSource !== 'string') return 'values.hazardSource must be a string';
    return { kind: 'enterprise', enterprise, hazardSource: hazardSource ?? null };
  }
  if (Array.isArray(points) && enterprise === undefined) {
    if (points.length > MAX_VIEW_POINTS) return `values.points: at most ${MAX_VIEW_POINTS} points`;
    const keys = new Set<string>();
    for (const p of points as unknown[]) {
      const { enterprise: e, point } = (p ?? {}) as { enterprise?: unknown; point?: unknown };
      if (typeof e !== 'string' || typeof point !== 'string') return 'values.points: each must be {"enterprise","point"}';
      keys.add(`${e}/${point}`);
    }
    return { kind: 'points', keys };
  }
  return VIEWS;
}

function inView(view: ValueView, p: Point, regionOf: HubSnapshotSource['regionOf']): boolean {
  switch (view.kind) {
    case 'none':
      return false;
    case 'region': {
      const r = regionOf?.(p.enterpriseCode);
      return r !== undefined && (r.county === view.region || r.city === view.region || r.province === view.region);
    }
    case 'enterprise':
      return p.enterpriseCode === view.enterprise && (view.hazardSource === null || p.hazardSourceCode === view.hazardSource);
    case 'points':
      return view.keys.has(`${p.enterpriseCode}/${p.code}`);
  }
}

/** An alarm change as sent, kept for clients that resume after a dropped connection. */
interface Replayable {
  readonly pos: number;
  readonly enterpriseCode: string;
  /** The frame from `"pos"` on, without the per-connection `seq`. */
  readonly body: string;
  readonly bytes: number;
}

export interface WsHubOptions {
  readonly path?: string;
  /** Live values are coalesced per point and sent at most this often. Alarms are never delayed. */
  readonly readingIntervalMs?: number;
  /** A client whose unsent bytes exceed this skips live-value frames until it catches up. */
  readonly softBufferBytes?: number;
  /** A client whose unsent bytes exceed this is closed (1013) and must reconnect for a fresh snapshot. */
  readonly hardBufferBytes?: number;
  /** How often each client's session or token is checked; an ended one closes the connection (4401). */
  readonly revalidateMs?: number;
  /** How many of the latest alarm changes a resuming client can be sent; one further behind gets a fresh snapshot. */
  readonly replayEvents?: number;
  /** A heartbeat frame and a ping this often; a client that did not answer the previous ping is dropped. */
  readonly heartbeatMs?: number;
}

/** `?resume=<stream>.<pos>`: the stream and position of the last alarm frame a client had before its connection dropped. */
function resumeOf(query: URLSearchParams): { stream: string; pos: number } | null {
  const value = query.get('resume');
  const m = value === null ? null : /^([0-9a-f]{16})\.(\d{1,15})$/.exec(value);
  return m === null ? null : { stream: m[1]!, pos: Number(m[2]) };
}

const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

const toLive = (r: Reading): LiveValue => ({ enterpriseCode: r.point.enterpriseCode, point: r.point.code, value: r.value, ts: r.ts, quality: r.quality });

/**
 * WebSocket fan-out, each client filtered to its jurisdiction (docs/ws-protocol.md). On connect
 * `{"type":"snapshot","seq":0,"stream","pos",…}`; then `{"type":"alarm","seq","pos",…}` at once on every change of an
 * alarm the client may see (seq +1 each per connection, so a gap tells a client to reconnect; pos numbers the
 * changes of all clients in this process's `stream`), `{"type":"gateway",…}`, `{"type":"risk",…}`, coalesced
 * `{"type":"reading","readings":[…]}` and `{"type":"heartbeat"}` frames. A client reconnecting with
 * `?resume=<stream>.<pos>` gets `{"type":"resume"}` and the alarm changes it missed instead of a snapshot, when they
 * are still held.
 */
export class WsHub {
  /** Clients send nothing but control frames: a frame above maxPayload closes the connection (1009) unbuffered. */
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_CLIENT_FRAME_BYTES });
  private latest = new Map<Point, Reading>();
  private pending = new Map<Point, Reading>();
  private readonly clients = new Map<WebSocket, Client>();
  private timer: NodeJS.Timeout | null = null;
  private revalidateTimer: NodeJS.Timeout | null = null;
  private readonly revalidateMs: number;
  private readonly path: string;
  private readonly softBuffer: number;
  private readonly hardBuffer: number;
  private readonly intervalMs: number;
  private upgradeListener: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  private server: Server | null = null;
  /** This process's alarm-change stream: positions start again with a new one at every start. */
  private readonly stream = randomBytes(8).toString('hex');
  private pos = 0;
  private replay: Replayable[] = [];
  private replayBytes = 0;
  /** Counts registry reloads: a client resumes only within the registry (and jurisdiction) it was sent. */
  private registryGeneration = 0;
  private readonly replayEvents: number;
  private readonly heartbeatMs: number;
  private heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly source: HubSnapshotSource,
    opts: WsHubOptions = {},
  ) {
    this.path = opts.path ?? '/ws';
    this.intervalMs = opts.readingIntervalMs ?? 250;
    this.softBuffer = opts.softBufferBytes ?? 1 << 20;
    this.hardBuffer = opts.hardBufferBytes ?? 16 << 20;
    this.revalidateMs = opts.revalidateMs ?? 30_000;
    this.replayEvents = opts.replayEvents ?? 2_000;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
  }

  /** Serves upgrades of `path` on `server`; `gate` admits or refuses each (no gate: everyone sees everything). */
  attach(server: Server, gate?: WsGate): void {
    this.server = server;
    this.upgradeListener = (req, socket, head) => {
      // A peer resetting the connection while we answer must not become an uncaught 'error' (the process would exit).
      socket.on('error', () => socket.destroy());
      const path = (req.url ?? '').split('?')[0];
      if (path !== this.path) {
        socket.destroy();
        return;
      }
      let admitted: ReturnType<WsGate>;
      try {
        admitted = gate ? gate(req) : { viewer: EVERYONE };
      } catch {
        // The gate failing on a strange request must refuse it, never bring the process down.
        refuseUpgrade(socket, 400, 'bad upgrade request');
        return;
      }
      if (!('viewer' in admitted)) {
        refuseUpgrade(socket, admitted.status, admitted.reason);
        return;
      }
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, admitted.viewer, resumeOf(query), query.get('values') === 'none'));
    };
    server.on('upgrade', this.upgradeListener);
    this.timer = setInterval(() => this.flushReadings(), this.intervalMs);
    this.timer.unref();
    this.revalidateTimer = setInterval(() => this.revalidate(), this.revalidateMs);
    this.revalidateTimer.unref();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  /**
   * Alarm changes in order, one frame each; `kind` says what happened (raise, update, clear, ack, escalate, close…).
   * A client's frames of one call leave in one write to its socket: an alarm storm costs a system call per client
   * and turn, not per alarm.
   */
  publishAlarms(changes: readonly { readonly alarm: Alarm; readonly kind: AlarmEventKind }[]): void {
    if (changes.length === 0) return;
    const first = this.pos + 1;
    const bodies = changes.map(({ alarm, kind }) => {
      const body = `"pos":${++this.pos},"event":${JSON.stringify(kind)},"alarm":${JSON.stringify(alarm)}}`;
      this.replay.push({ pos: this.pos, enterpriseCode: alarm.enterpriseCode, body, bytes: body.length });
      this.replayBytes += body.length;
      return body;
    });
    this.trimReplay();
    if (this.clients.size === 0) return;
    this.broadcast((client) => {
      const frames: string[] = [];
      for (let i = 0; i < changes.length; i++) {
        if (!client.viewer.sees(changes[i]!.alarm.enterpriseCode)) continue;
        frames.push(`{"type":"alarm","seq":${++client.seq},${bodies[i]!}`);
        client.pos = first + i;
      }
      return frames;
    }, true);
  }

  /** Changes of four-colour risk of hazard sources and enterprises. */
  publishRisk(changes: readonly RiskHistoryEntry[]): void {
    this.broadcastByKey((viewer) => {
      const seen = changes.filter((c) => viewer.sees(c.enterpriseCode));
      return seen.length === 0 ? null : JSON.stringify({ type: 'risk', changes: seen });
    }, true);
  }

  publishGateway(status: GatewayStatus): void {
    const frame = JSON.stringify({ type: 'gateway', gateway: status });
    this.broadcast((client) => (client.viewer.sees(status.enterpriseCode) ? frame : null), true);
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
    this.registryGeneration++;
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
    this.broadcastByKey((viewer) => JSON.stringify({ type: 'registry', points: viewer.visiblePoints?.() ?? points }), true);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.revalidateTimer) clearInterval(this.revalidateTimer);
    if (this.server && this.upgradeListener) this.server.off('upgrade', this.upgradeListener);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** `noValues` (`?values=none`): no live values, in the snapshot or after, until the client subscribes to some. */
  private onConnection(ws: WebSocket, viewer: WsViewer, resume: { stream: string; pos: number } | null, noValues = false): void {
    const sees = (x: { enterpriseCode: string }): boolean => viewer.sees(x.enterpriseCode);
    // The client's stream: the same only within this run, its jurisdiction and this registry. A client whose
    // jurisdiction or registry changed since it last connected gets a fresh snapshot, never a replay of the old view.
    const stream = createHash('sha256').update(`${this.stream}\n${viewer.key}\n${this.registryGeneration}`).digest('hex').slice(0, 16);
    const client: Client = { viewer, seq: 0, alive: true, values: noValues ? { kind: 'none' } : null, stream, pos: this.pos, frames: { second: 0, count: 0 } };
    this.clients.set(ws, client);
    ws.once('close', () => this.clients.delete(ws));
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onClientFrame(ws, client, isBinary ? null : data.toString()));
    const oldest = this.replay.length === 0 ? this.pos + 1 : this.replay[0]!.pos;
    const canResume = resume !== null && resume.stream === stream && resume.pos <= this.pos && resume.pos >= oldest - 1;
    if (canResume) {
      // `from`: where the replay starts; the client takes positions from the alarm frames that follow, so a link
      // that drops during the replay resumes from the last change it really got.
      const frames = [JSON.stringify({ type: 'resume', seq: 0, stream, from: resume.pos, gateways: this.source.gateways().filter(sees) })];
      client.pos = resume.pos;
      for (let i = this.replayIndexAfter(resume.pos); i < this.replay.length; i++) {
        const r = this.replay[i]!;
        if (!viewer.sees(r.enterpriseCode)) continue;
        frames.push(`{"type":"alarm","seq":${++client.seq},${r.body}`);
        client.pos = r.pos;
      }
      sendCorked(ws, frames);
      return;
    }
    const snapshot = {
      type: 'snapshot',
      seq: 0,
      stream,
      pos: this.pos,
      ...(resume !== null && { resync: true }),
      alarms: this.source.activeAlarms().filter(sees),
      gateways: this.source.gateways().filter(sees),
      values: noValues ? [] : [...this.latest.values()].filter((r) => viewer.sees(r.point.enterpriseCode)).map(toLive),
    };
    ws.send(JSON.stringify(snapshot));
  }

  /** Keeps about `replayEvents` changes and at most REPLAY_MAX_BYTES of them, dropping the oldest (in steps, not each time). */
  private trimReplay(): void {
    if (this.replay.length <= this.replayEvents + 256 && this.replayBytes <= REPLAY_MAX_BYTES) return;
    let drop = Math.max(0, this.replay.length - this.replayEvents);
    let bytes = this.replayBytes;
    for (let i = 0; i < drop; i++) bytes -= this.replay[i]!.bytes;
    while (drop < this.replay.length && bytes > REPLAY_MAX_BYTES * 0.75) bytes -= this.replay[drop++]!.bytes;
    this.replay = this.replay.slice(drop);
    this.replayBytes = bytes;
  }

  /**
   * `{"type":"subscribe","values":…}` narrows the live values to a view (the client's jurisdiction still applies)
   * and answers `{"type":"values","values":[…latest in the view…]}`; anything else answers `{"type":"error"}` and
   * changes nothing.
   */
  private onClientFrame(ws: WebSocket, client: Client, text: string | null): void {
    const second = Math.floor(Date.now() / 1000);
    if (client.frames.second !== second) client.frames = { second, count: 0 };
    if (++client.frames.count > MAX_CLIENT_FRAMES_PER_S) {
      ws.close(1008, `more than ${MAX_CLIENT_FRAMES_PER_S} frames a second`);
      return;
    }
    if (ws.bufferedAmount > this.hardBuffer) {
      ws.close(1013, 'too slow: reconnect for a fresh snapshot');
      return;
    }
    let parsed: unknown = null;
    try {
      parsed = text === null ? null : JSON.parse(text);
    } catch {
      // answered below as not a subscription
    }
    const view = valueViewOf(parsed);
    if (typeof view === 'string') {
      ws.send(JSON.stringify({ type: 'error', reason: view }));
      return;
    }
    client.values = view;
    const values: LiveValue[] = [];
    for (const r of this.latest.values()) if (client.viewer.sees(r.point.enterpriseCode) && (view === null || inView(view, r.point, this.source.regionOf))) values.push(toLive(r));
    ws.send(JSON.stringify({ type: 'values', values }));
  }

  /** Index of the first held change after `pos`. */
  private replayIndexAfter(pos: number): number {
    let lo = 0;
    let hi = this.replay.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.replay[mid]!.pos <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Tells every client the feed is alive and where the stream is; drops a client that did not answer the last ping. */
  private heartbeat(): void {
    const at = Date.now();
    for (const [ws, client] of this.clients) {
      if (!client.alive) {
        ws.terminate();
        continue;
      }
      client.alive = false;
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.ping();
      // Its own last position, not the stream's: other jurisdictions' alarm traffic is none of its business.
      // `seq`: the last alarm frame sent to it, so a client missing one learns of the gap before trusting `pos`.
      if (ws.bufferedAmount <= this.softBuffer) ws.send(`{"type":"heartbeat","seq":${client.seq},"stream":"${client.stream}","pos":${client.pos},"at":${at}}`);
    }
  }

  private flushReadings(): void {
    if (this.pending.size === 0) return;
    const pending = [...this.pending.values()];
    this.pending = new Map();
    if (this.clients.size === 0) return;
    // Clients with the whole of their jurisdiction share a frame per jurisdiction; one with a view gets its own.
    const shared = new Map<string, string | null>();
    const frameOf = (readings: Reading[]): string | null => (readings.length === 0 ? null : JSON.stringify({ type: 'reading', readings: readings.map(toLive) }));
    this.broadcast((client) => {
      const { viewer, values: view } = client;
      if (view !== null) return view.kind === 'none' ? null : frameOf(pending.filter((r) => viewer.sees(r.point.enterpriseCode) && inView(view, r.point, this.source.regionOf)));
      if (!shared.has(viewer.key)) shared.set(viewer.key, frameOf(viewer.key === '*' ? pending : pending.filter((r) => viewer.sees(r.point.enterpriseCode))));
      return shared.get(viewer.key) ?? null;
    }, false);
  }

  /** Closes (4401) every connection whose session or token no longer holds; also runs on a timer. */
  revalidate(): void {
    for (const [ws, client] of this.clients) {
      let valid: boolean;
      try {
        valid = client.viewer.stillValid();
      } catch {
        // The check itself failed (e.g. its database is locked): keep the connection and ask again next time.
        continue;
      }
      if (!valid) ws.close(4401, 'session ended: sign in again');
    }
  }

  /** One frame per group of clients that see the same enterprises. */
  private broadcastByKey(frameFor: (viewer: WsViewer) => string | null, mustDeliver: boolean): void {
    const frames = new Map<string, string | null>();
    this.broadcast((client) => {
      const { key } = client.viewer;
      if (!frames.has(key)) frames.set(key, frameFor(client.viewer));
      return frames.get(key) ?? null;
    }, mustDeliver);
  }

  /** Sends each open client its frames (several leave in one write to its socket), minding its backlog. */
  private broadcast(framesFor: (client: Client) => string | readonly string[] | null, mustDeliver: boolean): void {
    for (const [ws, client] of this.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const backlog = ws.bufferedAmount;
      if (backlog > this.hardBuffer) {
        ws.close(1013, 'too slow: reconnect for a fresh snapshot');
        continue;
      }
      if (!mustDeliver && backlog > this.softBuffer) continue;
      const frames = framesFor(client);
      if (frames === null) continue;
      if (typeof frames === 'string') {
        ws.send(frames);
        continue;
      }
      sendCorked(ws, frames);
    }
  }
}

/** Several frames in one write to the client's socket (corked around them). */
function sendCorked(ws: WebSocket, frames: readonly string[]): void {
  const socket = socketOf(ws);
  socket?.cork();
  try {
    for (const frame of frames) ws.send(frame);
  } finally {
    socket?.uncork();
  }
}

/** The TCP socket under a connection (`ws` keeps it as `_socket`), to cork it around a burst of frames. */
function socketOf(ws: WebSocket): Pick<Duplex, 'cork' | 'uncork'> | null {
  const socket = (ws as unknown as { _socket?: Duplex })._socket;
  return socket !== undefined && typeof socket.cork === 'function' ? socket : null;
}

function refuseUpgrade(socket: Duplex, status: 400 | 401 | 403, reason: string): void {
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' }[status];
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}
