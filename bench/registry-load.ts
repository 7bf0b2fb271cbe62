// Loads a registry in a fresh process and prints what it cost: node dist/bench/registry-load.js <CONFIG_DIR>
import { readFileSync } from 'node:fs';
import { loadRegistry } from '#libs/registry/index.js';

function procMb(field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: registry-load <CONFIG_DIR>');
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const t0 = performance.now();
const registry = loadRegistry(dir);
const seconds = (performance.now() - t0) / 1000;
global.gc?.();
const heapHeld = process.memoryUsage().heapUsed - heapBefore;
// Keeps the registry reachable until after the measurement.
const points = registry.pointCount;
console.log(JSON.stringify({ points, seconds, heapHeldMb: heapHeld / 2 ** 20, bytesPerPoint: heapHeld / points, rssMb: procMb('VmRSS'), peakRssMb: procMb('VmHWM') }));
