import type { Alarm } from '#libs/contracts/index.js';
import { WebSocket } from 'ws';
import { login } from './auth.js';

export interface WsFrame {
  readonly type: string;
  readonly seq?: number;
  readonly [key: string]: unknown;
}

/** Matches alarm frames whose alarm has every given field. */
export const alarmWhere =
  (match: Partial<Alarm>) =>
  (f: WsFrame): boolean =>
    f.type === 'alarm' && Object.entries(match).every(([k, v]) => (f.alarm as Record<string, unknown>)[k] === v);

/** A WebSocket client that records every frame and lets a test wait for the one it expects. */
export class RecordingWsClient {
  readonly frames: WsFrame[] = [];
  private waiters: { match: (f: WsFrame) => boolean; resolve: (f: WsFrame) => void }[] = [];
  /** Resolves with the close code once the connection is closed by either side. */
  readonly closed: Promise<number>;

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as WsFrame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  static async connect(url: string, token?: string): Promise<RecordingWsClient> {
    const ws = new WebSocket(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    const client = new RecordingWsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** A client of the monitor at `httpUrl`'s `/ws` signed in with `token` (default: as admin), once its snapshot has come. */
  static async ofMonitor(httpUrl: string, token?: string): Promise<RecordingWsClient> {
    const client = await RecordingWsClient.connect(`${httpUrl.replace('http', 'ws')}/ws`, token ?? (await login(httpUrl)).token);
    await client.waitFor((f) => f.type === 'snapshot');
    return client;
  }

  /** Resolves with the first frame, already received or still to come, that matches. */
  waitFor(match: (f: WsFrame) => boolean): Promise<WsFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}
