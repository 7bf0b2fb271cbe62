import { appendFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineSpool } from './line-spool.js';

const entry = (n: number) => ({ bytes: Buffer.from(Array.from({ length: n }, (_, i) => `m v=${i} ${i}\n`).join('')), lines: n });

describe('LineSpool (segment files on disk)', () => {
  it('reads entries back in order by batch size, rolls segments and deletes them once drained', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-spool-'));
    const spool = new LineSpool(dir, 300);
    const stored = spool.append([entry(10), entry(10), entry(10), entry(50)], 1000);
    expect(stored.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(dir).length).toBeGreaterThan(1);
    expect(spool.stats()).toMatchObject({ entries: 4, lines: 80, oldestAt: 1000 });

    const first = spool.readAfter(0, 25);
    expect(first.map((e) => e.id)).toEqual([1, 2]);
    expect(first[1]?.bytes).toEqual(entry(10).bytes);
    expect(spool.readAfter(2, 25).map((e) => e.id)).toEqual([3]);
    expect(spool.readAfter(3, 25).map((e) => e.id)).toEqual([4]); // larger than the limit, alone

    spool.remove(first);
    expect(spool.stats()).toMatchObject({ entries: 2, lines: 60 });
    spool.remove(spool.readAfter(0, 1000));
    expect(spool.stats()).toEqual({ entries: 0, lines: 0, bytes: 0, oldestAt: null });
    expect(readdirSync(dir)).toEqual([]);
    spool.close();
  });

  it('takes entries back out of order (requests in flight finish in any order) and through a long backlog', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-spool-'));
    const spool = new LineSpool(dir, 4096);
    const stored = spool.append(Array.from({ length: 3000 }, () => entry(1)), 1000);
    spool.append([entry(2)], 2000);
    // Requests 2 and 3 answered before request 1: the oldest entry still waiting is 1.
    spool.remove(stored.slice(10, 30));
    expect(spool.stats()).toMatchObject({ entries: 2981, oldestAt: 1000 });
    expect(spool.readAfter(0, 12).map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31, 32]);
    spool.remove(stored.slice(0, 10));
    expect(spool.readAfter(0, 1).map((e) => e.id)).toEqual([31]);
    spool.remove(stored.slice(10, 30)); // again: nothing changes
    expect(spool.stats().entries).toBe(2971);
    for (let i = 30; i < 3000; i += 100) spool.remove(stored.slice(i, i + 100));
    expect(spool.stats()).toMatchObject({ entries: 1, lines: 2, oldestAt: 2000 });
    expect(spool.readAfter(0, 100).map((e) => e.id)).toEqual([3001]);
    spool.remove(spool.readAfter(0, 100));
    expect(spool.stats()).toEqual({ entries: 0, lines: 0, bytes: 0, oldestAt: null });
    expect(readdirSync(dir)).toEqual([]);
    spool.close();
  });

  it('finds what an earlier run left, and cuts off an entry torn by a crash mid-write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-spool-'));
    const before = new LineSpool(dir);
    before.append([entry(3), entry(4)], 2000);
    before.close();
    const [segment] = readdirSync(dir);
    appendFileSync(join(dir, segment!), Buffer.from([200, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3])); // a header without its text

    const after = new LineSpool(dir);
    expect(after.stats()).toMatchObject({ entries: 2, lines: 7, oldestAt: 2000 });
    expect(after.readAfter(0, 100).map((e) => e.bytes)).toEqual([entry(3).bytes, entry(4).bytes]);
    after.append([entry(1)], 3000);
    expect(after.readAfter(0, 100).map((e) => e.bytes)).toEqual([entry(3).bytes, entry(4).bytes, entry(1).bytes]);
    after.close();
    // And once more: a restart finds all three, intact, in order.
    const again = new LineSpool(dir);
    expect(again.readAfter(0, 100).map((e) => e.bytes)).toEqual([entry(3).bytes, entry(4).bytes, entry(1).bytes]);
    again.close();
  });

  it('reads an entry spooled by an earlier version, without a newline after its last line, with one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-spool-'));
    const text = Buffer.from('m v=1 1\nm v=2 2');
    const header = Buffer.alloc(16);
    header.writeUInt32LE(text.length, 0);
    header.writeUInt32LE(2, 4);
    header.writeDoubleLE(1000, 8);
    writeFileSync(join(dir, 'spool-000000000001000-000000000001.log'), Buffer.concat([header, text]));
    const spool = new LineSpool(dir);
    expect(spool.readAfter(0, 100).map((e) => e.bytes.toString())).toEqual(['m v=1 1\nm v=2 2\n']);
    spool.close();
  });
});
