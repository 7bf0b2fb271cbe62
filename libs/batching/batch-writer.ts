/** Thrown by a `send` whose batch can never succeed (e.g. HTTP 4xx): the batch is reported and not retried. */
export class PermanentWriteError extends Error {
  override readonly name = 'PermanentWriteError';
}

export interface BatchWriterOptions<T> {
  /** Items per request. */
  readonly maxBatch: number;
  /** A partial batch is sent at most this long after its first item arrived. */
  readonly flushMs: number;
  readonly maxInFlight: number;
  /** Items held (queued + in flight) above which `add` withholds its acceptance until the queue drains. */
  readonly maxBuffered: number;
  readonly send: (items: T[]) => Promise<void>;
  readonly onRetry?: (err: unknown, attempt: number, items: number) => void;
  readonly onDropped?: (err: unknown, items: number) => void;
  readonly onWritten?: (items: number) => void;
  readonly maxBackoffMs?: number;
}

/**
 * Collects items into batches and sends them with at most `maxInFlight` requests at once. Transient failures are
 * retried with exponential backoff and the batch is kept, so nothing accepted is lost while the process lives;
 * callers learn through `onAccepted` when their items fit the buffer bound, which is how backpressure reaches
 * the MQTT broker.
 */
export class BatchWriter<T> {
  private queue: T[] = [];
  private held = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly waiting: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private lastError: string | null = null;

  constructor(private readonly opts: BatchWriterOptions<T>) {}

  add(items: readonly T[], onAccepted: () => void): void {
    for (let i = 0; i < items.length; i++) this.queue.push(items[i]!);
    this.held += items.length;
    if (this.held <= this.opts.maxBuffered) onAccepted();
    else this.waiting.push(onAccepted);
    this.pump(false);
  }

  /** Sends everything queued now and resolves once nothing is queued or in flight. */
  flush(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.pump(true);
    return idle;
  }

  get bufferedItems(): number {
    return this.held;
  }

  get error(): string | null {
    return this.lastError;
  }

  private pump(force: boolean): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0 && (force || this.queue.length >= this.opts.maxBatch)) {
      this.dispatch(this.take(), 0);
    }
    if (this.queue.length > 0 && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump(true);
      }, this.opts.flushMs);
      this.timer.unref();
    }
  }

  private take(): T[] {
    if (this.queue.length <= this.opts.maxBatch) {
      const all = this.queue;
      this.queue = [];
      return all;
    }
    return this.queue.splice(0, this.opts.maxBatch);
  }

  private dispatch(batch: T[], attempt: number): void {
    this.inFlight++;
    this.opts.send(batch).then(
      () => {
        this.lastError = null;
        this.opts.onWritten?.(batch.length);
        this.settle(batch.length);
      },
      (err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        if (err instanceof PermanentWriteError) {
          this.opts.onDropped?.(err, batch.length);
          this.settle(batch.length);
          return;
        }
        this.opts.onRetry?.(err, attempt + 1, batch.length);
        const delay = Math.min(this.opts.maxBackoffMs ?? 5000, 100 * 2 ** attempt);
        setTimeout(() => {
          this.inFlight--;
          this.dispatch(batch, attempt + 1);
        }, delay).unref();
      },
    );
  }

  private settle(count: number): void {
    this.inFlight--;
    this.held -= count;
    while (this.waiting.length > 0 && this.held <= this.opts.maxBuffered) this.waiting.shift()!();
    // Keep draining while anyone waits on a flush; otherwise full batches go now and partial ones on the timer.
    this.pump(this.idleWaiters.length > 0);
    if (this.held === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
