import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { LineSpool } from '../libs/store-influx/line-spool.js';
import { SpoolDrainer } from '../libs/store-influx/spool-drainer.js';
import { writeFailure } from '../libs/store-influx/write-errors.js';
import { until } from './fake-influx.js';

const answer = (status: number, error: string): HttpError => new HttpError(status, 'x', JSON.stringify({ error }), null, 'application/json');

/** influxd-like: refuses a body containing a line with BAD (400) and bodies over maxBody (413); a string field may hold a newline. */
class FakeWrite {
  received: string[] = [];
  attempts = 0;
  maxBody = Infinity;
  send = (chunks: readonly Buffer[]): Promise<void> => {
    this.attempts++;
    const body = Buffer.concat(chunks).toString('utf8');
    // split as influxd does: a newline inside a quoted field value does not end the line
    const lines: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c === '\\') { cur += c + (body[i + 1] ?? ''); i++; continue; }
      if (c === '"') quoted = !quoted;
      if (c === '\n' && !quoted) { if (cur) lines.push(cur); cur = ''; continue; }
      cur += c;
    }
    if (cur) lines.push(cur);
    if (Buffer.byteLength(body) > this.maxBody) return Promise.reject(writeFailure(answer(413, 'Request Entity Too Large')));
    const bad = lines.find((l) => l.includes('BAD') || (l.split('"').length - 1) % 2 === 1 || !/ \d+$/.test(l));
    if (bad) return Promise.reject(writeFailure(answer(400, `partial write: unable to parse '${bad}': bad dropped=0`)));
    this.received.push(...lines);
    return Promise.resolve();
  };
}

function rig(dir: string, server: FakeWrite) {
  const spool = new LineSpool(dir);
  const refused: string[] = [];
  const drainer = new SpoolDrainer({ spool, send: server.send, maxBatchLines: 100, maxInFlight: 1, maxSpoolBytes: 2 ** 20, cacheLines: 10_000, maxBackoffMs: 20, onRejectedLine: (l) => refused.push(l) });
  return { spool, drainer, refused };
}

/** A segment as a version before 2026-11-30 wrote it: entries with no newline after their last line. */
function oldSegment(dir: string, entries: string[][]): void {
  const parts: Buffer[] = [];
  for (const lines of entries) {
    const body = Buffer.from(lines.join('\n'));
    const h = Buffer.alloc(16);
    h.writeUInt32LE(body.length, 0);
    h.writeUInt32LE(lines.length, 4);
    h.writeDoubleLE(Date.now(), 8);
    parts.push(h, body);
  }
  writeFileSync(join(dir, 'spool-000000000000001-000000000001.log'), Buffer.concat(parts));
}

describe('spool', () => {
  it('old-format entries followed by new ones, read in one chunk, and a refused line among them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'r14s-'));
    oldSegment(dir, [['m v=1.0 1', 'm v=2.0 2'], ['m v=3.0 3'], ['m v=BAD 4', 'm v=5.0 5']]);
    const server = new FakeWrite();
    const { drainer, spool, refused } = rig(dir, server);
    drainer.enqueue(Buffer.from('m v=6.0 6\nm v=7.0 7\n'), 2, () => undefined);
    await drainer.flush();
    console.log('received', server.received, 'refused', refused, 'attempts', server.attempts);
    expect(server.received).toEqual(['m v=1.0 1', 'm v=2.0 2', 'm v=3.0 3', 'm v=5.0 5', 'm v=6.0 6', 'm v=7.0 7']);
    expect(refused).toEqual(['m v=BAD 4']);
    drainer.close();
    spool.close();
  });

  it('a single refused line is dropped at once; a single line too large is held (never dropped, no endless split)', async () => {
    const server = new FakeWrite();
    const { drainer, spool, refused } = rig(mkdtempSync(join(tmpdir(), 'r14s-')), server);
    drainer.enqueue(Buffer.from('m v=BAD 1\n'), 1, () => undefined);
    await drainer.flush();
    expect(refused).toEqual(['m v=BAD 1']);
    expect(server.attempts).toBe(1);
    server.maxBody = 5;
    drainer.enqueue(Buffer.from('m v=1.0 1\nm v=2.0 2\n'), 2, () => undefined);
    await until(() => server.attempts > 8, 'retries');
    console.log('413 on single lines: attempts', server.attempts, 'availability', drainer.availability, 'spool', spool.stats().lines);
    expect(spool.stats().lines).toBe(2);
    drainer.close();
    spool.close();
  });

  it('(pre-existing) an alarm line whose message holds a newline, in a refused chunk, is cut into pieces and lost', async () => {
    const { alarmEventLine } = await import('../libs/store-influx/line-protocol.js');
    const alarm = { id: 'a1', enterpriseCode: 'E1', originatorKind: 'composite', originatorCode: 'R1', condition: 'composite', level: 'HH', severity: 'major', status: 'active', value: null, threshold: null, message: 'Tank farm leak\ncheck pump P-3', updatedAt: '2026-11-30T08:00:00Z' };
    const good = alarmEventLine({ kind: 'raise', alarm } as any);
    const server = new FakeWrite();
    const { drainer, spool, refused } = rig(mkdtempSync(join(tmpdir(), 'r14s-')), server);
    drainer.enqueue(Buffer.from(`${good}\n`), 1, () => undefined);
    await drainer.flush();
    console.log('alone: received', server.received.length, 'line(s)');
    server.received = [];
    drainer.enqueue(Buffer.from(`${good}\nm v=BAD 1\n`), 2, () => undefined);
    await drainer.flush();
    console.log('with a refused line: received', server.received, 'refused', refused);
    drainer.close();
    spool.close();
    expect(server.received).toEqual([good]);
  });
});
