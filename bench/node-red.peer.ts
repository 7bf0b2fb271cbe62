// The peer we measure against: a careful Node-RED flow doing the same job (MQTT QoS 1 in, limit alarms with
// deadband, line protocol batched 5,000 at a time to InfluxDB /write, alarms out on a WebSocket).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Point } from '#libs/contracts/index.js';

const NODE_RED_VERSION = '4.1.8';

export interface NodeRedPeer {
  readonly process: ChildProcess;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

/** Installs node-red into .bench/ once (not a project dependency: only the benchmark uses it). */
function ensureInstalled(): string {
  const dir = resolve('.bench/node-red');
  const red = join(dir, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(red)) {
    mkdirSync(dir, { recursive: true });
    console.log(`installing node-red@${NODE_RED_VERSION} into ${dir} …`);
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', `node-red@${NODE_RED_VERSION}`], { stdio: 'ignore' });
  }
  return red;
}

// The function node's body: per-point H/HH and L/LL with deadband, one alarm per point and side, batched lines.
const RULES_FN = `
const limits = env.get('LIMITS');
const st = flow.get('state') || {};
const buf = flow.get('buf') || [];
const alarms = [];
const e = msg.topic.split('/')[1];
for (const r of msg.payload.readings) {
  const ts = r.ts || msg.payload.ts || Date.now();
  const lim = limits[r.point];
  if (!lim) continue;
  buf.push('reading,enterprise=' + e + ',point=' + r.point + ' value=' + Number(r.value).toFixed(6) + ' ' + ts);
  const db = lim.deadband, v = r.value, key = e + '/' + r.point;
  const prev = st[key] || null;
  let lvl = null;
  if (lim.hh !== null && (v >= lim.hh || (prev === 'HH' && v > lim.hh - db))) lvl = 'HH';
  else if (lim.h !== null && (v >= lim.h || ((prev === 'H' || prev === 'HH') && v > lim.h - db))) lvl = 'H';
  if (lvl !== prev) {
    st[key] = lvl;
    alarms.push({ payload: JSON.stringify({ type: 'alarm', alarm: { pointCode: r.point, type: lvl, value: v, updatedAt: new Date(ts).toISOString() } }) });
  }
}
flow.set('state', st);
let out = null;
if (buf.length >= 5000) { out = { payload: buf.join('\\n') }; flow.set('buf', []); } else flow.set('buf', buf);
return [out, alarms];
`;

const FLUSH_FN = `
const buf = flow.get('buf') || [];
if (buf.length === 0) return null;
flow.set('buf', []);
return { payload: buf.join('\\n') };
`;

export async function startNodeRed(opts: { mqttUrl: string; influxUrl: string; db: string; port: number; points: readonly Point[]; userDir: string }): Promise<NodeRedPeer> {
  const red = ensureInstalled();
  const mqtt = new URL(opts.mqttUrl);
  const limits = Object.fromEntries(opts.points.map((p) => [p.code, { h: p.limits.h, hh: p.limits.hh, deadband: p.deadband }]));
  const flow = [
    { id: 'tab', type: 'tab', label: 'sentinel-peer', env: [{ name: 'LIMITS', type: 'json', value: JSON.stringify(limits) }] },
    { id: 'broker', type: 'mqtt-broker', broker: mqtt.hostname, port: mqtt.port, clientid: 'nodered-bench', usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false, autoConnect: true },
    { id: 'in', type: 'mqtt in', z: 'tab', topic: 'sites/+/+/telemetry', qos: '1', datatype: 'json', broker: 'broker', nl: false, rap: false, inputs: 0, wires: [['rules']] },
    { id: 'rules', type: 'function', z: 'tab', func: RULES_FN, outputs: 2, wires: [['write'], ['wsout']] },
    { id: 'tick', type: 'inject', z: 'tab', repeat: '0.1', once: true, onceDelay: '0.1', wires: [['flush']] },
    { id: 'flush', type: 'function', z: 'tab', func: FLUSH_FN, outputs: 1, wires: [['write']] },
    { id: 'write', type: 'http request', z: 'tab', method: 'POST', ret: 'txt', url: `${opts.influxUrl}/write?db=${opts.db}&precision=ms`, tls: '', persist: true, wires: [[]] },
    { id: 'wsserver', type: 'websocket-listener', path: '/ws/alarms', wholemsg: 'false' },
    { id: 'wsout', type: 'websocket out', z: 'tab', server: 'wsserver', client: '', wires: [] },
  ];
  mkdirSync(opts.userDir, { recursive: true });
  writeFileSync(join(opts.userDir, 'flows.json'), JSON.stringify(flow));
  writeFileSync(
    join(opts.userDir, 'settings.js'),
    `module.exports = { uiPort: ${opts.port}, uiHost: '127.0.0.1', flowFile: 'flows.json', httpAdminRoot: false, credentialSecret: false,
      logging: { console: { level: 'info', metrics: false, audit: false } }, contextStorage: { default: { module: 'memory' } } };`,
  );
  const child = spawn(process.execPath, [red, '--userDir', opts.userDir, '--settings', join(opts.userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolveReady, reject) => {
    let out = '';
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (/Connected to broker/.test(out)) resolveReady();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`node-red exited with ${code}:\n${out.slice(-2000)}`)));
  });
  return {
    process: child,
    wsUrl: `ws://127.0.0.1:${opts.port}/ws/alarms`,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
