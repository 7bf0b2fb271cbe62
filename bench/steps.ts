// `npm run bench:steps`: the hot-path workloads of issue 14 at stepped rates, each system against its own fresh
// mosquitto and influxd: 1,000 points on 10 gateways of one enterprise, each with an HH limit; 1 % of readings
// above HH, the point's next reading normal again. Two shapes: one reading per message, and 100 per message.
// A step "keeps up" when every reading is counted back in InfluxDB, every alarm arrives on the WebSocket, and
// the alarm latency of the step's last quarter has p99 ≤ 250 ms. BENCH_SMOKE=1: a seconds-long run, Sentinel only.
// BENCH_ONLY=sentinel|node-red|node-red-naive|bare runs one system (node-red the batching flow, node-red-naive the
// naive one); BENCH_BARE=1 adds the bare subscriber (the box's floor) to a full run; BENCH_SHAPES,
// BENCH_SINGLE_RATES, BENCH_BATCHED_RATES (BENCH_NAIVE_SINGLE_RATES, BENCH_NAIVE_BATCHED_RATES for the naive flow),
// BENCH_STEP_S shape the run. After each shape's ladder: a step at twice its maximum (BENCH_OVERLOAD=0 skips it), and
// for Sentinel one at half its maximum with influxd hung (SIGSTOP) for the middle half (BENCH_INFLUX_PAUSE=0 skips it).
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { Worker } from 'node:worker_threads';
import { loadRegistry } from '#libs/registry/index.js';
import { startInfluxd, startMosquitto, type InfluxService, type TestService } from '#libs/testing/services.js';
import { syntheticCreditCode } from '../simulators/national-registry.js';
import { startBare, startNaivePeer, startPeer, startSentinel, type Target } from './targets.js';
import { absoluteNow, type AlarmArrival } from './alarm-recorder.js';
import { countStored, cpuSeconds, percentile, procMb, sleep } from './measure.js';

const GATEWAYS = 10;
const POINTS_PER_GATEWAY = 100;
const POINTS = GATEWAYS * POINTS_PER_GATEWAY;
const ENTERPRISE = syntheticCreditCode(7, '370811');
const KEPT_UP_P99_MS = 250;
/** After the last message, how long influxd's CPU is still counted for the step: past the 100 ms linger and a request. */
const INFLUX_SETTLE_MS = 1000;
const smoke = process.env.BENCH_SMOKE === '1';
const STEP_S = Number(process.env.BENCH_STEP_S ?? (smoke ? 2 : 20));

type Shape = 'single' | 'batched';
const RATES: Record<Shape, number[]> = smoke
  ? { single: [2000], batched: [20_000] }
  : {
      single: (process.env.BENCH_SINGLE_RATES ?? '5000,10000,20000,30000,40000,50000,60000,70000').split(',').map(Number),
      batched: (process.env.BENCH_BATCHED_RATES ?? '40000,80000,120000,160000,200000,240000,280000,320000').split(',').map(Number),
    };
/** The naive flow writes one request per reading and falls behind two orders of magnitude lower: its own ladder. */
const NAIVE_RATES: Record<Shape, number[]> = smoke
  ? RATES
  : {
      single: (process.env.BENCH_NAIVE_SINGLE_RATES ?? '250,500,1000,2000,4000').split(',').map(Number),
      batched: (process.env.BENCH_NAIVE_BATCHED_RATES ?? '250,500,1000,2000,4000').split(',').map(Number),
    };

const pointCode = (p: number): string => `P${String(p).padStart(4, '0')}`;
const gatewayOf = (p: number): number => Math.floor(p / POINTS_PER_GATEWAY);
const gatewayCode = (g: number): string => `GW${String(g + 1).padStart(2, '0')}`;
const topicOf = (g: number): string => `sites/${ENTERPRISE}/${gatewayCode(g)}/telemetry`;

/** The bench registry: one enterprise, 10 gateways, 1,000 temperature points with H 40 and HH 50. */
function writeRegistry(dir: string): void {
  mkdirSync(join(dir, 'sites'), { recursive: true });
  const lines = [
    'enterprises:',
    `  - code: ${ENTERPRISE}`,
    '    name: 基准测试企业 (bench enterprise)',
    '    industry: hazardous_chemicals',
    '    regionCode: "370811"',
    '    gateways:',
    ...Array.from({ length: GATEWAYS }, (_, g) => `      - { code: ${gatewayCode(g)}, reportingPeriodS: 60 }`),
    '    hazardSources:',
    '      - { code: TF-1, name: tank farm, kind: tank_farm, grade: 3 }',
    '    points:',
    ...Array.from(
      { length: POINTS },
      (_, p) => `      - { code: ${pointCode(p)}, hazardSource: TF-1, gateway: ${gatewayCode(gatewayOf(p))}, type: temperature, unit: "°C", range: [-40, 150], limits: { h: 40, hh: 50 }, deadband: 1 }`,
    ),
  ];
  writeFileSync(join(dir, 'sites', 'bench.yaml'), `${lines.join('\n')}\n`);
  cpSync(resolve('config/profiles'), join(dir, 'profiles'), { recursive: true });
}

/** Reading n goes to point n mod 1,000; each point is above HH in one round of 100 (1 % of readings). */
function readingOf(n: number, lastTs: Float64Array): { point: string; value: number; ts: number; alarm: boolean; p: number } {
  const p = n % POINTS;
  const round = Math.floor(n / POINTS);
  const alarm = round % 100 === p % 100;
  const ts = Math.max(Date.now(), lastTs[p]! + 1);
  lastTs[p] = ts;
  return { point: pointCode(p), value: alarm ? 60 : 20 + (n % 7) * 0.1, ts, alarm, p };
}

interface StepResult {
  readonly shape: Shape;
  readonly rate: number;
  readonly achieved: number;
  readonly readings: number;
  readonly stored: number;
  readonly alarmsSent: number;
  readonly alarmsReceived: number;
  readonly p50: number;
  readonly p99: number;
  readonly p99LastQuarter: number;
  readonly cpuTarget: number;
  readonly cpuInflux: number;
  /** CPU seconds of mosquitto and of this process (publisher and alarm recorder) over the step: how busy the box was. */
  readonly cpuBroker: number;
  readonly cpuBench: number;
  /** The system's RSS high-water mark since it started, read after the step (MB). */
  readonly rssPeak: number;
  readonly keptUp: boolean;
}

/** `pauseInflux`: influxd is stopped (SIGSTOP: it hangs, answering nothing) for the middle half of the step. */
async function step(target: Target, influx: InfluxService, broker: TestService, pub: MqttClient, shape: Shape, rate: number, state: { n: number; stored: number; lastTs: Float64Array }, pauseInflux = false): Promise<StepResult> {
  const expectedAlarms = new Map<string, number>();
  const latencies: { at: number; ms: number }[] = [];
  let received = 0;
  const bare = target.taken !== undefined;
  const recorder = bare ? null : new Worker(new URL('./alarm-recorder.js', import.meta.url), { workerData: { url: target.wsUrl } });
  recorder?.on('message', (m: AlarmArrival | 'open' | { error: string }) => {
    if (typeof m === 'string' || 'error' in m) return;
    const sentAt = expectedAlarms.get(m.key);
    if (sentAt === undefined) return;
    expectedAlarms.delete(m.key);
    received++;
    latencies.push({ at: sentAt, ms: m.at - sentAt });
  });
  if (recorder) {
    await new Promise<void>((ok, fail) =>
      recorder.once('message', (m: unknown) => (m === 'open' ? ok() : fail(new Error(`alarm recorder: ${JSON.stringify(m)}`)))).once('error', fail),
    );
  }

  const pidInflux = influx.pid();
  const cpu0 = cpuSeconds(target.process.pid!);
  const cpuInflux0 = pidInflux === null ? 0 : cpuSeconds(pidInflux);
  const pidBroker = broker.pid?.() ?? null;
  const cpuBroker0 = pidBroker === null ? 0 : cpuSeconds(pidBroker);
  const cpuBench0 = process.cpuUsage();
  const perMessage = shape === 'single' ? 1 : POINTS_PER_GATEWAY;
  const start = performance.now();
  const startAbs = absoluteNow();
  const end = start + STEP_S * 1000;
  let sent = 0;
  let alarmsSent = 0;
  let pending = 0;
  let paused: 'before' | 'paused' | 'after' = pauseInflux && pidInflux !== null ? 'before' : 'after';
  while (performance.now() < end) {
    const elapsed = (performance.now() - start) / (end - start);
    if (paused === 'before' && elapsed >= 0.25) {
      process.kill(pidInflux!, 'SIGSTOP');
      paused = 'paused';
    } else if (paused === 'paused' && elapsed >= 0.75) {
      process.kill(pidInflux!, 'SIGCONT');
      paused = 'after';
    }
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    // Never more than a second of messages waiting in the client: the broker's pace then shows as missed rate.
    while (sent < due && pending < rate / perMessage) {
      const readings = [];
      for (let i = 0; i < perMessage; i++) {
        const r = readingOf(state.n++, state.lastTs);
        if (r.alarm && !bare) {
          expectedAlarms.set(`${r.point}@${r.ts}`, absoluteNow());
          alarmsSent++;
        }
        readings.push({ point: r.point, value: r.value, ts: r.ts });
      }
      const gateway = gatewayOf(((state.n - 1) % POINTS));
      pending++;
      pub.publish(topicOf(gateway), JSON.stringify({ readings }), { qos: 1 }, () => pending--);
      sent += perMessage;
    }
    await sleep(5);
  }
  if (paused === 'paused') process.kill(pidInflux!, 'SIGCONT');
  const seconds = (performance.now() - start) / 1000;
  const expected = state.stored + sent;
  // influxd's CPU of the step is read before the drain's count queries, which cost it more as the data grows.
  await sleep(INFLUX_SETTLE_MS);
  const cpuInflux = pidInflux === null ? NaN : cpuSeconds(pidInflux) - cpuInflux0;
  const cpuBroker = pidBroker === null ? NaN : cpuSeconds(pidBroker) - cpuBroker0;
  const bench = process.cpuUsage(cpuBench0);
  const cpuBench = (bench.user + bench.system) / 1e6;
  // Drained: every reading in InfluxDB, or no progress for 5 s.
  let stored = state.stored;
  for (let last = performance.now(); stored < expected && performance.now() - last < 5000; ) {
    await sleep(250);
    const now = target.taken ? await target.taken() : await countStored(influx, target.db);
    if (now !== stored) last = performance.now();
    stored = now;
  }
  for (const t0 = performance.now(); expectedAlarms.size > 0 && performance.now() - t0 < 3000; ) await sleep(50);
  recorder?.postMessage('close');
  await recorder?.terminate();
  if (process.env.BENCH_LOOP_LAG === '1' && !bare) console.log(await loopLag(target), await influxRequests(influx));
  const cpuTarget = cpuSeconds(target.process.pid!) - cpu0;
  const lastQuarter = latencies.filter((l) => l.at >= startAbs + 0.75 * STEP_S * 1000).map((l) => l.ms);
  const all = latencies.map((l) => l.ms);
  const result: StepResult = {
    shape,
    rate,
    achieved: sent / seconds,
    readings: sent,
    stored: stored - state.stored,
    alarmsSent,
    alarmsReceived: received,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    p99LastQuarter: percentile(lastQuarter, 99),
    cpuTarget,
    cpuInflux,
    cpuBroker,
    cpuBench,
    rssPeak: procMb(target.process.pid!, 'VmHWM'),
    keptUp: stored === expected && received === alarmsSent && !(percentile(lastQuarter, 99) > KEPT_UP_P99_MS) && sent >= rate * STEP_S * 0.95,
  };
  state.stored = stored;
  return result;
}

/** Sentinel's own event-loop lag and GC time from its /metrics (prom-client defaults), for diagnosis. */
async function loopLag(target: Target): Promise<string> {
  const url = new URL(target.wsUrl.replace('ws://', 'http://'));
  const token = url.searchParams.get('access_token');
  if (token === null) return '';
  const text = await (await fetch(`http://${url.host}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const mb = (bytes: string): string => (Number(bytes) / 2 ** 20).toFixed(0);
  const pick = (name: string): string => new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? '?';
  return `  event loop lag p50 ${pick('sentinel_nodejs_eventloop_lag_p50_seconds')} s, p99 ${pick('sentinel_nodejs_eventloop_lag_p99_seconds')} s, max ${pick('sentinel_nodejs_eventloop_lag_max_seconds')} s; GC major ${pick('sentinel_nodejs_gc_duration_seconds_sum\\{kind="major"\\}')} s, minor ${pick('sentinel_nodejs_gc_duration_seconds_sum\\{kind="minor"\\}')} s, incremental ${pick('sentinel_nodejs_gc_duration_seconds_sum\\{kind="incremental"\\}')} s; heap ${mb(pick('sentinel_nodejs_heap_size_used_bytes'))}/${mb(pick('sentinel_nodejs_heap_size_total_bytes'))} MB, external ${mb(pick('sentinel_nodejs_external_memory_bytes'))} MB, RSS ${mb(pick('sentinel_process_resident_memory_bytes'))} MB; arrival to alarm push p99 ${p99Bucket(text, 'sentinel_alarm_push_delay_seconds')}; alarm commits p99 ${p99Bucket(text, 'sentinel_alarm_commit_seconds')}, total ${fmt(Number(pick('sentinel_alarm_commit_seconds_sum')), 2)} s`;
}

/** The 99th percentile of a histogram of seconds as the bucket bound it falls under. */
function p99Bucket(metrics: string, name: string): string {
  const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  const bound = buckets.find(([, n]) => n >= total * 0.99)?.[0];
  return bound === undefined || total === 0 ? '–' : `≤ ${Number(bound) * 1000} ms (of ${total})`;
}

/** influxd's own count of write and query requests so far (its /debug/vars), for diagnosis. */
async function influxRequests(influx: InfluxService): Promise<string> {
  const vars = (await (await fetch(`${influx.url}/debug/vars`)).json()) as Record<string, { name?: string; values?: Record<string, number> }>;
  const http = Object.values(vars).find((v) => v.name === 'httpd')?.values ?? {};
  return `influxd: ${http.writeReq ?? '?'} writes of ${http.pointsWrittenOK ?? '?'} points, ${http.queryReq ?? '?'} queries`;
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

function report(target: string, r: StepResult): void {
  const perReading = (cpu: number): string => (r.readings > 0 ? `${fmt((cpu / r.readings) * 1e6, 2)} µs` : '–');
  console.log(
    `${target} ${r.shape} ${r.rate.toLocaleString('en')}/s: ${r.keptUp ? 'kept up' : 'FELL BEHIND'}; published ${Math.round(r.achieved).toLocaleString('en')}/s, ` +
      `stored ${r.stored.toLocaleString('en')}/${r.readings.toLocaleString('en')}, alarms ${r.alarmsReceived}/${r.alarmsSent}, ` +
      `alarm p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms (last quarter ${fmt(r.p99LastQuarter)} ms); ` +
      `CPU ${perReading(r.cpuTarget)}/reading (${fmt((r.cpuTarget / STEP_S) * 100, 0)} %), influxd ${perReading(r.cpuInflux)}/reading (${fmt((r.cpuInflux / STEP_S) * 100, 0)} %); ` +
      `mosquitto ${fmt((r.cpuBroker / STEP_S) * 100, 0)} %, publisher and recorder ${fmt((r.cpuBench / STEP_S) * 100, 0)} %; RSS peak so far ${fmt(r.rssPeak, 0)} MB`,
  );
}

/** BENCH_SHAPES=single or batched runs one shape only. */
const SHAPES: readonly Shape[] = process.env.BENCH_SHAPES === 'single' ? ['single'] : process.env.BENCH_SHAPES === 'batched' ? ['batched'] : ['single', 'batched'];

type System = 'sentinel' | 'node-red' | 'node-red-naive' | 'bare';

function startTarget(name: System, mqttUrl: string, influx: InfluxService, work: string, shape: Shape): Promise<Target> {
  const configDir = join(work, 'config');
  const peer = { mqttUrl, influx, userDir: join(work, `${name}-${shape}`), points: loadRegistry(configDir).allPoints() };
  switch (name) {
    case 'sentinel':
      return startSentinel({ mqttUrl, influxUrl: influx.url, dataDir: join(work, `sentinel-${shape}`), configDir });
    case 'node-red':
      return startPeer(peer);
    case 'node-red-naive':
      return startNaivePeer(peer);
    case 'bare':
      return startBare(mqttUrl);
  }
}

interface RunResult {
  readonly best: Record<Shape, number>;
  /** The steps kept up, by shape. */
  readonly kept: Record<Shape, StepResult[]>;
}

async function run(name: System, work: string): Promise<RunResult> {
  const best: Record<Shape, number> = { single: 0, batched: 0 };
  const kept: Record<Shape, StepResult[]> = { single: [], batched: [] };
  for (const shape of SHAPES) {
    // A fresh broker, database and system per shape, so neither shape inherits the other's backlog.
    const inflight = process.env.BENCH_MOSQUITTO_INFLIGHT;
    const [mosquitto, influx] = await Promise.all([startMosquitto(undefined, inflight ? ['allow_anonymous true', `max_inflight_messages ${inflight}`] : []), startInfluxd()]);
    const target = await startTarget(name, mosquitto.url, influx, work, shape);
    const pub = await connectAsync(mosquitto.url, { clientId: `bench-steps-${name}-${shape}` });
    (pub.stream as Socket).setNoDelay(true);
    const state = { n: 0, stored: 0, lastTs: new Float64Array(POINTS) };
    try {
      for (const rate of (name === 'node-red-naive' ? NAIVE_RATES : RATES)[shape]) {
        const r = await step(target, influx, mosquitto, pub, shape, rate, state);
        report(target.name, r);
        if (!r.keptUp) break;
        best[shape] = rate;
        kept[shape].push(r);
      }
      console.log(`${target.name} ${shape}: highest rate kept up ${best[shape].toLocaleString('en')} readings/s; RSS peak ${fmt(procMb(target.process.pid!, 'VmHWM'), 0)} MB`);
      if (best[shape] > 0 && !smoke && name !== 'bare' && process.env.BENCH_OVERLOAD !== '0') {
        // Twice the highest rate kept up: nothing may be lost (the broker holds the backlog), the latency is reported.
        const over = await step(target, influx, mosquitto, pub, shape, 2 * best[shape], state);
        report(`${target.name} overload (2× the maximum)`, over);
        console.log(`${target.name} ${shape} overload: ${over.stored === over.readings && over.alarmsReceived === over.alarmsSent ? 'nothing lost' : `LOST ${over.readings - over.stored} readings, ${over.alarmsSent - over.alarmsReceived} alarms`}; RSS peak ${fmt(procMb(target.process.pid!, 'VmHWM'), 0)} MB`);
      }
      if (best[shape] > 0 && !smoke && name === 'sentinel' && process.env.BENCH_INFLUX_PAUSE !== '0') {
        const hung = await step(target, influx, mosquitto, pub, shape, best[shape] / 2, state, true);
        report(`${target.name} with influxd hung for half the step`, hung);
      }
    } finally {
      await pub.endAsync();
      await target.stop();
      await Promise.all([mosquitto.stop(), influx.stop()]);
    }
  }
  return { best, kept };
}

/** Sentinel and a peer side by side at each rate both kept up: CPU per reading, influxd's, alarm p99, and the ratios. */
function sideBySide(sentinel: RunResult, peer: RunResult, peerName: string): void {
  const perReading = (cpu: number, r: StepResult): number => (cpu / r.readings) * 1e6;
  for (const shape of SHAPES) {
    for (const s of sentinel.kept[shape]) {
      const p = peer.kept[shape].find((x) => x.rate === s.rate);
      if (p === undefined) continue;
      const [cs, cp, is, ip] = [perReading(s.cpuTarget, s), perReading(p.cpuTarget, p), perReading(s.cpuInflux, s), perReading(p.cpuInflux, p)];
      console.log(
        `${shape} ${s.rate.toLocaleString('en')}/s, Sentinel vs ${peerName}: CPU ${fmt(cs, 2)} vs ${fmt(cp, 2)} µs/reading (${fmt(cs / cp, 2)}×); ` +
          `influxd ${fmt(is, 2)} vs ${fmt(ip, 2)} µs/reading (${fmt(is / ip, 2)}×); alarm p99 ${fmt(s.p99)} vs ${fmt(p.p99)} ms`,
      );
    }
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sentinel-steps-'));
  writeRegistry(join(work, 'config'));
  try {
    const only = process.env.BENCH_ONLY;
    const none: RunResult = { best: { single: 0, batched: 0 }, kept: { single: [], batched: [] } };
    const sentinel = only === 'node-red' || only === 'node-red-naive' || only === 'bare' ? none : await run('sentinel', work);
    if (smoke || only === 'sentinel') return;
    const flow = only === 'node-red-naive' || only === 'bare' ? none : await run('node-red', work);
    if (only === 'node-red') return;
    const naive = only === 'bare' ? none : await run('node-red-naive', work);
    if (only === 'node-red-naive') return;
    const floor = only === 'bare' || process.env.BENCH_BARE === '1' ? await run('bare', work) : none;
    if (only === 'bare') return;
    if (floor.best.batched > 0) console.log(`the box: a bare subscriber kept up with ${floor.best.single.toLocaleString('en')}/s single and ${floor.best.batched.toLocaleString('en')}/s batched`);
    sideBySide(sentinel, flow, 'the batching flow');
    for (const shape of ['single', 'batched'] as const) {
      const ratio = flow.best[shape] > 0 ? sentinel.best[shape] / flow.best[shape] : NaN;
      console.log(`${shape === 'batched' ? 'throughput' : 'single-reading throughput'}: ${fmt(ratio, 2)}× Node-RED (batched flow) — Sentinel ${sentinel.best[shape].toLocaleString('en')}/s, flow ${flow.best[shape].toLocaleString('en')}/s`);
    }
    const naiveRatio = naive.best.batched > 0 ? sentinel.best.batched / naive.best.batched : NaN;
    console.log(`throughput: ${fmt(naiveRatio, 2)}× Node-RED (naive flow) — Sentinel ${sentinel.best.batched.toLocaleString('en')}/s, flow ${naive.best.batched.toLocaleString('en')}/s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
