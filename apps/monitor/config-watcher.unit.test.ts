import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { watchConfigDir } from './config-watcher.js';

const HALF = 'enterprises:\n  - code: A\n';
const WHOLE = `${HALF}  - code: B\n`;

/** A config folder with sites/demo.yaml, and a watcher recording what the file held at each call. */
function watched(quietMs?: number): { file: string; seen: string[]; changed: () => Promise<void>; stop: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-watch-'));
  mkdirSync(join(dir, 'sites'));
  const file = join(dir, 'sites', 'demo.yaml');
  writeFileSync(file, WHOLE);
  const seen: string[] = [];
  let notify: () => void = () => undefined;
  const stop = watchConfigDir(
    dir,
    () => {
      seen.push(readFileSync(file, 'utf8'));
      notify();
    },
    quietMs,
  );
  const changed = (): Promise<void> => new Promise((resolve) => (notify = resolve));
  return { file, seen, changed, stop };
}

describe('watchConfigDir', () => {
  const stops: (() => void)[] = [];
  afterEach(() => stops.splice(0).forEach((stop) => stop()));

  it('waits until a file written in steps is stable: a pause of 0.6 s mid-write does not trigger a reload', async () => {
    const w = watched();
    stops.push(w.stop);
    const changed = w.changed();
    writeFileSync(w.file, HALF);
    // The watcher cannot call before two checks 1 s apart, however late the timers run.
    await sleep(600);
    expect(w.seen).toEqual([]);
    appendFileSync(w.file, '  - code: B\n');
    await changed;
    expect(w.seen).toEqual([WHOLE]);
  });

  it('calls once per settled change, and ignores files that are not config', async () => {
    const w = watched(100);
    stops.push(w.stop);
    let changed = w.changed();
    writeFileSync(w.file, HALF);
    writeFileSync(w.file, WHOLE);
    await changed;
    changed = w.changed();
    writeFileSync(join(w.file, '..', 'notes.txt'), 'not config');
    writeFileSync(w.file, HALF);
    await changed;
    // Well past two more quiet intervals: nothing is pending any more.
    await sleep(500);
    expect(w.seen).toEqual([WHOLE, HALF]);
  });
});
