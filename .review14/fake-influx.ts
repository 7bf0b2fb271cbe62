import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Stands in for influxd 1.x: /query answers {"results":[{}]}, /write answers `writeStatus` (mutable) and records bodies. */
export async function fakeInflux(): Promise<{ url: string; server: Server; writes: { url: string; body: string }[]; state: { writeStatus: number } }> {
  const writes: { url: string; body: string }[] = [];
  const state = { writeStatus: 204 };
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if ((req.url ?? '').startsWith('/query')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}');
        return;
      }
      if (state.writeStatus < 300) writes.push({ url: req.url ?? '', body: Buffer.concat(parts).toString('utf8') });
      res.writeHead(state.writeStatus, { 'content-type': 'application/json' }).end(state.writeStatus < 300 ? '' : '{"error":"timeout"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, writes, state };
}

export async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
  }
}
