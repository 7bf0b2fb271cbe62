// The peers we measure against, two Node-RED flows doing the same job (MQTT QoS 1 in, limit alarms with deadband,
// readings to InfluxDB, alarms out on a WebSocket). The careful one batches line protocol 5,000 lines at a time to
// InfluxDB /write; the naive one, as most people build it, splits each message into its readings and writes each
// through node-red-contrib-influxdb's `influxdb out` node.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Point } from '#libs/contracts/index.js';

const NODE_RED_VERSION = '4.1.8';
const INFLUXDB_NODES_VERSION = '0.7.0';

export type FlowKind = 'batching' | 'naive';

export interface NodeRedPeer {
  readonly process: ChildProcess;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

/**
 * Installs node-red and node-red-contrib-influxdb into .bench/ once (not project dependencies: only the benchmark
 * uses them). Node-RED finds the influxdb nodes there, beside itself. Both go in one `npm install`: a later
 * `--no-save` install would prune the other as extraneous.
 */
function ensureInstalled(): string {
  const dir = resolve('.bench/node-red');
  const red = join(dir, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(red) || !existsSync(join(dir, 'node_modules', 'node-red-contrib-influxdb', 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    const packages = [`node-red@${NODE_RED_VERSION}`, `node-red-contrib-influxdb@${INFLUXDB_NODES_VERSION}`];
    console.log(`installing ${packages.join(', ')} into ${dir} …`);
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', ...packages], { stdio: 'ignore' });
  }
  return red;
}

// Both flows' level check: `lvl` of reading `r` of enterprise `e` against its limits `lim`, with deadband from its level in `st`.
const LEVEL_JS = `
  const db = lim.deadband, v = r.value, key = e + '/' + r.point;
  const prev = st[key] || null;
  let lvl = null;
  if (lim.hh !== null && (v >= lim.hh || (prev === 'HH' && v > lim.hh - db))) lvl = 'HH';
  else if (lim.h !== null && (v >= lim.h || ((prev === 'H' || prev === 'HH') && v > lim.h - db))) lvl = 'H';
`;

const ALARM_JS = `{ payload: JSON.stringify({ type: 'alarm', alarm: { pointCode: r.point, type: lvl, value: v, updatedAt: new Date(ts).toISOString() } }) }`;

// The batching flow's function node: per-point H/HH with deadband, one alarm per point and side, batched lines.
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
${LEVEL_JS}
  if (lvl !== prev) {
    st[key] = lvl;
    alarms.push(${ALARM_JS});
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

// The naive flow's function node, once per reading (the split node put it in msg.payload.readings): the same
// levels, and the reading as [fields, tags] for `influxdb out`, its own ts as the point's time.
const READING_FN = `
const r = msg.payload.readings;
const lim = env.get('LIMITS')[r.point];
if (!lim) return null;
const e = msg.topic.split('/')[1];
const ts = r.ts || msg.payload.ts || Date.now();
const st = flow.get('state') || {};
${LEVEL_JS}
let alarm = null;
if (lvl !== prev) {
  st[key] = lvl;
  flow.set('state', st);
  alarm = ${ALARM_JS};
}
msg.payload = [{ value: Number(r.value), time: ts }, { enterprise: e, point: r.point }];
return [msg, alarm];
`;

type FlowNode = { readonly id: string; readonly type: string } & Record<string, unknown>;

/** The careful flow after `mqtt in`: all readings of a message at once, line protocol batched to InfluxDB /write. */
function batchingNodes(influxUrl: string, db: string): FlowNode[] {
  return [
    { id: 'rules', type: 'function', z: 'tab', func: RULES_FN, outputs: 2, wires: [['write'], ['wsout']] },
    { id: 'tick', type: 'inject', z: 'tab', repeat: '0.1', once: true, onceDelay: '0.1', wires: [['flush']] },
    { id: 'flush', type: 'function', z: 'tab', func: FLUSH_FN, outputs: 1, wires: [['write']] },
    { id: 'write', type: 'http request', z: 'tab', method: 'POST', ret: 'txt', url: `${influxUrl}/write?db=${db}&precision=ms`, tls: '', persist: true, wires: [[]] },
  ];
}

/** The naive flow after `mqtt in`: split into readings, one function run and one `influxdb out` write per reading. */
function naiveNodes(influxUrl: string, db: string): FlowNode[] {
  const influx = new URL(influxUrl);
  // No id may equal a node type: Node-RED takes a config node whose type names itself for a circular dependency.
  return [
    { id: 'each-reading', type: 'split', z: 'tab', property: 'payload.readings', splt: '\\n', spltType: 'str', arraySplt: 1, arraySpltType: 'len', stream: false, addname: '', wires: [['reading']] },
    { id: 'reading', type: 'function', z: 'tab', func: READING_FN, outputs: 2, wires: [['write'], ['wsout']] },
    { id: 'influx-server', type: 'influxdb', hostname: influx.hostname, port: influx.port, protocol: 'http', database: db, name: '', usetls: false, tls: '', influxdbVersion: '1.x', url: influxUrl, rejectUnauthorized: false },
    { id: 'write', type: 'influxdb out', z: 'tab', influxdb: 'influx-server', name: '', measurement: 'reading', precision: 'ms', retentionPolicy: '', database: '', precisionV18FluxV20: 'ms', retentionPolicyV18Flux: '', org: '', bucket: '', wires: [] },
  ];
}

export async function startNodeRed(opts: { flow: FlowKind; mqttUrl: string; influxUrl: string; db: string; port: number; points: readonly Point[]; userDir: string }): Promise<NodeRedPeer> {
  const red = ensureInstalled();
  const mqtt = new URL(opts.mqttUrl);
  const limits = Object.fromEntries(opts.points.map((p) => [p.code, { h: p.limits.h, hh: p.limits.hh, deadband: p.deadband }]));
  const nodes = (opts.flow === 'batching' ? batchingNodes : naiveNodes)(opts.influxUrl, opts.db);
  const flow = [
    { id: 'tab', type: 'tab', label: 'sentinel-peer', env: [{ name: 'LIMITS', type: 'json', value: JSON.stringify(limits) }] },
    { id: 'broker', type: 'mqtt-broker', broker: mqtt.hostname, port: mqtt.port, clientid: `nodered-${opts.flow}-bench`, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false, autoConnect: true },
    { id: 'in', type: 'mqtt in', z: 'tab', topic: 'sites/+/+/telemetry', qos: '1', datatype: 'json', broker: 'broker', nl: false, rap: false, inputs: 0, wires: [[nodes[0]!.id]] },
    ...nodes,
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
      // A node type Node-RED could not load keeps the whole flow stopped, so it would never connect.
      if (/Waiting for missing types/.test(out)) reject(new Error(`node-red is missing node types:\n${out.slice(-2000)}`));
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
