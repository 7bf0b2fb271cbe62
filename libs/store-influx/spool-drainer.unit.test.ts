import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { LineSpool } from './line-spool.js';
import { SpoolDrainer, type Availability } from './spool-drainer.js';
import { RefusedLinesError, TooLargeError, writeFailure } from './write-errors.js';

/** Lines as the drainer takes them: UTF-8, each ending in a newline. */
const bytesOf = (lines: readonly string[]): Buffer => Buffer.from(`${lines.join('\n')}\n`);

const answer = (status: number, statusText: string, error: string): HttpError => new HttpError(status, statusText, JSON.stringify({ error }), null, 'application/json');

/** Stands in for InfluxDB's `/write`: refuses every request with `refuse`, bodies over `maxBody`, and lines with BAD. */
class FakeWrite {
  readonly received: string[] = [];
  attempts = 0;
  refuse: HttpError | null = null;
  maxBody = Infinity;

  readonly send = (chunks: readonly Buffer[]): Promise<void> => {
    this.attempts++;
    const body = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
    const lines = body.split('\n');
    const bad = lines.find((l) => l.includes('BAD'));
    if (this.refuse) return Promise.reject(writeFailure(this.refuse));
    if (Buffer.byteLength(body) > this.maxBody) return Promise.reject(writeFailure(answer(413, 'Request Entity Too Large', 'Request Entity Too Large')));
    if (bad) return Promise.reject(writeFailure(answer(400, 'Bad Request', `partial write: unable to parse '${bad}': invalid number dropped=0`)));
    this.received.push(...lines);
    return Promise.resolve();
  };
}

/** One request at a time, so the order in which lines arrive is the spool's order. */
function drainerFor(server: FakeWrite) {
  const spool = new LineSpool(mkdtempSync(join(tmpdir(), 'sentinel-spool-')));
  const refused: { line: string; reason: string }[] = [];
  const drainer = new SpoolDrainer({
    spool,
    send: server.send,
    maxBatchLines: 100,
    maxInFlight: 1,
    maxSpoolBytes: 2 ** 20,
    cacheLines: 10_000,
    maxBackoffMs: 20,
    onRejectedLine: (line, reason) => refused.push({ line, reason }),
  });
  return {
    spool,
    drainer,
    refused,
    stop: () => {
      drainer.close();
      spool.close();
    },
  };
}

const reasonOf = (a: Availability): string => (a.ok ? 'ok' : a.reason);
const lineOf = (i: number): string => `reading,point=P${i % 7} value=${i}.5 ${1_700_000_000_000 + i}`;

async function until(done: () => boolean, what: string, ms = 3000): Promise<void> {
  for (const deadline = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

describe('SpoolDrainer', () => {
  it('keeps every line in the spool while the server refuses the credentials (401, then 403), retries, and delivers all in order once it takes writes', async () => {
    const server = new FakeWrite();
    server.refuse = answer(401, 'Unauthorized', 'authorization failed');
    const { spool, drainer, refused, stop } = drainerFor(server);
    const lines = Array.from({ length: 250 }, (_, i) => lineOf(i));
    let acked = 0;
    for (let b = 0; b < 5; b++) drainer.enqueue(bytesOf(lines.slice(b * 50, b * 50 + 50)), 50, () => acked++);

    // Ten attempts within the deadline: the backoff is capped (at 20 ms here), not doubling without end.
    await until(() => server.attempts >= 10, 'ten attempts');
    expect(acked).toBe(5);
    expect(spool.stats().lines).toBe(250);
    const first = drainer.availability;
    expect(reasonOf(first)).toBe('InfluxDB refuses writes: HTTP 401 authorization failed');
    expect(!first.ok && first.since).toBeGreaterThan(0);

    server.refuse = answer(403, 'Forbidden', '"sentinel" user is not authorized to write to database "sentinel"');
    await until(() => reasonOf(drainer.availability).includes('403'), 'the 403 as the reason');
    // Still the same outage: only the reason changed.
    expect(drainer.availability).toEqual({ ...first, reason: 'InfluxDB refuses writes: HTTP 403 "sentinel" user is not authorized to write to database "sentinel"' });
    expect(spool.stats().lines).toBe(250);
    expect(server.received).toEqual([]);
    expect(refused).toEqual([]);
    expect(drainer.refusedLines).toBe(0);

    server.refuse = null;
    await drainer.flush();
    expect(server.received).toEqual(lines);
    expect(drainer.availability).toEqual({ ok: true });
    expect(spool.stats()).toMatchObject({ entries: 0, lines: 0 });
    stop();
  });

  it('splits a batch the server refuses for one line (HTTP 400), drops only that line and writes the others in order', async () => {
    const server = new FakeWrite();
    const { spool, drainer, refused, stop } = drainerFor(server);
    const lines = Array.from({ length: 100 }, (_, i) => (i === 37 ? 'reading,point=BAD value=1e999 1700000000037' : lineOf(i)));
    drainer.enqueue(bytesOf(lines), lines.length, () => undefined);
    await drainer.flush();
    expect(server.received).toEqual(lines.filter((_, i) => i !== 37));
    expect(refused.map((r) => r.line)).toEqual([lines[37]]);
    expect(refused[0]?.reason).toMatch(/^HTTP 400 partial write: unable to parse 'reading,point=BAD/);
    expect(drainer.refusedLines).toBe(1);
    expect(drainer.availability).toEqual({ ok: true });
    expect(spool.stats().lines).toBe(0);
    stop();
  });

  it('splits a body over the size limit (HTTP 413) without dropping a line, and keeps a line too large on its own until the limit is raised', async () => {
    const server = new FakeWrite();
    server.maxBody = 300;
    const { spool, drainer, refused, stop } = drainerFor(server);
    const lines = Array.from({ length: 60 }, (_, i) => lineOf(i));
    drainer.enqueue(bytesOf(lines), lines.length, () => undefined);
    await drainer.flush();
    expect(server.received).toEqual(lines);
    expect(drainer.availability).toEqual({ ok: true });

    const huge = `reading,point=HUGE note="${'x'.repeat(400)}" 1700000000999`;
    drainer.enqueue(bytesOf([huge]), 1, () => undefined);
    await until(() => !drainer.availability.ok, 'the store unavailable');
    expect(reasonOf(drainer.availability)).toMatch(/^InfluxDB refuses a single line of 4\d\d bytes as too large \(HTTP 413/);
    expect(spool.stats().lines).toBe(1);
    expect(refused).toEqual([]);

    server.maxBody = Infinity;
    await drainer.flush();
    expect(server.received.at(-1)).toBe(huge);
    expect(drainer.availability).toEqual({ ok: true });
    stop();
  });
});

describe('SpoolDrainer sends by size and time', () => {
  function lingering(server: FakeWrite, now: () => number) {
    const spool = new LineSpool(mkdtempSync(join(tmpdir(), 'sentinel-spool-')));
    const drainer = new SpoolDrainer({ spool, send: server.send, maxBatchLines: 100, maxInFlight: 4, maxSpoolBytes: 2 ** 20, cacheLines: 10_000, lingerMs: 50, now });
    return { drainer, stop: () => (drainer.close(), spool.close()) };
  }
  const requests = (server: FakeWrite): number => server.attempts;

  it('holds single lines until a request fills or the oldest has waited lingerMs, and acknowledges each at once', async () => {
    const server = new FakeWrite();
    const { drainer, stop } = lingering(server, Date.now);
    let acked = 0;
    for (let i = 0; i < 30; i++) drainer.enqueue(bytesOf([lineOf(i)]), 1, () => acked++);
    await new Promise((r) => setImmediate(r));
    expect(acked).toBe(30);
    expect(requests(server)).toBe(0);
    await until(() => server.received.length === 30, 'the lingering lines sent');
    expect(requests(server)).toBe(1);
    // A full request does not wait.
    for (let i = 0; i < 100; i++) drainer.enqueue(bytesOf([lineOf(i)]), 1, () => acked++);
    await until(() => server.received.length === 130, 'a full request sent');
    expect(requests(server)).toBe(2);
    stop();
  });

  it('sends what waits at once on flush', async () => {
    const server = new FakeWrite();
    const { drainer, stop } = lingering(server, () => 0);
    drainer.enqueue(bytesOf([lineOf(1)]), 1, () => undefined);
    await drainer.flush();
    expect(server.received).toEqual([lineOf(1)]);
    stop();
  });
});

describe('writeFailure', () => {
  const kindOf = (e: Error): string => (e instanceof RefusedLinesError ? 'drop refused lines' : e instanceof TooLargeError ? 'split, keep' : 'keep, retry');
  it.each([
    ['1.x partial write', answer(400, 'Bad Request', "partial write: unable to parse 'm v= 2': missing field value dropped=0"), 'drop refused lines', "HTTP 400 partial write: unable to parse 'm v= 2': missing field value dropped=0"],
    ['1.x unparsable line quoting "not found"', answer(400, 'Bad Request', "unable to parse 'm,p=database\\ not\\ found v=x 1': invalid boolean"), 'drop refused lines', "HTTP 400 unable to parse 'm,p=database\\ not\\ found v=x 1': invalid boolean"],
    [
      '2.x 422',
      new HttpError(422, 'Unprocessable Entity', '{"code":"unprocessable entity","message":"partial write: points beyond retention policy dropped=1"}', null, 'application/json'),
      'drop refused lines',
      'HTTP 422 partial write: points beyond retention policy dropped=1',
    ],
    ['413', answer(413, 'Request Entity Too Large', 'Request Entity Too Large'), 'split, keep', 'HTTP 413 Request Entity Too Large'],
    ['400 without a database', answer(400, 'Bad Request', 'database is required'), 'keep, retry', 'InfluxDB refuses writes: HTTP 400 database is required'],
    ['2.x 401', new HttpError(401, 'Unauthorized', '{"code":"unauthorized","message":"unauthorized access"}', null, 'application/json'), 'keep, retry', 'InfluxDB refuses writes: HTTP 401 unauthorized access'],
    ['404', answer(404, 'Not Found', 'database not found: "sentinel"'), 'keep, retry', 'InfluxDB refuses writes: HTTP 404 database not found: "sentinel"'],
    ['429', new HttpError(429, 'Too Many Requests', '', null, 'text/plain'), 'keep, retry', 'InfluxDB refuses writes: HTTP 429 Too Many Requests'],
    ['500', answer(500, 'Internal Server Error', 'retention policy not found: raw'), 'keep, retry', 'InfluxDB fails writes: HTTP 500 retention policy not found: raw'],
    ['a network error', new Error('connect ECONNREFUSED 127.0.0.1:8086'), 'keep, retry', 'InfluxDB unreachable: connect ECONNREFUSED 127.0.0.1:8086'],
  ])('%s', (_name, err, kind, message) => {
    const failure = writeFailure(err);
    expect(kindOf(failure)).toBe(kind);
    expect(failure.message).toBe(message);
  });
});
