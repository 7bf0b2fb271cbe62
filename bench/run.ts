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

const E = '91320594MA1WKTRP3B';
const POINTS = ['T101-TE', 'T101-PT', 'T101-LT', 'T102-TE', 'T102-LT', 'TF1-GAS1', 'R201-TE', 'RX1-H2S'];

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
  const monitor = spawn(process.execPath, [resolve('dist/apps/monitor/main.js')], {
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
        return { point: POINTS[n % POINTS.length], value: 10 + (n % 7), ts: t0Ts + Math.floor(n / POINTS.length) };
      });
      inFlight.push(pub.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ readings }), { qos: 1 }));
      if (inFlight.length >= 200) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    let stored = 0;
    for (let i = 0; i < 600 && stored < total; i++) {
      const res = await fetch(`${influx.url}/query?db=bench&q=${encodeURIComponent('SELECT count(value) FROM reading')}`);
      const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
      stored = body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
      if (stored < total) await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`ingest → InfluxDB: ${total.toLocaleString('en')} readings in ${seconds.toFixed(2)} s = ${Math.round(stored / seconds).toLocaleString('en')} readings/s, stored ${stored.toLocaleString('en')} (lost ${total - stored})`);

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
      const readings = Array.from({ length: 49 }, (_, j) => ({ point: POINTS[1 + (j % 7)], value: 10, ts }));
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
