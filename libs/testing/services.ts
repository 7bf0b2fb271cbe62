import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestService {
  readonly url: string;
  stop(): Promise<void>;
  /** The local process id (for CPU figures); null or absent for a server given by URL. */
  pid?(): number | null;
}

/** A port that was free a moment ago on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `command` and resolves once a line of its output matches `ready`; rejects if it exits first. */
function spawnUntilReady(command: string, args: string[], ready: RegExp, timeoutMs: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start (${err.message}); run scripts/test-all.sh to install it`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output.slice(-2000)}`));
    });
  });
}

function stopChild(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGTERM');
  });
}

/**
 * A real mosquitto on a random (or the given) loopback port, or the broker at MQTT_TEST_URL when that is set.
 * `access` replaces `allow_anonymous true` with other lines (password file, ACL), and always starts a local broker.
 */
export async function startMosquitto(fixedPort?: number, access: readonly string[] = []): Promise<TestService> {
  const given = process.env.MQTT_TEST_URL;
  if (given && fixedPort === undefined && access.length === 0) return { url: given, stop: () => Promise.resolve() };
  const port = fixedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // max_queued_messages 0 = no limit: the default (1000) drops QoS 1 messages for a slow subscriber.
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, ...(access.length > 0 ? access : ['allow_anonymous true']), 'persistence false', 'max_queued_messages 0', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information', ''].join('\n'),
  );
  const child = await spawnUntilReady('mosquitto', ['-c', conf], /mosquitto version .* running/, 15_000);
  return { url: `mqtt://127.0.0.1:${port}`, stop: () => stopChild(child, dir), pid: () => child.pid ?? null };
}

export interface InfluxService extends TestService {
  query(q: string, db: string): Promise<InfluxSeries[]>;
  /** Stops the server and keeps its data, for outage tests (a local influxd only). */
  pause(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>;
  /** The local influxd's process id (for CPU figures); null for a server given by INFLUX_TEST_URL. */
  pid(): number | null;
}

export interface InfluxSeries {
  readonly name: string;
  readonly columns: string[];
  readonly values: unknown[][];
  readonly tags?: Record<string, string>;
}

/** A real InfluxDB 1.x (`influxd`) on random loopback ports, or the server at INFLUX_TEST_URL when that is set. */
export async function startInfluxd(): Promise<InfluxService> {
  const given = process.env.INFLUX_TEST_URL;
  let url: string;
  let stop: () => Promise<void>;
  let pause: () => Promise<void> = () => Promise.reject(new Error('pause() needs a local influxd; unset INFLUX_TEST_URL'));
  let resume: () => Promise<void> = pause;
  let pid: () => number | null = () => null;
  if (given) {
    url = given;
    stop = () => Promise.resolve();
  } else {
    const [httpPort, rpcPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-influxd-'));
    const conf = join(dir, 'influxdb.conf');
    writeFileSync(
      conf,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${dir}/meta"`,
        '[data]',
        `  dir = "${dir}/data"`,
        `  wal-dir = "${dir}/wal"`,
        '  query-log-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${httpPort}"`,
        '  log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '',
      ].join('\n'),
    );
    const launch = () => spawnUntilReady('influxd', ['run', '-config', conf, '-pidfile', join(dir, 'influxd.pid')], /Listening on HTTP/, 30_000);
    let child: ChildProcess | null = await launch();
    url = `http://127.0.0.1:${httpPort}`;
    stop = async () => {
      if (child) await stopChild(child, dir);
      else rmSync(dir, { recursive: true, force: true });
    };
    pause = async () => {
      const running = child;
      child = null;
      if (running) await new Promise<void>((resolve) => (running.exitCode !== null ? resolve() : (running.once('exit', () => resolve()), running.kill('SIGTERM'))));
    };
    resume = async () => {
      child = await launch();
    };
    pid = () => child?.pid ?? null;
  }
  const ping = await fetch(`${url}/ping`);
  if (ping.status !== 204) throw new Error(`influxd at ${url} answered /ping with ${ping.status}`);
  return {
    url,
    stop,
    pause: () => pause(),
    resume: () => resume(),
    pid: () => pid(),
    async query(q, db) {
      const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { results: { series?: InfluxSeries[]; error?: string }[] };
      const first = body.results[0];
      if (first?.error) throw new Error(`InfluxQL error: ${first.error}`);
      return first?.series ?? [];
    },
  };
}
