import type { LineSpool, SpoolEntry } from './line-spool.js';
import { RefusedLinesError, TooLargeError } from './write-errors.js';

/** Whether the sink takes writes; while it does not, every line stays in the spool and is retried. */
export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly since: number };

export interface SpoolDrainerOptions {
  readonly spool: LineSpool;
  /**
   * Sends line protocol. Rejects with RefusedLinesError when the server refuses lines for their content (they are
   * isolated and dropped), with TooLargeError when the body is over its limit (split, never dropped); any other
   * rejection keeps every line and is retried, and its message is the reason given by `availability`.
   */
  readonly send: (body: readonly Buffer[]) => Promise<void>;
  /** Lines per request. */
  readonly maxBatchLines: number;
  /**
   * How long lines may wait for more to fill a request (default 0: send at once). influxd 1.x fsyncs its WAL once
   * per request, so many small requests cost it far more than a few large ones of the same lines.
   */
  readonly lingerMs?: number;
  readonly maxInFlight: number;
  /** Above this many bytes spooled, acceptance of new batches waits (backpressure to the broker). */
  readonly maxSpoolBytes: number;
  /** Spooled lines also kept in memory so a healthy sink never reads its own spool back. */
  readonly cacheLines: number;
  readonly maxBackoffMs?: number;
  readonly onWritten?: (lines: number) => void;
  readonly onRetry?: (err: unknown, attempt: number, lines: number) => void;
  readonly onRejectedLine?: (line: string, reason: string) => void;
  readonly now?: () => number;
}

interface Pending {
  readonly bytes: Buffer;
  readonly lines: number;
  readonly onDurable: () => void;
}

/**
 * Between the pipeline and InfluxDB: every batch is first appended to the disk spool (and only then
 * acknowledged), then sent in spool order with a bound on requests in flight, and removed once InfluxDB has it.
 * While InfluxDB is down the spool grows (up to `maxSpoolBytes`) and is drained in order when it returns.
 */
export class SpoolDrainer {
  private pending: Pending[] = [];
  private commitScheduled = false;
  private cache: SpoolEntry[] = [];
  private cacheLines = 0;
  /** Entries committed but not in the cache exist: read the spool from disk until caught up. */
  private fromDisk: boolean;
  private cursor = 0;
  private inFlight = 0;
  private outage: { reason: string; since: number } | null = null;
  private refused = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  /** When the oldest line in the cache came, while it waits for a fuller request. */
  private cacheSince: number | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** Set by flush(): send what there is without waiting to fill a request. */
  private draining = false;

  constructor(private readonly opts: SpoolDrainerOptions) {
    this.fromDisk = opts.spool.stats().entries > 0;
    if (this.fromDisk) queueMicrotask(() => this.pump());
  }

  /** `bytes`: lines of line protocol in UTF-8, each ending in "\n"; `onDurable` runs once they are in the spool on disk. */
  enqueue(bytes: Buffer, lines: number, onDurable: () => void): void {
    this.pending.push({ bytes, lines, onDurable });
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => {
        this.commitScheduled = false;
        this.commit();
      });
    }
  }

  /** Commits what is pending and resolves once the spool is empty and nothing is in flight. */
  flush(): Promise<void> {
    this.draining = true;
    this.commit();
    this.pump();
    if (this.isIdle()) {
      this.draining = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Commits what is pending (so it is acknowledged and kept for the next start) and stops sending. */
  close(): void {
    this.commit();
    this.closed = true;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
  }

  /** Not ok from the first failed attempt of an outage until a request succeeds; `since` is that first failure. */
  get availability(): Availability {
    return this.outage === null ? { ok: true } : { ok: false, ...this.outage };
  }

  /** Lines the server refused for their content and that were dropped, since the start. */
  get refusedLines(): number {
    return this.refused;
  }

  get waitingForSpace(): boolean {
    return this.pending.length > 0 && this.opts.spool.bytes >= this.opts.maxSpoolBytes;
  }

  private commit(): void {
    if (this.pending.length === 0 || this.closed) return;
    if (this.opts.spool.bytes >= this.opts.maxSpoolBytes) return; // retried after each drained request
    const batch = this.pending;
    this.pending = [];
    const stored = this.opts.spool.append(this.group(batch), this.opts.now?.() ?? Date.now());
    for (const p of batch) p.onDurable();
    for (const e of stored) {
      if (!this.fromDisk && this.cacheLines + e.lines <= this.opts.cacheLines) {
        if (this.cache.length === 0) this.cacheSince = this.opts.now?.() ?? Date.now();
        this.cache.push(e);
        this.cacheLines += e.lines;
      } else {
        this.fromDisk = true;
      }
    }
    this.pump();
  }

  /** Joins the batches of one turn into entries of about one request each: fewer rows to insert and delete. */
  private group(batch: readonly Pending[]): { bytes: Buffer; lines: number }[] {
    const entries: { bytes: Buffer; lines: number }[] = [];
    let parts: Buffer[] = [];
    let lines = 0;
    for (const p of batch) {
      if (parts.length > 0 && lines + p.lines > this.opts.maxBatchLines) {
        entries.push({ bytes: Buffer.concat(parts), lines });
        parts = [];
        lines = 0;
      }
      parts.push(p.bytes);
      lines += p.lines;
    }
    if (parts.length > 0) entries.push({ bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts), lines });
    return entries;
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.opts.maxInFlight) {
      if (this.lingering()) break;
      const chunk = this.nextChunk();
      if (chunk.length === 0) break;
      this.cursor = chunk[chunk.length - 1]!.id;
      this.inFlight++;
      void this.deliver(chunk);
    }
    this.notifyIdle();
  }

  /**
   * Whether the cache should wait for more lines: it holds less than a request, nothing is backlogged on disk, no
   * flush asks for everything, and its oldest line has waited less than `lingerMs` (a timer comes back then).
   */
  private lingering(): boolean {
    const linger = this.opts.lingerMs ?? 0;
    if (linger <= 0 || this.fromDisk || this.draining || this.cache.length === 0 || this.cacheLines >= this.opts.maxBatchLines) return false;
    const waited = (this.opts.now?.() ?? Date.now()) - (this.cacheSince ?? 0);
    if (waited >= linger) return false;
    if (this.lingerTimer === null) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        this.pump();
      }, linger - waited);
      this.lingerTimer.unref();
    }
    return true;
  }

  private nextChunk(): SpoolEntry[] {
    if (this.fromDisk) {
      const chunk = this.opts.spool.readAfter(this.cursor, this.opts.maxBatchLines);
      if (chunk.length > 0) return chunk;
      // Caught up with the disk: everything committed from now on can be served from memory.
      this.fromDisk = false;
      this.cache = [];
      this.cacheLines = 0;
      this.cacheSince = null;
      return [];
    }
    const chunk: SpoolEntry[] = [];
    let lines = 0;
    while (this.cache.length > 0 && (chunk.length === 0 || lines + this.cache[0]!.lines <= this.opts.maxBatchLines)) {
      const e = this.cache.shift()!;
      chunk.push(e);
      lines += e.lines;
      this.cacheLines -= e.lines;
    }
    // What stays waits from now: it is at most one request's worth younger than what just left.
    this.cacheSince = this.cache.length === 0 ? null : (this.opts.now?.() ?? Date.now());
    return chunk;
  }

  /** Sends a chunk until InfluxDB has taken it (retrying transient failures), then drops it from the spool. */
  private async deliver(chunk: SpoolEntry[]): Promise<void> {
    const lines = chunk.reduce((n, e) => n + e.lines, 0);
    await this.sendUntilTaken(chunk.map((e) => e.bytes), lines);
    if (!this.closed) this.opts.spool.remove(chunk);
    this.inFlight--;
    this.commit();
    this.pump();
  }

  /**
   * Sends a body until the server has taken it. Refused lines are isolated and dropped; a body too large is split;
   * anything else (credentials, unknown database, server errors, network) keeps the lines and is retried.
   */
  private async sendUntilTaken(body: readonly Buffer[], lines: number): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      let failure: Error;
      try {
        await this.opts.send(body);
        this.outage = null;
        this.opts.onWritten?.(lines);
        return;
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      const refused = failure instanceof RefusedLinesError;
      if ((refused || failure instanceof TooLargeError) && lines > 1) return this.split(linesOf(body));
      if (refused) {
        this.outage = null;
        this.refused++;
        this.opts.onRejectedLine?.(linesOf(body).join('\n'), failure.message);
        return;
      }
      const reason = failure instanceof TooLargeError ? `InfluxDB refuses a single line of ${body.reduce((n, b) => n + b.length, 0) - 1} bytes as too large (${failure.message})` : failure.message;
      this.outage = { reason, since: this.outage?.since ?? this.opts.now?.() ?? Date.now() };
      this.opts.onRetry?.(failure, attempt + 1, lines);
      await delay(Math.min(this.opts.maxBackoffMs ?? 5000, 100 * 2 ** attempt));
    }
  }

  /** Halves a refused body and sends each half in order, so refused lines end up alone. */
  private async split(lines: string[]): Promise<void> {
    const mid = lines.length >> 1;
    for (const half of [lines.slice(0, mid), lines.slice(mid)]) if (half.length > 0) await this.sendUntilTaken([Buffer.from(`${half.join('\n')}\n`)], half.length);
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.inFlight === 0 && this.opts.spool.stats().entries === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    this.draining = false;
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The lines of a body (chunks of lines, each ending in a newline). */
function linesOf(body: readonly Buffer[]): string[] {
  return Buffer.concat(body).toString('utf8').split('\n').filter((l) => l.length > 0);
}
