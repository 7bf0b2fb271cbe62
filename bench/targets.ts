// The systems a benchmark runs against: Sentinel as `npm start` runs it, and the careful and the naive Node-RED flows.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Point } from '#libs/contracts/index.js';
import { freePort, type InfluxService } from '#libs/testing/services.js';
import { startNodeRed, type FlowKind } from './node-red.peer.js';
import { BENCH_ADMIN_PASSWORD, signIn } from './sign-in.js';
import { sleep } from './measure.js';

export interface Target {
  readonly name: string;
  readonly process: ChildProcess;
  readonly wsUrl: string;
  readonly db: string;
  /** Whether the target also writes one line per alarm change to InfluxDB (counted by pointsWrittenOK). */
  readonly writesAlarmEvents: boolean;
  /** For a target that stores nothing (the bare subscriber): readings it has taken so far; it raises no alarms. */
  readonly taken?: () => Promise<number>;
  stop(): Promise<void>;
}


/**
 * Sentinel as its own process with the flags `npm start` ships (96 MB heap), against the given broker and influxd.
 * The workloads toggle points across HH many times a minute to count alarm deliveries; chatter and flood
 * protection would rightly hold those back (the peer flow has neither), so both are off here, and only here.
 */
export async function startSentinel(opts: { mqttUrl: string; influxUrl: string | null; dataDir: string; configDir?: string; heapMb?: number }): Promise<Target> {
  const port = await freePort();
  const flags = (process.env.BENCH_NODE_FLAGS ?? `--max-old-space-size=${opts.heapMb ?? 96} --max-semi-space-size=2`).split(' ').filter(Boolean);
  if (process.env.BENCH_PROFILE) flags.push('--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE)}`);
  const child = spawn(process.execPath, [...flags, resolve('dist/apps/monitor/main.js')], {
    env: {
      ...process.env,
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', // as `npm start` runs it
      PORT: String(port),
      HOST: '127.0.0.1',
      MQTT_URL: opts.mqttUrl,
      ...(opts.influxUrl !== null && { INFLUX_URL: opts.influxUrl, INFLUX_DB: 'sentinel' }),
      SIMULATE: '0',
      DATA_DIR: opts.dataDir,
      LOG_LEVEL: 'error',
      MQTT_CLIENT_ID: 'bench-sentinel',
      CHATTER_MAX_TRANSITIONS: '0',
      FLOOD_MAX_ALARMS: '0',
      SENTINEL_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
      ...(opts.configDir !== undefined && { CONFIG_DIR: opts.configDir }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let up = false; !up; ) {
    if (child.exitCode !== null) throw new Error('sentinel exited during start');
    up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (!up) await sleep(100);
  }
  return {
    name: 'Sentinel',
    writesAlarmEvents: true,
    process: child,
    wsUrl: `ws://127.0.0.1:${port}/ws?access_token=${await signIn(port)}`,
    db: 'sentinel',
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

interface PeerOptions {
  readonly mqttUrl: string;
  readonly influx: InfluxService;
  readonly userDir: string;
  readonly points: readonly Point[];
}

/** The batching Node-RED flow (bench/node-red.peer.ts) with the limits of `points`, writing to database `nodered`. */
export function startPeer(opts: PeerOptions): Promise<Target> {
  return startFlow(opts, 'batching', 'nodered', 'Node-RED 4.1 (batching flow)');
}

/** The naive Node-RED flow (one `influxdb out` write per reading) with the limits of `points`, writing to database `noderednaive`. */
export function startNaivePeer(opts: PeerOptions): Promise<Target> {
  return startFlow(opts, 'naive', 'noderednaive', 'Node-RED 4.1 (naive flow)');
}

async function startFlow(opts: PeerOptions, flow: FlowKind, db: string, name: string): Promise<Target> {
  await fetch(`${opts.influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE "${db}"`)}`, { method: 'POST' });
  const peer = await startNodeRed({ flow, mqttUrl: opts.mqttUrl, influxUrl: opts.influx.url, db, port: await freePort(), points: opts.points, userDir: opts.userDir });
  return { name, process: peer.process, wsUrl: peer.wsUrl, db, writesAlarmEvents: false, stop: () => peer.stop() };
}

/** A bare MQTT.js subscriber in its own process: parses and counts, stores and evaluates nothing (the floor). */
export async function startBare(mqttUrl: string): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve('dist/bench/bare-subscriber.js'), mqttUrl, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const taken = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { readings: number }).readings;
  for (let up = false; !up; ) {
    if (child.exitCode !== null) throw new Error('bare subscriber exited during start');
    up = await fetch(`http://127.0.0.1:${port}/`).then(async (r) => ((await r.json()) as { connected: boolean }).connected, () => false);
    if (!up) await sleep(100);
  }
  await sleep(300); // its subscription
  return {
    name: 'bare MQTT.js subscriber',
    process: child,
    wsUrl: '',
    db: '',
    writesAlarmEvents: false,
    taken,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
