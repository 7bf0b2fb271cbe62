// npm run bench: the rule core alone, then the same workloads against Sentinel and a careful Node-RED flow, each
// as its own process against real mosquitto and influxd: ingest throughput with every reading counted in InfluxDB
// and every alarm counted on the WebSocket while overloaded, alarm latency at 5k readings/s, and peak RSS.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import type { Point, Reading } from '#libs/contracts/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { RuleEngine } from '#libs/rules/index.js';
import { startInfluxd, startMosquitto, type InfluxService } from '#libs/testing/services.js';
import { aPoint } from '#libs/testing/builders.js';
import { normalBand } from '../simulators/index.js';
import { writeNationalRegistry } from '../simulators/national-registry.js';
import { startPeer, startSentinel, type Target } from './targets.js';
import { countStored, percentile, procMb, sleep } from './measure.js';

const E = '91320594MA1WKTRP3E';
const TOPIC = `sites/${E}/GW01/telemetry`;
// The demo points of one gateway, each published inside its normal band (as a healthy plant mostly is); the
// first (T101-TE) is toggled across HH where a workload wants alarms.
const DEMO = loadRegistry(resolve('config')).allPoints().filter((p) => p.enterpriseCode === E);
const POINTS = DEMO.map((p) => p.code);
const CENTER = DEMO.map((p) => normalBand(p).center);
const ALARM_POINT = 'T101-TE';

const TOTAL = Number(process.env.BENCH_READINGS ?? 2_000_000);
const PER_MESSAGE = 200;
const ALARM_EVERY = 50; // messages; T101-TE alternates 60 / 20 so each such message is one alarm change


type CoreWorkload = 'limits, healthy' | 'limits, every reading a transition' | 'all rules, healthy';

/**
 * The rule core alone, in process: readings/s through RuleEngine (with chatter and flood guards) and heap held per
 * point after every point has raised an alarm once. `limits`: LL/L/H/HH with deadband only; `all rules`: also
 * on/off delays, stuck detection, rate of change and trend (a slope window each). `healthy`: values inside the
 * normal band, as a plant mostly is; `every reading a transition`: each reading raises or clears (worst case).
 */
function ruleCore(pointsN: number, readingsN: number, workload: CoreWorkload): { perSecond: number; bytesPerPoint: number } {
  const all = workload.startsWith('all rules');
  const spread = workload.includes('transition') ? 37 : 17;
  const rules = all ? { rate: { risePerMin: 5, fallPerMin: null, windowS: 60 }, trend: { horizonS: 600, windowS: 300 }, stuck: { periods: 30, band: 0.01 } } : {};
  const points: Point[] = Array.from({ length: pointsN }, (_, i) => aPoint({ code: `P${i}`, name: `P${i}`, enterpriseCode: E, rules, ...(all && { onDelayS: 5, offDelayS: 5 }) }));
  const ctx = { points, gateways: [], votingGroups: [], composites: [], electricity: [] };
  const emit = (): void => undefined;
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const engine = new RuleEngine(ctx, 0);
  // Warm-up puts every point into an alarm state, so state is held for all of them.
  for (let i = 0; i < pointsN; i += 1000) engine.readings(points.slice(i, i + 1000).map((p) => ({ point: p, value: 45, ts: 1, quality: 'good' })), 1, emit);
  global.gc?.();
  const bytesPerPoint = (process.memoryUsage().heapUsed - heapBefore) / pointsN;
  const batches: Reading[][] = [];
  for (let i = 0; i < readingsN; i += 1000) {
    batches.push(Array.from({ length: 1000 }, (_, j) => ({ point: points[(i + j) % pointsN]!, value: 20 + ((i + j) % spread), ts: 1000 + i + j, quality: 'good' as const })));
  }
  // Each batch arrives once its newest reading was taken, as on a real link (a reading is never stamped ahead).
  const arrivals = batches.map((b) => b[b.length - 1]!.ts);
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i++) engine.readings(batches[i]!, arrivals[i]!, emit);
  return { perSecond: readingsN / ((performance.now() - t0) / 1000), bytesPerPoint };
}

async function pointsWrittenOk(influx: InfluxService): Promise<number> {
  const stats = await influx.query(`SHOW STATS FOR 'httpd'`, '_internal');
  const httpd = stats[0];
  return Number(httpd?.values[0]?.[httpd.columns.indexOf('pointsWrittenOK')] ?? 0);
}

/**
 * Collects the alarm frames of the toggled point; `onAlarm` receives the event time the alarm carries. Other
 * alarms (e.g. the silent second demo enterprise's gateway going offline) are not part of the count.
 */
async function alarmSocket(url: string, onAlarm: (eventTs: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on('message', (data: Buffer) => {
    const f = JSON.parse(data.toString()) as { type?: string; alarm?: { updatedAt: string; pointCode: string | null } };
    if (f.type === 'alarm' && f.alarm?.pointCode === ALARM_POINT) onAlarm(Date.parse(f.alarm.updatedAt));
  });
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  return ws;
}

interface ThroughputResult {
  published: number;
  seconds: number;
  stored: number;
  alarmsExpected: number;
  alarmsReceived: number;
}

/** Publishes TOTAL readings as fast as the broker takes them, then waits until InfluxDB holds them or stops growing. */
async function throughput(target: Target, pub: MqttClient, influx: InfluxService): Promise<ThroughputResult> {
  let alarmsReceived = 0;
  const ws = await alarmSocket(target.wsUrl, () => alarmsReceived++);
  const t0Ts = Date.now() - 3_600_000;
  const start = performance.now();
  let alarmsExpected = 0;
  let inFlight: Promise<unknown>[] = [];
  for (let m = 0; m < TOTAL / PER_MESSAGE; m++) {
    const readings = Array.from({ length: PER_MESSAGE }, (_, j) => {
      const n = m * PER_MESSAGE + j;
      const k = n % POINTS.length;
      const ts = t0Ts + Math.floor(n / POINTS.length);
      if (POINTS[k] === ALARM_POINT) return { point: ALARM_POINT, value: CENTER[k]!, ts };
      return { point: POINTS[k], value: CENTER[k]! + (n % 7) * 0.01, ts };
    });
    if (m % ALARM_EVERY === 0) {
      const slot = readings.findIndex((r) => r.point === ALARM_POINT);
      readings[slot]!.value = alarmsExpected % 2 === 0 ? 60 : 20;
      alarmsExpected++;
    }
    inFlight.push(pub.publishAsync(TOPIC, JSON.stringify({ readings }), { qos: 1 }));
    if (inFlight.length >= 200) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  const published = (performance.now() - start) / 1000;
  // Progress from influxd's own counter (cheap), so polling does not load the server being measured.
  let written = 0;
  let lastChange = performance.now();
  const expectedLines = TOTAL + (target.writesAlarmEvents ? alarmsExpected : 0);
  while (written < expectedLines && performance.now() - lastChange < 10_000) {
    await sleep(100);
    const now = await pointsWrittenOk(influx);
    if (now !== written) lastChange = performance.now();
    written = now;
  }
  const stored = await countStored(influx, target.db);
  const seconds = (written < expectedLines ? lastChange : performance.now()) - start;
  await sleep(500);
  ws.close();
  return { published, seconds: seconds / 1000, stored, alarmsExpected, alarmsReceived };
}

/** ~5k readings/s for 10 s: 50 readings every 10 ms, one of which toggles T101-TE across HH. */
async function latency(target: Target, pub: MqttClient): Promise<{ p50: number; p99: number; max: number; received: number; sent: number }> {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const ws = await alarmSocket(target.wsUrl, (eventTs) => {
    const sent = sentAt.get(eventTs);
    if (sent !== undefined) latencies.push(performance.now() - sent);
  });
  const messages = 1000;
  // Stamped behind the clock, as a real reading is: one stamped ahead of its arrival is moved back to it, and its
  // alarm would then carry a time the matching below does not know.
  let ts = Date.now() - 10_000;
  for (let m = 0; m < messages; m++) {
    ts += 1;
    const readings = POINTS.slice(1).flatMap((p, i) => Array.from({ length: 7 }, () => ({ point: p, value: CENTER[i + 1]!, ts }))).slice(0, 49);
    readings.push({ point: ALARM_POINT, value: m % 2 === 0 ? 60 : 20, ts });
    sentAt.set(ts, performance.now());
    pub.publish(TOPIC, JSON.stringify({ ts, readings }), { qos: 1 });
    await sleep(10);
  }
  await sleep(1000);
  ws.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN, received: latencies.length, sent: messages };
}

interface RegistryLoad {
  readonly points: number;
  readonly seconds: number;
  readonly heapHeldMb: number;
  readonly bytesPerPoint: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

/** A national-scale registry written by the generator, loaded in a fresh process per format. */
async function registryLoad(work: string, points: number, format: 'yaml' | 'json'): Promise<RegistryLoad> {
  const dir = join(work, `registry-${format}`);
  writeNationalRegistry(dir, { points, format });
  cpSync(resolve('config/profiles'), join(dir, 'profiles'), { recursive: true });
  const child = spawn(process.execPath, ['--expose-gc', resolve('dist/bench/registry-load.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`registry-load exited with ${code}`);
  return JSON.parse(out) as RegistryLoad;
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const work = mkdtempSync(join(tmpdir(), 'sentinel-bench-'));
  if (!only || only === 'registry') {
    const points = Number(process.env.BENCH_REGISTRY_POINTS ?? 440_000);
    for (const format of ['yaml', 'json'] as const) {
      const r = await registryLoad(work, points, format);
      console.log(
        `registry (${format}): ${r.points.toLocaleString('en')} points loaded and validated in ${r.seconds.toFixed(1)} s; ` +
          `heap held ${r.heapHeldMb.toFixed(0)} MB (${Math.round(r.bytesPerPoint)} B/point), RSS ${r.rssMb.toFixed(0)} MB after, ${r.peakRssMb.toFixed(0)} MB peak`,
      );
    }
  }
  if (!only || only === 'core') {
    for (const workload of ['limits, healthy', 'limits, every reading a transition', 'all rules, healthy'] as const) {
      const core = ruleCore(100_000, 2_000_000, workload);
      console.log(`rule core (${workload}, 100k points, one core): ${Math.round(core.perSecond).toLocaleString('en')} readings/s, ~${Math.round(core.bytesPerPoint)} B state/point`);
    }
  }
  const starters: [string, (mqttUrl: string, influx: InfluxService) => Promise<Target>][] = [
    ['sentinel', (m, i) => startSentinel({ mqttUrl: m, influxUrl: i.url, dataDir: join(work, 'sentinel') })],
    ['node-red', (m, i) => startPeer({ mqttUrl: m, influx: i, userDir: join(work, 'node-red'), points: DEMO })],
  ];
  try {
    for (const [key, start] of starters) {
      if (only && only !== key) continue;
      // A fresh broker and database per target, so neither inherits the other's backlog.
      const [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxd()]);
      const target = await start(mosquitto.url, influx);
      const pub = await connectAsync(mosquitto.url, { clientId: `bench-pub-${key}` });
      (pub.stream as Socket).setNoDelay(true);
      try {
        const t = await throughput(target, pub, influx);
        console.log(
          `${target.name}: ${TOTAL.toLocaleString('en')} readings published in ${t.published.toFixed(2)} s; ` +
            `${t.stored.toLocaleString('en')} in InfluxDB after ${t.seconds.toFixed(2)} s = ${Math.round(t.stored / t.seconds).toLocaleString('en')} readings/s, ` +
            `lost ${(TOTAL - t.stored).toLocaleString('en')}; alarms during overload ${t.alarmsReceived}/${t.alarmsExpected}`,
        );
        const l = await latency(target, pub);
        console.log(`${target.name}: alarm latency at ~5k readings/s: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms (${l.received}/${l.sent} alarms)`);
        const pid = target.process.pid!;
        console.log(`${target.name}: RSS peak ${procMb(pid, 'VmHWM').toFixed(0)} MB (during the burst), ${procMb(pid, 'VmRSS').toFixed(0)} MB after the 5k/s phase`);
      } finally {
        await pub.endAsync();
        await target.stop();
        await Promise.all([mosquitto.stop(), influx.stop()]);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
