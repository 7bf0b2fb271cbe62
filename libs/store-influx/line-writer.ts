import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { HttpError } from '@influxdata/influxdb-client';

/**
 * POSTs line protocol to InfluxDB's v1 `/write` as the bytes the spool holds, chunk by chunk: going through the
 * client library's transport meant joining them, decoding them to a string and encoding them again (a megabyte a
 * request, several times a second). Failures are thrown as the library's HttpError (or the network error), so
 * `writeFailure` reads them the same way.
 */
export class LineWriter {
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  /** The URL's own path (InfluxDB behind a proxy at e.g. `/influxdb`), which the requests' paths go under. */
  private readonly basePath: string;

  constructor(
    private readonly url: string,
    private readonly token: string | null,
    private readonly timeoutMs = 30_000,
  ) {
    const parsed = new URL(url);
    const https = parsed.protocol === 'https:';
    this.basePath = parsed.pathname.replace(/\/+$/, '');
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.request = https ? httpsRequest : httpRequest;
  }

  post(path: string, chunks: readonly Buffer[]): Promise<void> {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    return new Promise<void>((resolve, reject) => {
      const req = this.request(new URL(`${this.basePath}${path}`, this.url), {
        method: 'POST',
        agent: this.agent,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': length,
          ...(this.token !== null && { authorization: `Token ${this.token}` }),
        },
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const retryAfter = Number(res.headers['retry-after']);
          reject(new HttpError(status, res.statusMessage ?? '', Buffer.concat(body).toString('utf8'), Number.isFinite(retryAfter) ? String(retryAfter) : null, res.headers['content-type'] ?? null));
        });
      });
      for (const c of chunks) req.write(c);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
