import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import type { Transport } from '@influxdata/influxdb-client';
import type { ReadingBatch, SeriesStore, StoreHealth } from '#libs/contracts/index.js';
import { BatchWriter, PermanentWriteError } from '#libs/batching/index.js';
import { toLine } from './line-protocol.js';

export interface InfluxStoreOptions {
  readonly url: string;
  readonly db: string;
  readonly token: string | null;
  readonly maxBatch?: number;
  readonly flushMs?: number;
  readonly maxInFlight?: number;
  readonly maxBuffered?: number;
  readonly log?: (level: 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  readonly onWritten?: (lines: number) => void;
}

/**
 * Writes readings to the InfluxDB v1 `/write` endpoint (served by 1.x, by 2.x through DBRP mapping, and by 3.x)
 * through the client's HTTP transport, with our own batching and a bound on requests in flight.
 */
export class InfluxSeriesStore implements SeriesStore {
  private readonly transport: Transport;
  private readonly writer: BatchWriter<string>;
  private readonly writePath: string;

  constructor(private readonly opts: InfluxStoreOptions) {
    this.transport = new InfluxDB({ url: opts.url, token: opts.token ?? undefined, timeout: 30_000 }).transport;
    this.writePath = `/write?db=${encodeURIComponent(opts.db)}&precision=ms`;
    this.writer = new BatchWriter<string>({
      maxBatch: opts.maxBatch ?? 5000,
      flushMs: opts.flushMs ?? 100,
      maxInFlight: opts.maxInFlight ?? 4,
      maxBuffered: opts.maxBuffered ?? 20_000,
      send: (lines) => this.post(lines),
      onRetry: (err, attempt, items) => opts.log?.('warn', 'influx write failed, retrying', { err: String(err), attempt, items }),
      onDropped: (err, items) => opts.log?.('error', 'influx rejected a batch', { err: String(err), items }),
      onWritten: opts.onWritten,
    });
  }

  /** Creates the database on InfluxDB 1.x; 2.x/3.x answer with an error here, which is fine (DBRP or auto-create). */
  async ensureDatabase(): Promise<void> {
    try {
      await this.transport.request(`/query?q=${encodeURIComponent(`CREATE DATABASE "${this.opts.db}"`)}`, '', { method: 'POST' });
    } catch (err) {
      this.opts.log?.('warn', 'could not create the InfluxDB database; assuming it exists', { err: String(err) });
    }
  }

  write(batch: ReadingBatch, onAccepted: () => void): void {
    const lines = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) lines[i] = toLine(batch[i]!);
    this.writer.add(lines, onAccepted);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    await this.flush();
  }

  health(): StoreHealth {
    const error = this.writer.error;
    return {
      kind: 'influxdb',
      ok: error === null,
      detail: error ?? `${this.writer.bufferedItems} lines buffered`,
    };
  }

  private async post(lines: string[]): Promise<void> {
    try {
      await this.transport.request(this.writePath, lines.join('\n'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    } catch (err) {
      if (err instanceof HttpError && err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 429 && err.statusCode !== 408) {
        throw new PermanentWriteError(`HTTP ${err.statusCode}: ${err.body ?? err.message}`);
      }
      throw err;
    }
  }
}
