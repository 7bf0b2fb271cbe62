import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineSpool } from './line-spool.js';

const entry = (n: number) => ({ text: Array.from({ length: n }, (_, i) => `m v=${i} ${i}`).join('\n'), lines: n });

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
    expect(first[1]?.text).toBe(entry(10).text);
    expect(spool.readAfter(2, 25).map((e) => e.id)).toEqual([3]);
    expect(spool.readAfter(3, 25).map((e) => e.id)).toEqual([4]); // larger than the limit, alone

    spool.remove(first);
    expect(spool.stats()).toMatchObject({ entries: 2, lines: 60 });
    spool.remove(spool.readAfter(0, 1000));
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
    expect(after.readAfter(0, 100).map((e) => e.text)).toEqual([entry(3).text, entry(4).text]);
    after.append([entry(1)], 3000);
    expect(after.readAfter(0, 100).map((e) => e.lines)).toEqual([3, 4, 1]);
    after.close();
  });
});
