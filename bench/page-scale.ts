// npm run bench:page — the command-centre page at national scale, in Debian's Chromium: a 440,000-point registry
// (simulators/national-registry.ts), open alarms across the country, then how long the page takes to settle for a
// city commander and for the national admin, what it fetched, what it holds, and how it copes with an alarm storm
// in the city. Figures go to docs/benchmarks.md by hand from this output.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { launchChromium } from '#libs/testing/chromium.js';
import { loadRegistry } from '#libs/registry/index.js';
import { startMosquitto } from '#libs/testing/services.js';
import { writeNationalRegistry } from '../simulators/national-registry.js';
import { BENCH_ADMIN_PASSWORD } from './sign-in.js';
import { startSentinel } from './targets.js';
import { procMb } from './measure.js';

const POINTS = Number(process.env.BENCH_REGISTRY_POINTS ?? 440_000);
const CITY = '320500'; // Suzhou: counties 320594 and 320581 of the generated registry
const CITY_PASSWORD = 'bench-city-commander-1';
/** Enterprises with an open HH alarm before anyone signs in (one in this many), and the storm's size in the city. */
const ALARM_EVERY = 10;
const STORM = Number(process.env.BENCH_PAGE_STORM ?? 2000);

interface Settled {
  readonly who: string;
  readonly signInMs: number;
  readonly loadMs: number;
  readonly bytes: number;
  readonly decoded: number;
  readonly requests: number;
  readonly wsBytes: number;
  readonly heapMb: number;
  readonly nodes: number;
  readonly alarms: string;
  readonly mapMode: string;
  readonly marks: string;
}

async function settle(page: Page, base: string, who: string, password: string, alarmsExpected: number): Promise<Settled> {
  let wsBytes = 0;
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => (wsBytes += Buffer.byteLength(payload))));
  const tLoad = Date.now();
  await page.goto(base);
  await page.locator('#login-form').waitFor();
  const loadMs = Date.now() - tLoad;
  await page.evaluate(() => performance.clearResourceTimings());
  await page.fill('#login-username', who);
  await page.fill('#login-password', password);
  const t0 = Date.now();
  await page.click('#login-submit');
  await page.locator('body[data-ready="1"]').waitFor({ timeout: 60_000 });
  await page.waitForFunction((n) => Number(document.getElementById('alarm-count')?.textContent) >= n && document.querySelectorAll('tr.alarm').length > 0, alarmsExpected, { timeout: 60_000 });
  const signInMs = Date.now() - t0;
  const resources = await page.evaluate(() => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => [r.encodedBodySize, r.decodedBodySize] as const));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN;
  return {
    who,
    signInMs,
    loadMs,
    bytes: resources.reduce((a, [b]) => a + b, 0),
    decoded: resources.reduce((a, [, b]) => a + b, 0),
    requests: resources.length,
    wsBytes,
    heapMb: metric('JSHeapUsedSize') / 2 ** 20,
    nodes: metric('Nodes'),
    alarms: (await page.locator('#alarm-count').textContent()) ?? '',
    mapMode: (await page.locator('#map').getAttribute('data-mode')) ?? '',
    marks: (await page.locator('#map').getAttribute('data-marks')) ?? '',
  };
}

const line = (s: Settled): string =>
  `${s.who}: sign-in form ${s.loadMs} ms after navigation (${s.who === 'city' ? 'first load' : 'bundle cached'}); settled ${s.signInMs} ms after sign-in; ` +
  `fetched ${(s.bytes / 1024).toFixed(0)} KiB gzipped (${(s.decoded / 1024).toFixed(0)} KiB of JSON) in ${s.requests} requests + ${(s.wsBytes / 1024).toFixed(0)} KiB over the WebSocket; ` +
  `JS heap ${s.heapMb.toFixed(1)} MB, ${s.nodes} DOM nodes; ${s.alarms} open alarms; map by ${s.mapMode} (${s.marks} marks)`;

async function publishHh(pub: MqttClient, enterprises: readonly string[], value: number): Promise<void> {
  for (const e of enterprises) await pub.publishAsync(`sites/${e}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: [{ point: 'P001-GAS', value }, { point: 'P025-H2S', value: value > 50 ? 60 : 0 }] }), { qos: 1 });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sentinel-page-bench-'));
  const configDir = join(work, 'config');
  const made = writeNationalRegistry(configDir, { points: POINTS, format: 'yaml' });
  cpSync(resolve('config/profiles'), join(configDir, 'profiles'), { recursive: true });
  for (const f of ['escalation.yaml', 'risk.yaml']) cpSync(resolve('config', f), join(configDir, f));
  const registry = loadRegistry(configDir);
  const enterprises = registry.allEnterprises();
  const inCity = enterprises.filter((e) => e.region.city === CITY).map((e) => e.code);
  console.log(`registry: ${made.points.toLocaleString('en')} points, ${made.enterprises.toLocaleString('en')} enterprises; ${inCity.length} enterprises in city ${CITY}`);

  const mosquitto = await startMosquitto();
  const dataDir = join(work, 'data');
  const sentinel = await startSentinel({ mqttUrl: mosquitto.url, influxUrl: null, dataDir, configDir, heapMb: 384 });
  const base = new URL(sentinel.wsUrl.replace(/^ws/, 'http')).origin;
  execFileSync(process.execPath, [resolve('dist/apps/cli/users.js'), 'add', 'city', '--role', 'commander', '--jurisdiction', CITY], { env: { ...process.env, DATA_DIR: dataDir, CONFIG_DIR: configDir, SENTINEL_USER_PASSWORD: CITY_PASSWORD }, stdio: 'inherit' });
  const pub = await connectAsync(mosquitto.url, { clientId: 'bench-page-pub' });
  (pub.stream as Socket).setNoDelay(true);
  // Open alarms across the country: one enterprise in ALARM_EVERY has two points past HH.
  const alarming = enterprises.filter((_, i) => i % ALARM_EVERY === 0).map((e) => e.code);
  await publishHh(pub, alarming, 80);
  const expectCity = alarming.filter((e) => inCity.includes(e)).length * 2;
  console.log(`open alarms: ${alarming.length * 2} across the country, ${expectCity} in the city; Sentinel RSS ${procMb(sentinel.process.pid!, 'VmRSS').toFixed(0)} MB`);

  const chromium = await launchChromium({ viewport: { width: 1600, height: 1000 }, args: ['--enable-precise-memory-info'] });
  const browser = chromium.browser;
  try {
    for (const [who, password, expected] of [['city', CITY_PASSWORD, expectCity], ['admin', BENCH_ADMIN_PASSWORD, alarming.length * 2]] as const) {
      await browser.clearCookies();
      const page = await browser.newPage();
      const s = await settle(page, base, who, password, expected);
      console.log(line(s));
      if (who === 'city') {
        // An alarm storm in the city: every enterprise there raises two HH alarms; how long until the console holds
        // them all, and the longest task the page ran meanwhile.
        await page.evaluate(() => {
          const w = window as unknown as { longTasks: number[] };
          w.longTasks = [];
          new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask', buffered: false });
        });
        const storm = inCity.slice(0, Math.ceil(STORM / 2));
        const target = Number(s.alarms) + storm.filter((e) => !alarming.includes(e)).length * 2;
        const t0 = Date.now();
        await publishHh(pub, storm, 80);
        const published = Date.now() - t0;
        await page.waitForFunction((n) => Number(document.getElementById('alarm-count')?.textContent) >= n, target, { timeout: 120_000 });
        const tasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
        const rows = await page.locator('tr.alarm').count();
        console.log(
          `city storm: ${target - Number(s.alarms)} new alarms published in ${published} ms, all on the console ${Date.now() - t0} ms after the first; ` +
            `${rows} table rows drawn (virtualised); long tasks ${tasks.length}, longest ${Math.round(Math.max(0, ...tasks))} ms`,
        );
      }
      await page.close();
    }
  } finally {
    await chromium.close();
    await pub.endAsync();
    await sentinel.stop();
    await mosquitto.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
