import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LineWriter } from './line-writer.js';
import { RefusedLinesError, writeFailure } from './write-errors.js';

/** A local HTTP server standing in for `/write`: records each request and answers with `status` and `body`. */
async function serve(status: number, body = '', contentType = 'application/json'): Promise<{ url: string; server: Server; seen: { url: string; headers: IncomingHttpHeaders; body: string }[] }> {
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      res.writeHead(status, { 'content-type': contentType }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

describe('LineWriter', () => {
  let server: Server | null = null;
  afterEach(() => server?.close());

  it('sends the chunks as one body with its length, the content type and the token', async () => {
    const s = await serve(204);
    server = s.server;
    const writer = new LineWriter(s.url, 'user:secret');
    await writer.post('/write?db=x&precision=ms', [Buffer.from('m,t=储罐 v=1.0 1\n'), Buffer.from('m v=2.0 2\n')]);
    writer.close();
    const body = 'm,t=储罐 v=1.0 1\nm v=2.0 2\n';
    expect(s.seen.map((r) => [r.url, r.body])).toEqual([['/write?db=x&precision=ms', body]]);
    const { authorization, 'content-type': type, 'content-length': length } = s.seen[0]!.headers;
    expect([authorization, type, length]).toEqual(['Token user:secret', 'text/plain; charset=utf-8', String(Buffer.byteLength(body))]);
  });

  it('keeps the path of the URL (InfluxDB behind a proxy)', async () => {
    const s = await serve(204);
    server = s.server;
    const writer = new LineWriter(`${s.url}/influxdb/`, null);
    await writer.post('/write?db=x&precision=ms', [Buffer.from('m v=1.0 1\n')]);
    writer.close();
    expect(s.seen.map((r) => r.url)).toEqual(['/influxdb/write?db=x&precision=ms']);
  });

  it("turns a refusal into the client library's HttpError, so a refused line is told apart from an outage", async () => {
    const s = await serve(400, JSON.stringify({ error: "partial write: unable to parse 'm v=x 1': invalid number dropped=0" }));
    server = s.server;
    const writer = new LineWriter(s.url, null);
    const err = await writer.post('/write?db=x', [Buffer.from('m v=x 1\n')]).catch((e: unknown) => e);
    writer.close();
    expect(s.seen[0]?.headers.authorization).toBeUndefined();
    expect(writeFailure(err)).toBeInstanceOf(RefusedLinesError);
    expect(writeFailure(err).message).toBe("HTTP 400 partial write: unable to parse 'm v=x 1': invalid number dropped=0");
  });

  it('fails with the network error when nothing listens', async () => {
    const writer = new LineWriter('http://127.0.0.1:1', null);
    const err = await writer.post('/write?db=x', [Buffer.from('m v=1 1\n')]).catch((e: unknown) => e);
    writer.close();
    expect(writeFailure(err).message).toMatch(/^InfluxDB unreachable: .*ECONNREFUSED/);
  });
});
