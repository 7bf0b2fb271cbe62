import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A seconds-long run of the stepped hot-path bench (`BENCH_SMOKE=1`: Sentinel only, one short step per shape), so
 * that the bench never rots. It checks that the run completes and reports, not how fast: figures come from manual
 * full runs into docs/benchmarks.md.
 */
describe('bench smoke run', () => {
  it('runs bench/steps.ts end to end against real mosquitto and influxd and reports each step', async () => {
    execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    const child = spawn(process.execPath, [resolve('dist/bench/steps.js')], { env: { ...process.env, BENCH_SMOKE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(code, out.slice(-3000)).toBe(0);
    for (const shape of ['single', 'batched']) {
      const line = new RegExp(`Sentinel ${shape} [\\d,]+/s: (kept up|FELL BEHIND); published [\\d,]+/s, stored ([\\d,]+)/([\\d,]+), alarms \\d+/\\d+`).exec(out);
      expect(line, out.slice(-3000)).not.toBeNull();
      expect(Number(line![2]!.replaceAll(',', ''))).toBeGreaterThan(0);
    }
  }, 180_000);
});
