import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { InfluxDB } from '@influxdata/influxdb-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LineWriter } from '../libs/store-influx/line-writer.js';
import { writeFailure } from '../libs/store-influx/write-errors.js';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string; sockets: Set<Socket> }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

describe('LineWriter faults', () => {
  let server: Server | null = null;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('keeps the path of INFLUX_URL (InfluxDB behind a reverse proxy under /influxdb), as the client transport did', async () => {
    const paths: string[] = [];
    const s = await listen((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(req.url?.startsWith('/influxdb/') ? 204 : 404).end());
    });
    server = s.server;
    const url = `${s.base}/influxdb`;
    // the client's transport (still used for /query): prefix kept
    await new InfluxDB({ url }).transport.request('/query?q=SHOW%20DATABASES', '', { method: 'POST' }).catch(() => undefined);
    const writer = new LineWriter(url, null);
    const err = await writer.post('/write?db=x&precision=ms', [Buffer.from('m v=1.0 1\n')]).catch((e: unknown) => e);
    writer.close();
    console.log('paths seen by the proxy:', paths, '->', err === undefined ? 'ok' : writeFailure(err).message);
    expect(paths[1]).toBe('/influxdb/write?db=x&precision=ms');
  });

  it('a keep-alive socket closed by the server between requests: the next post fails as retryable (lines kept), or succeeds', async () => {
    const s = await listen((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    server = s.server;
    const writer = new LineWriter(s.base, null);
    await writer.post('/write', [Buffer.from('m v=1.0 1\n')]);
    for (const sock of s.sockets) sock.destroy(); // server drops the idle keep-alive connection
    const results: string[] = [];
    for (let i = 0; i < 3; i++) results.push(await writer.post('/write', [Buffer.from('m v=1.0 1\n')]).then(() => 'ok', (e: unknown) => writeFailure(e).constructor.name + ': ' + writeFailure(e).message));
    writer.close();
    console.log('after the server closed the idle socket:', results);
    expect(results.every((r) => r === 'ok' || r.startsWith('Error: InfluxDB unreachable'))).toBe(true);
  });

  it('headers then silence: the timeout rejects (lines kept)', async () => {
    const s = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(204, { 'content-length': '10' });
        res.write('abc'); // never finishes
      });
    });
    server = s.server;
    const writer = new LineWriter(s.base, null, 300);
    const t = Date.now();
    const outcome = await Promise.race([
      writer.post('/write', [Buffer.from('m v=1.0 1\n')]).then(() => 'resolved', (e: unknown) => 'rejected: ' + writeFailure(e).message),
      new Promise((r) => setTimeout(() => r('still pending after 3 s'), 3000)),
    ]);
    writer.close();
    console.log('headers then silence ->', outcome, Date.now() - t, 'ms');
    expect(String(outcome)).toMatch(/^rejected/);
  });

  it('headers then the connection dropped: rejects (lines kept)', async () => {
    const s = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': '10' });
        res.write('abc', () => res.socket?.destroy());
      });
    });
    server = s.server;
    const writer = new LineWriter(s.base, null, 60_000);
    const outcome = await Promise.race([
      writer.post('/write', [Buffer.from('m v=1.0 1\n')]).then(() => 'resolved', (e: unknown) => 'rejected: ' + writeFailure(e).message),
      new Promise((r) => setTimeout(() => r('still pending after 3 s'), 3000)),
    ]);
    writer.close();
    console.log('headers then reset ->', outcome);
    expect(String(outcome)).toMatch(/^rejected/);
  });

  it('no answer at all: the timeout rejects', async () => {
    const s = await listen((req) => req.resume());
    server = s.server;
    const writer = new LineWriter(s.base, null, 300);
    const outcome = await writer.post('/write', [Buffer.from('m v=1.0 1\n')]).then(() => 'resolved', (e: unknown) => 'rejected: ' + writeFailure(e).message);
    writer.close();
    console.log('no answer ->', outcome);
    expect(outcome).toMatch(/^rejected/);
  });
});
