import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writevSync } from 'node:fs';
import { join } from 'node:path';

export interface SpoolEntry {
  readonly id: number;
  /** Line protocol in UTF-8, one line per reading, each ending in "\n". */
  readonly bytes: Buffer;
  readonly lines: number;
}

const NEWLINE = Buffer.from('\n');

export interface SpoolStats {
  readonly entries: number;
  readonly lines: number;
  readonly bytes: number;
  /** Epoch ms when the oldest entry still waiting was spooled; null when empty. */
  readonly oldestAt: number | null;
}

interface Indexed {
  readonly id: number;
  readonly segment: Segment;
  /** Offset of the text (after the header) in the segment file. */
  readonly offset: number;
  readonly bytes: number;
  readonly lines: number;
  readonly at: number;
  /** Taken by InfluxDB; it leaves the index once every entry before it has too. */
  removed: boolean;
}

interface Segment {
  readonly file: string;
  readonly fd: number;
  size: number;
  /** Entries of this segment not yet removed. */
  live: number;
}

const HEADER = 16; // u32 text bytes, u32 lines, f64 spooled-at (epoch ms)
const SEGMENT_PREFIX = 'spool-';

/**
 * A first-in first-out queue of line-protocol batches kept in append-only segment files in `dir`. An entry is
 * on disk once `append` returns (written to the file; it survives a crash of this process, as the OS holds it);
 * it leaves only through `remove`, after InfluxDB has taken it, and a segment file is deleted once all its
 * entries have left. After a restart every entry of the remaining segments is delivered again, so an entry
 * may reach InfluxDB twice, which overwrites the point with itself.
 */
export class LineSpool {
  private readonly segments: Segment[] = [];
  /** Entries by id; those before `head` have left. Removal marks an entry, so it costs what it removes, not the backlog. */
  private index: Indexed[] = [];
  private head = 0;
  private nextId = 1;
  private counts = { entries: 0, lines: 0, bytes: 0 };
  private readonly header = Buffer.alloc(HEADER);

  constructor(
    private readonly dir: string,
    private readonly segmentBytes = 16 * 2 ** 20,
  ) {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir).filter((n) => n.startsWith(SEGMENT_PREFIX)).sort();
    for (const name of names) this.recover(join(dir, name));
  }

  /** Appends the entries (one write each) and returns them with their ids. */
  append(entries: readonly { bytes: Buffer; lines: number }[], now: number = Date.now()): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    for (const e of entries) {
      const body = e.bytes;
      const segment = this.writable(HEADER + body.length);
      this.header.writeUInt32LE(body.length, 0);
      this.header.writeUInt32LE(e.lines, 4);
      this.header.writeDoubleLE(now, 8);
      // At the segment's end by position: a segment recovered at start is open for reading and writing at offset 0.
      writevSync(segment.fd, [this.header, body], segment.size);
      const entry: Indexed = { id: this.nextId++, segment, offset: segment.size + HEADER, bytes: body.length, lines: e.lines, at: now, removed: false };
      segment.size += HEADER + body.length;
      segment.live++;
      this.index.push(entry);
      this.count(entry, 1);
      out.push({ id: entry.id, bytes: body, lines: e.lines });
    }
    return out;
  }

  /** Entries after `afterId`, oldest first, up to about `maxLines` lines (always at least one when any is left). */
  readAfter(afterId: number, maxLines: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let lines = 0;
    for (let i = this.firstAfter(afterId); i < this.index.length; i++) {
      const e = this.index[i]!;
      if (e.removed) continue;
      if (out.length > 0 && lines + e.lines > maxLines) break;
      const body = Buffer.alloc(e.bytes);
      readSync(e.segment.fd, body, 0, e.bytes, e.offset);
      // Entries spooled by versions before 2026-11-30 have no newline after their last line.
      out.push({ id: e.id, bytes: body[body.length - 1] === 0x0a ? body : Buffer.concat([body, NEWLINE]), lines: e.lines });
      lines += e.lines;
    }
    return out;
  }

  remove(entries: readonly SpoolEntry[]): void {
    for (const { id } of entries) {
      const e = this.index[this.firstAfter(id - 1)];
      if (e === undefined || e.id !== id || e.removed) continue;
      e.removed = true;
      this.count(e, -1);
      e.segment.live--;
    }
    while (this.head < this.index.length && this.index[this.head]!.removed) this.head++;
    if (this.head === this.index.length) {
      this.index = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.index.length) {
      this.index = this.index.slice(this.head);
      this.head = 0;
    }
    // Delete drained segments, but keep the newest: it is the one being appended to.
    for (let i = this.segments.length - 2; i >= 0; i--) {
      const s = this.segments[i]!;
      if (s.live === 0) this.drop(i);
    }
    if (this.index.length === 0 && this.segments.length === 1 && this.segments[0]!.size > 0) this.drop(0);
  }

  stats(): SpoolStats {
    return { ...this.counts, oldestAt: this.index[this.head]?.at ?? null };
  }

  /** Bytes held, without the cost of the full stats. */
  get bytes(): number {
    return this.counts.bytes;
  }

  close(): void {
    for (const s of this.segments) closeSync(s.fd);
    this.segments.length = 0;
  }

  private writable(bytes: number): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last && (last.size === 0 || last.size + bytes <= this.segmentBytes)) return last;
    const name = `${SEGMENT_PREFIX}${String(Date.now()).padStart(15, '0')}-${String(this.nextId).padStart(12, '0')}.log`;
    const file = join(this.dir, name);
    const segment: Segment = { file, fd: openSync(file, 'a+'), size: 0, live: 0 };
    this.segments.push(segment);
    return segment;
  }

  /** Indexes a segment left by an earlier run; a torn entry at its end (a crash mid-write) is cut off. */
  private recover(file: string): void {
    const fd = openSync(file, 'r+');
    const size = statSync(file).size;
    const segment: Segment = { file, fd, size: 0, live: 0 };
    let pos = 0;
    while (pos + HEADER <= size) {
      readSync(fd, this.header, 0, HEADER, pos);
      const bytes = this.header.readUInt32LE(0);
      if (pos + HEADER + bytes > size) break;
      const entry: Indexed = { id: this.nextId++, segment, offset: pos + HEADER, bytes, lines: this.header.readUInt32LE(4), at: this.header.readDoubleLE(8), removed: false };
      this.index.push(entry);
      this.count(entry, 1);
      segment.live++;
      pos += HEADER + bytes;
    }
    if (pos < size) ftruncateSync(fd, pos);
    segment.size = pos;
    if (segment.live === 0) {
      closeSync(fd);
      unlinkSync(file);
      return;
    }
    this.segments.push(segment);
  }

  private drop(i: number): void {
    const [s] = this.segments.splice(i, 1);
    if (!s) return;
    closeSync(s.fd);
    unlinkSync(s.file);
  }

  /** Position of the first entry with an id above `afterId`. */
  private firstAfter(afterId: number): number {
    let lo = this.head;
    let hi = this.index.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.index[mid]!.id <= afterId) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private count(e: Indexed, sign: 1 | -1): void {
    this.counts.entries += sign;
    this.counts.lines += sign * e.lines;
    this.counts.bytes += sign * (HEADER + e.bytes);
  }
}
