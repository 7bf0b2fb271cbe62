import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNotifyPolicy } from '#libs/config/index.js';
import { freePort } from '#libs/testing/services.js';
import { HttpReceiver } from '#libs/testing/receivers.js';
import { MonitorWatchdog } from '#apps/cli/monitor-watchdog.js';
import { watchdogCommand } from '#apps/cli/watchdog.command.js';
import type { CliIo } from '#apps/cli/cli-io.js';
import { login } from './support/auth.js';
import { buildMonitor, startMonitorProcess } from './support/monitor-process.js';

const ADMIN_PASSWORD = 'watchdog-admin-password-1';

/**
 * The external watchdog (`npm run watchdog`) against the monitor run as `npm start` runs it, in its own process:
 * paused (SIGSTOP) it answers nothing and the people on duty are told; resumed, told it is back; killed, told again.
 */
describe('external watchdog of the monitor process', () => {
  let http: HttpReceiver;
  let monitor: ChildProcess;
  let url: string;
  let token: string;
  let dir: string;
  let configDir: string;

  beforeAll(async () => {
    // The monitor as shipped: compiled, in a process of its own (the page is built by the tests' global setup).
    buildMonitor();
    http = await HttpReceiver.start();
    dir = mkdtempSync(join(tmpdir(), 'sentinel-watchdog-ext-'));
    configDir = join(dir, 'config');
    cpSync(resolve('config'), configDir, { recursive: true });
    writeFileSync(
      join(configDir, 'notify.yaml'),
      `notify:
  channels:
    - { name: ops-hook, type: webhook, url: "${http.url}/ops", secretFrom: OPS_HOOK_SECRET }
  routes:
    - { level: city, region: "320500", on: [raise], severities: [critical], conditions: [monitoring_chain], channels: [ops-hook], roster: { shifts: [{ name: 平台值班 ops, from: "00:00", to: "00:00" }] } }
`,
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    monitor = await startMonitorProcess(port, { MQTT_PORT: String(await freePort()), DATA_DIR: join(dir, 'data'), CONFIG_DIR: resolve('config'), SENTINEL_ADMIN_PASSWORD: ADMIN_PASSWORD, WATCHDOG_INTERVAL_S: '1' });
    const session = (await login(url, 'admin', ADMIN_PASSWORD)).token;
    const res = await fetch(`${url}/api/auth/tokens`, { method: 'POST', headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'watchdog', role: 'viewer', jurisdiction: { all: true } }) });
    token = ((await res.json()) as { token: string }).token;
  }, 120_000);

  afterAll(async () => {
    if (monitor && monitor.exitCode === null) {
      monitor.kill('SIGCONT');
      monitor.kill('SIGKILL');
    }
    await http?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('tells the people on duty when the monitor is paused, when it is back, and when it is killed', async () => {
    const policy = loadNotifyPolicy(configDir, { OPS_HOOK_SECRET: 'ops-secret' })!;
    const lines: string[] = [];
    const watchdog = new MonitorWatchdog({ url, token, downAfterMs: 2000, staleAfterMs: 5000, timeoutMs: 1000 }, policy, (l) => lines.push(l));
    // Healthy, heartbeat fresh: nothing to tell.
    await expect.poll(async () => (await watchdog.check(Date.now())).ok, { timeout: 10_000 }).toBe(true);
    expect(http.received).toHaveLength(0);

    monitor.kill('SIGSTOP');
    const first = await watchdog.check(Date.now());
    expect(first).toEqual({ ok: false, problem: `monitor at ${url} did not answer /health within 1 s (hung or paused)` });
    expect(http.received).toHaveLength(0); // not yet down for 2 s
    await new Promise((r) => setTimeout(r, 1500));
    await watchdog.check(Date.now());
    expect(http.received).toHaveLength(1);
    const down = JSON.parse(http.received[0]!.body) as { title: string; text: string; severity: string; recipient: { name: string } };
    expect(down).toMatchObject({ severity: 'critical', recipient: { name: '平台值班 ops' } });
    expect(down.text).toContain('监测平台异常 monitor down or blind: monitor at');
    expect(down.text).toContain('(hung or paused)');

    monitor.kill('SIGCONT');
    await expect.poll(async () => (await watchdog.check(Date.now())).ok, { timeout: 15_000 }).toBe(true);
    expect(http.received).toHaveLength(2);
    expect(JSON.parse(http.received[1]!.body) as { kind: string; text: string }).toMatchObject({ kind: 'recovery', title: '【Sentinel】监测平台恢复 monitor back' });

    // The command for cron: exit 0 while ok, 1 once the monitor is gone.
    const io = (out: string[]): CliIo => ({ env: { CONFIG_DIR: configDir, OPS_HOOK_SECRET: 'ops-secret', WATCHDOG_TOKEN: token }, readStdin: () => Promise.resolve(''), out: (l) => out.push(l), err: (l) => out.push(l) });
    const okOut: string[] = [];
    const state = join(dir, 'watchdog-state.json');
    expect(await watchdogCommand(['--url', url, '--once', '--state', state], io(okOut))).toBe(0);
    expect(okOut.at(-1)).toBe(`ok: ${url}`);
    monitor.kill('SIGKILL');
    await new Promise((r) => monitor.once('exit', r));
    const goneOut: string[] = [];
    // From cron: the first run sees the problem, a run past --down-after tells once, the next ones do not repeat it.
    const before = http.received.length;
    expect(await watchdogCommand(['--url', url, '--once', '--state', state, '--down-after', '0.5'], io(goneOut))).toBe(1);
    expect(goneOut.at(-1)).toMatch(new RegExp(`^problem: monitor at ${url.replace(/[.]/g, '\\.')} unreachable \\(`));
    expect(http.received.length).toBe(before);
    await new Promise((r) => setTimeout(r, 600));
    for (let run = 0; run < 3; run++) expect(await watchdogCommand(['--url', url, '--once', '--state', state, '--down-after', '0.5'], io(goneOut))).toBe(1);
    expect(http.received.length).toBe(before + 1);
    const told = JSON.parse(http.received.at(-1)!.body) as { kind: string; title: string };
    expect(told).toMatchObject({ kind: 'raise', title: '【Sentinel】监测平台异常 monitor down or blind' });
  });
});
