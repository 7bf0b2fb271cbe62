import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A local HTTP endpoint standing in for a webhook, DingTalk, WeCom or an SMS gateway: records every request and
 * answers what `answer` says (default 200 `{"errcode":0,"errmsg":"ok"}`, as the robots answer).
 */
export class HttpReceiver {
  readonly received: Received[] = [];
  answer: (r: Received) => { status: number; body: string } = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HttpReceiver> {
    let self: HttpReceiver | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const { status, body } = self!.answer(r);
        if (status < 300) self!.received.push(r);
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        self!.waiters = self!.waiters.filter((w) => (self!.received.length >= w.n ? (w.resolve(), false) : true));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    self = new HttpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** Resolves once `n` requests have been taken (answered below 300). */
  taken(n: number): Promise<void> {
    return this.received.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

export interface Mail {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

/** An SMTP server in the test process (the `smtp-server` package): records each message it is given. */
export class SmtpReceiver {
  readonly mails: Mail[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(): Promise<SmtpReceiver> {
    let self: SmtpReceiver | null = null;
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          self!.mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = (server as unknown as { server: Server }).server.address() as AddressInfo;
    self = new SmtpReceiver(server, address.port);
    return self;
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}
