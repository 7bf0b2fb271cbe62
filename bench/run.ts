// npm run bench: rule-core throughput, end-to-end ingest throughput into InfluxDB, alarm latency at 5k readings/s
// and the monitor's peak RSS. The monitor runs as its own process against real mosquitto and influxd.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { Subject } from 'rxjs';
import { WebSocket } from 'ws';
import type { Point, Reading } from '#libs/contracts/index.js';
import { limitAlarms } from '#libs/rules/index.js';
import { freePort, startInfluxd, startMosquitto } from '#libs/testing/services.js';
import { loadSiteFiles } from '#libs/config/index.js';
import { Registry } from '#libs/registry/index.js';
import { normalBand } from '../simulators/index.js';

const E = '91320594MA1WKTRP3B';
// The demo points of one gateway, each published inside its normal band (as a healthy plant mostly is).
const DEMO = Registry.fromSiteFiles(loadSiteFiles(resolve('config'))).allPoints().filter((p) => p.enterpriseCode === E);
const POINTS = DEMO.map((p) => p.code);
const CENTER = DEMO.map((p) => normalBand(p).center);

function ruleCore(pointsN: number, readingsN: number): { perSecond: number; bytesPerPoint: number } {
  const points: Point[] = Array.from({ length: pointsN }, (_, i) => ({
    code: `P${i}`, name: `P${i}`, enterpriseCode: E, gatewayCode: 'GW', hazardSourceCode: 'HS', type: 'temperature', unit: '°C',
    range: null, limits: { ll: -10, l: 0, h: 40, hh: 50 }, deadband: 1,
  }));
  const input = new Subject<Reading[]>();
  let events = 0;
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  input.pipe(limitAlarms()).subscribe(() => events++);
  // Warm-up pass puts every point into an alarm state, so state is held for all of them.
  for (let i = 0; i < pointsN; i += 1000) input.next(points.slice(i, i + 1000).map((p) => ({ point: p, value: 45, ts: 1, quality: 'good' })));
  global.gc?.();
  const bytesPerPoint = (process.memoryUsage().heapUsed - heapBefore) / pointsN;
  const batches: Reading[][] = [];
  for (let i = 0; i < readingsN; i += 1000) {
    batches.push(Array.from({ length: 1000 }, (_, j) => ({ point: points[(i + j) % pointsN]!, value: 20 + ((i + j) % 37), ts: i + j, quality: 'good' as const })));
  }
  const t0 = performance.now();
  for (const b of batches) input.next(b);
  const s = (performance.now() - t0) / 1000;
  return { perSecond: readingsN / s, bytesPerPoint };
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { status: string }).status === 'ok') return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('monitor did not become healthy');
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const core = ruleCore(100_000, 2_000_000);
  console.log(`rule core (limit rule, 100k points): ${Math.round(core.perSecond).toLocaleString('en')} readings/s, ~${Math.round(core.bytesPerPoint)} B state/point`);

  const [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxd()]);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-'));
  const monitor = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []), resolve('dist/apps/monitor/main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MQTT_URL: mosquitto.url, INFLUX_URL: influx.url, INFLUX_DB: 'bench', SIMULATE: '0', DATA_DIR: dataDir, LOG_LEVEL: 'error', MQTT_CLIENT_ID: 'bench-monitor' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(base);
    const pub = await connectAsync(mosquitto.url, { clientId: 'bench-pub' });
    (pub.stream as import('node:net').Socket).setNoDelay(true);

    // Throughput: 1M readings in messages of 200, QoS 1, every reading counted back in InfluxDB.
    const perMessage = 200;
    const total = 1_000_000;
    const t0Ts = Date.now() - 3_600_000;
    const start = performance.now();
    let inFlight: Promise<unknown>[] = [];
    for (let m = 0; m < total / perMessage; m++) {
      const readings = Array.from({ length: perMessage }, (_, j) => {
        const n = m * perMessage + j;
        const k = n % POINTS.length;
        return { point: POINTS[k], value: CENTER[k]! + (n % 7) * 0.01, ts: t0Ts + Math.floor(n / POINTS.length) };
      });
      inFlight.push(pub.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings }), { qos: 1 }));
      if (inFlight.length >= 200) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    const published = (performance.now() - start) / 1000;
    // Wait on the monitor's own count of readings InfluxDB acknowledged, then count them in InfluxDB once.
    const peak = { heap: 0, external: 0 };
    const metricOf = (text: string, name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0);
    for (let written = 0; written < total; ) {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      written = metricOf(metrics, 'sentinel_series_written_total');
      peak.heap = Math.max(peak.heap, metricOf(metrics, 'sentinel_nodejs_heap_size_used_bytes'));
      peak.external = Math.max(peak.external, metricOf(metrics, 'sentinel_nodejs_external_memory_bytes'));
      if (written < total) await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`  during ingest: peak heap used ${(peak.heap / 1048576).toFixed(0)} MB, peak external ${(peak.external / 1048576).toFixed(0)} MB (sampled every 50 ms)`);
    const res = await fetch(`${influx.url}/query?db=bench&q=${encodeURIComponent('SELECT count(value) FROM reading')}`);
    const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
    const stored = body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    console.log(`ingest → InfluxDB: published in ${published.toFixed(2)} s; ${total.toLocaleString('en')} readings in ${seconds.toFixed(2)} s = ${Math.round(stored / seconds).toLocaleString('en')} readings/s, stored ${stored.toLocaleString('en')} (lost ${total - stored})`);

    // Latency: 5k readings/s (messages of 50 every 10 ms); one reading per message toggles T101-TE across HH.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    ws.on('message', (data: Buffer) => {
      const f = JSON.parse(data.toString()) as { type: string; alarm?: { updatedAt: string } };
      if (f.type !== 'alarm' || !f.alarm) return;
      const sent = sentAt.get(Date.parse(f.alarm.updatedAt));
      if (sent !== undefined) latencies.push(performance.now() - sent);
    });
    await new Promise((r) => ws.once('open', r));
    const seconds5k = 10;
    let ts = Date.now();
    for (let m = 0; m < seconds5k * 100; m++) {
      ts += 1;
      const readings = Array.from({ length: 49 }, (_, j) => ({ point: POINTS[1 + (j % (POINTS.length - 1))], value: CENTER[1 + (j % (POINTS.length - 1))]!, ts }));
      readings.push({ point: 'T101-TE', value: m % 2 === 0 ? 60 : 20, ts });
      sentAt.set(ts, performance.now());
      pub.publish(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts, readings }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 500));
    latencies.sort((a, b) => a - b);
    console.log(
      `alarm latency at ~5k readings/s (publish → WebSocket frame, ${latencies.length} alarm events of ${seconds5k * 100}): p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(2)} ms`,
    );
    console.log(`monitor peak RSS: ${peakRssMb(monitor.pid!).toFixed(0)} MB`);
    ws.close();
    await pub.endAsync();
  } finally {
    monitor.kill('SIGTERM');
    await new Promise((r) => monitor.once('exit', r));
    await Promise.all([mosquitto.stop(), influx.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
