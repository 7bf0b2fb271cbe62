// npm run soak: the built monitor (embedded broker, embedded store, the heap cap `npm start` ships) under hostile
// and broken input for SOAK_MINUTES (default 30), next to one healthy gateway. Prints RSS every 30 s and a summary:
// memory must stay flat and the process alive, every alarm of the healthy gateway must still arrive.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { BENCH_ADMIN_PASSWORD, signIn } from './sign-in.js';
import { freePort } from '#libs/testing/services.js';
import { procMb, sleep } from './measure.js';

const E = '91320594MA1WKTRP3E';
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const random = (): string => Math.random().toString(36).slice(2, 10);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-soak-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--max-old-space-size=96', '--max-semi-space-size=2', resolve('dist/apps/monitor/main.js')], {
    // The shipped settings: chatter and flood protection on, as they would meet a hostile gateway.
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', PORT: String(port), HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), SIMULATE: '0', DATA_DIR: dataDir, LOG_LEVEL: 'fatal', SENTINEL_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD, MQTT_ALLOW_ANONYMOUS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const monitor = { exited: null as number | null };
  child.once('exit', (code) => (monitor.exited = code ?? -1));
  for (let up = false; !up; ) {
    if (monitor.exited !== null) throw new Error(`monitor exited at start (${monitor.exited})`);
    up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (!up) await sleep(100);
  }
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  let alarmsSeen = 0;
  const token = await signIn(port);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?access_token=${token}`);
  ws.on('message', (d: Buffer) => {
    const f = JSON.parse(d.toString()) as { type: string; alarm?: { pointCode: string } };
    if (f.type === 'alarm' && f.alarm?.pointCode === 'T101-TE') alarmsSeen++;
  });
  const gateway = await connectAsync(mqttUrl, { clientId: 'soak-gateway' });
  const hostile = await connectAsync(mqttUrl, { clientId: 'soak-hostile' });
  const end = Date.now() + MINUTES * 60_000;
  let alarmsSent = 0;
  let oversizeRefused = 0;
  const samples: { min: number; rss: number; heap: number }[] = [];
  const start = Date.now();

  const healthy = (async () => {
    // T101-TE crosses HH every two minutes (slower than chatter: at most 3 transitions in 5 min), the rest stays in band.
    const started = Date.now();
    for (let i = 0; Date.now() < end; i++) {
      const phase = Math.floor((Date.now() - started) / 120_000);
      const readings = [{ point: 'T101-PT', value: 5 }, { point: 'T101-LT', value: 50 }, { point: 'T102-TE', value: 20 }, { point: 'T102-LT', value: 50 }];
      readings.push({ point: 'T101-TE', value: phase % 2 === 1 ? 60 : 20 });
      if (i > 0 && phase !== alarmsSent) alarmsSent = phase;
      await gateway.publishAsync(`sites/${E}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings }), { qos: 1 });
      await sleep(20);
    }
  })();
  const hostileInput = (async () => {
    const big = JSON.stringify({ readings: Array.from({ length: 4000 }, () => ({ point: random(), value: Math.random() })) }); // ~200 KiB, under the cap
    for (let i = 0; Date.now() < end; i++) {
      await hostile.publishAsync(`sites/${random()}/${random()}/telemetry`, '{"readings":[{"point":"X","value":1e999}]}', { qos: 1 });
      await hostile.publishAsync(`sites/${E}/${random()}/status`, 'online', { qos: 1 });
      await hostile.publishAsync(`sites/${E}/GW01/telemetry`, `{"ts": ${Date.now() + 3_600_000}, "readings": [{"point": "T102-LT", "value": 50}]}`, { qos: 1 });
      await hostile.publishAsync(`garbage/${random()}`, random(), { qos: 0 });
      if (i % 10 === 0) await hostile.publishAsync(`sites/${E}/GW01/telemetry`, big, { qos: 1 });
      if (i % 50 === 0) {
        // Over the packet cap: the broker must refuse it and drop that client, not parse it.
        const intruder = await connectAsync(mqttUrl, { clientId: `soak-big-${random()}`, reconnectPeriod: 0 }).catch(() => null);
        if (intruder) {
          const closed = new Promise<void>((r) => intruder.once('close', () => r()));
          intruder.publish(`sites/${E}/GW01/telemetry`, Buffer.alloc(2 * 2 ** 20, 0x20), { qos: 0 });
          await Promise.race([closed, sleep(5000)]);
          oversizeRefused += intruder.connected ? 0 : 1;
          intruder.end(true);
        }
        const client = new WebSocket(`ws://127.0.0.1:${port}/ws?access_token=${token}`);
        await new Promise<void>((r) => client.once('open', () => r()).once('error', () => r()));
        if (client.readyState === WebSocket.OPEN) client.send(Buffer.alloc(1 * 2 ** 20, 0x20));
        await sleep(50);
        client.terminate();
      }
      await sleep(50);
    }
  })();
  const heapMb = async (): Promise<number> => {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    return Number(/^sentinel_nodejs_heap_size_used_bytes (\d+)/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
  };
  const sampler = (async () => {
    while (Date.now() < end && monitor.exited === null) {
      await sleep(30_000);
      if (monitor.exited !== null) break;
      const s = { min: (Date.now() - start) / 60_000, rss: procMb(child.pid!, 'VmRSS'), heap: await heapMb() };
      samples.push(s);
      console.log(`${s.min.toFixed(1)} min: RSS ${s.rss.toFixed(0)} MB, heap used ${s.heap.toFixed(0)} MB, alarm changes of the healthy gateway ${alarmsSeen}`);
    }
  })();
  await Promise.all([healthy, hostileInput, sampler]);
  await sleep(2000);
  const firstFive = samples.filter((s) => s.min <= 5).map((s) => s.rss);
  const lastFive = samples.filter((s) => s.min >= MINUTES - 5).map((s) => s.rss);
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  console.log(
    `soak ${MINUTES} min: monitor ${monitor.exited === null ? 'alive' : `EXITED (${monitor.exited})`}; RSS first 5 min ${avg(firstFive).toFixed(0)} MB, last 5 min ${avg(lastFive).toFixed(0)} MB, max ${Math.max(...samples.map((s) => s.rss)).toFixed(0)} MB; ` +
      `heap used first 5 min ${avg(samples.filter((s) => s.min <= 5).map((s) => s.heap)).toFixed(0)} MB, last 5 min ${avg(samples.filter((s) => s.min >= MINUTES - 5).map((s) => s.heap)).toFixed(0)} MB; ` +
      `alarm changes of the healthy gateway seen ${alarmsSeen} (${alarmsSent} sent); oversized publishers dropped ${oversizeRefused}`,
  );
  const died = monitor.exited !== null;
  ws.close();
  await Promise.all([gateway.endAsync(), hostile.endAsync()].map((p: Promise<void | MqttClient>) => p.catch(() => undefined)));
  child.kill('SIGTERM');
  await sleep(1000);
  rmSync(dataDir, { recursive: true, force: true });
  if (died) process.exitCode = 1;
}

await main();
