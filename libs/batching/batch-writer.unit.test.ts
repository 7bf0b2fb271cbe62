import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchWriter, PermanentWriteError } from './batch-writer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

interface Call {
  items: number[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

function writer(opts: Partial<{ maxBatch: number; maxInFlight: number; maxBuffered: number }> = {}) {
  const calls: Call[] = [];
  const w = new BatchWriter<number>({
    maxBatch: opts.maxBatch ?? 3,
    flushMs: 100,
    maxInFlight: opts.maxInFlight ?? 1,
    maxBuffered: opts.maxBuffered ?? 100,
    send: (items) => new Promise<void>((resolve, reject) => calls.push({ items, resolve, reject })),
  });
  return { w, calls };
}

describe('BatchWriter', () => {
  it('sends full batches at once and a partial batch after flushMs', async () => {
    const { w, calls } = writer();
    w.add([1, 2, 3, 4], () => undefined);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [4]]);
  });

  it('bounds requests in flight', () => {
    const { w, calls } = writer({ maxInFlight: 2 });
    w.add([1, 2, 3, 4, 5, 6, 7, 8, 9], () => undefined);
    expect(calls).toHaveLength(2);
  });

  it('withholds acceptance above the buffer bound until the queue drains', async () => {
    const { w, calls } = writer({ maxBatch: 2, maxBuffered: 3 });
    const accepted: string[] = [];
    w.add([1, 2], () => accepted.push('a'));
    w.add([3, 4], () => accepted.push('b'));
    expect(accepted).toEqual(['a']);
    calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(accepted).toEqual(['a', 'b']);
  });

  it('retries a failed batch with backoff and loses nothing', async () => {
    const { w, calls } = writer();
    let flushed = false;
    w.add([1, 2, 3], () => undefined);
    const done = w.flush().then(() => (flushed = true));
    calls[0]!.reject(new Error('503'));
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(w.error).toBe('503');
    calls[1]!.resolve();
    await done;
    expect(flushed).toBe(true);
    expect(w.bufferedItems).toBe(0);
    expect(w.error).toBeNull();
  });

  it('drops a permanently refused batch once and reports it', async () => {
    const { w, calls } = writer();
    w.add([1, 2, 3], () => undefined);
    const done = w.flush();
    calls[0]!.reject(new PermanentWriteError('HTTP 400: bad line'));
    await done;
    expect(calls).toHaveLength(1);
    expect(w.error).toBe('HTTP 400: bad line');
  });
});
