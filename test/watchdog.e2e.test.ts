import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '#libs/contracts/index.js';
import { startMosquitto, type TestService } from '#libs/testing/services.js';
import { HttpReceiver } from '#libs/testing/receivers.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import type { HealthView } from '#apps/monitor/api.controllers.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';

/**
 * The watchdog of the monitoring chain against real mosquitto: heartbeats go round through the broker every second;
 * a hung broker (SIGSTOP: its sockets stay open, nothing flows) raises a critical monitoring_chain alarm within
 * three intervals, told on a channel that does not go through the broker; the broker back clears it.
 */
describe('watchdog of the monitoring chain', () => {
  let mosquitto: TestService;
  let http: HttpReceiver;
  let monitor: RunningMonitor;
  let fetch: typeof globalThis.fetch;
  let configDir: string;

  beforeAll(async () => {
    [mosquitto, http] = await Promise.all([startMosquitto(), HttpReceiver.start()]);
    configDir = mkdtempSync(join(tmpdir(), 'sentinel-watchdog-config-'));
    cpSync(resolve('config'), configDir, { recursive: true });
    writeFileSync(
      join(configDir, 'notify.yaml'),
      `notify:
  channels:
    - { name: ops-hook, type: webhook, url: "${http.url}/ops" }
  routes:
    - { level: city, region: "320500", on: [raise], severities: [critical, major], conditions: [monitoring_chain, storage_unavailable], channels: [ops-hook], roster: { shifts: [{ name: 值班 ops, from: "00:00", to: "00:00" }] } }
`,
    );
    monitor = await startMonitor(testConfig({ mqttUrl: mosquitto.url, configDir, rules: { ...testConfig().rules, tickMs: 200, watchdogIntervalS: 1 } }));
    fetch = await signedIn(monitor.url);
  });

  afterAll(async () => {
    const pid = mosquitto?.pid?.();
    if (pid) process.kill(pid, 'SIGCONT');
    await monitor?.close();
    await Promise.all([mosquitto?.stop(), http?.close()]);
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  const health = async (): Promise<HealthView> => (await (await fetch(`${monitor.url}/health`)).json()) as HealthView;
  const chainAlarm = async (): Promise<Alarm | undefined> => ((await (await fetch(`${monitor.url}/api/alarms?state=open&condition=monitoring_chain`)).json()) as Alarm[])[0];

  it('sees its heartbeat come back through the broker', async () => {
    await expect.poll(async () => (await health()).chain?.lastBackAt ?? null).not.toBeNull();
    const h = await health();
    expect(h).toMatchObject({ status: 'ok', chain: { ok: true, intervalS: 1, problem: null } });
    expect(h.chain!.roundTripMs).toBeLessThan(1000);
    expect(await (await fetch(`${monitor.url}/metrics`)).text()).toMatch(/^sentinel_heartbeat_last_back_timestamp_seconds \d/m);
  });

  it('raises a critical monitoring_chain alarm when the broker hangs, tells the people on duty, and clears it when the broker is back', async () => {
    const pid = mosquitto.pid!()!;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    await expect.poll(chainAlarm, { timeout: 10_000 }).toBeDefined();
    const raisedAfterMs = Date.now() - stoppedAt;
    const alarm = (await chainAlarm())!;
    expect(alarm).toMatchObject({ condition: 'monitoring_chain', severity: 'critical', status: 'ACTIVE_UNACK', originatorKind: 'system', originatorCode: 'chain-broker', enterpriseCode: 'system' });
    expect(alarm.message).toContain('monitoring chain stalled at the broker');
    expect(raisedAfterMs).toBeLessThan(8000); // bound: three 1 s intervals and the tick that sees it, with room for a busy machine
    const h = await health();
    expect(h.status).toBe('degraded');
    expect(h.chain?.problem).toContain('no heartbeat back through the broker');
    // The webhook does not go through the broker: the people on duty hear of it while it is hung.
    await http.taken(1);
    const told = JSON.parse(http.received[0]!.body) as { alarmId: string; title: string; severity: string };
    expect(told).toMatchObject({ alarmId: alarm.id, severity: 'critical' });
    expect(told.title).toContain('紧急 critical');

    process.kill(pid, 'SIGCONT');
    await expect.poll(async () => (await chainAlarm())?.status, { timeout: 15_000 }).toBe('CLEARED_UNACK');
    await expect.poll(async () => (await health()).status, { timeout: 10_000 }).toBe('ok');
  });
});
