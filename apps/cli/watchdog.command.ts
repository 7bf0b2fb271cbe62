import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadNotifyPolicy } from '#libs/config/index.js';
import { EXIT_BAD_INPUT, UsageError, type CliIo } from './cli-io.js';
import { MonitorWatchdog, type WatchdogState } from './monitor-watchdog.js';

function readState(file: string): WatchdogState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<WatchdogState>;
    return { since: typeof s.since === 'number' ? s.since : null, told: s.told === 'down' ? 'down' : 'up' };
  } catch {
    return undefined;
  }
}

export const WATCHDOG_USAGE = `usage: npm run watchdog -- --url http://monitor:3000 [--every 15] [--down-after 45] [--stale-after 90] [--timeout 5] [--once]
  Looks at the monitor's /health from another host and tells the people on duty (the channels and county/city
  routes of CONFIG_DIR/notify.yaml that take monitoring_chain alarms) when it is unreachable, hung, paused,
  degraded or its heartbeat through the broker is stale, and when it is back. WATCHDOG_TOKEN: an API token of a
  role that reads, for the detail of /health. --once: one check, exit 0 when ok, 1 when not (for cron); what it
  told and since when is kept in --state FILE (default in the temp folder) between runs.`;

const seconds = (name: string, raw: string | undefined, fallback: number): number => {
  if (raw === undefined) return fallback * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} ${raw}: expected a number of seconds above 0`, true);
  return n * 1000;
};

/** `npm run watchdog`: the external watchdog of the monitor (docs/watchdog.md). */
export async function watchdogCommand(args: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { url: { type: 'string' }, every: { type: 'string' }, 'down-after': { type: 'string' }, 'stale-after': { type: 'string' }, timeout: { type: 'string' }, once: { type: 'boolean' }, state: { type: 'string' } },
    });
    const url = (values.url ?? io.env.MONITOR_URL ?? '').replace(/\/$/, '');
    if (!/^https?:\/\//.test(url)) throw new UsageError('--url (or MONITOR_URL): the monitor\'s base URL, e.g. http://monitor:3000', true);
    const policy = loadNotifyPolicy(io.env.CONFIG_DIR ?? './config', io.env);
    if (policy === null) throw new UsageError(`no notify.yaml in ${io.env.CONFIG_DIR ?? './config'}: the watchdog tells the people on duty through its channels and routes (docs/notifications.md)`);
    const everyMs = seconds('every', values.every, 15);
    // Between runs of --once (cron), what was told and since when: one message per outage, and the "back" one.
    const stateFile = values.state ?? join(tmpdir(), `sentinel-watchdog-${createHash('sha256').update(url).digest('hex').slice(0, 12)}.json`);
    let watchdog: MonitorWatchdog;
    try {
      watchdog = new MonitorWatchdog(
        { url, token: io.env.WATCHDOG_TOKEN || null, downAfterMs: seconds('down-after', values['down-after'], 45), staleAfterMs: seconds('stale-after', values['stale-after'], 90), timeoutMs: seconds('timeout', values.timeout, 5) },
        policy,
        (line) => io.out(`${new Date().toISOString()} ${line}`),
        values.once ? readState(stateFile) : undefined,
      );
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    if (values.once) {
      const verdict = await watchdog.check(Date.now());
      writeFileSync(stateFile, JSON.stringify(watchdog.state));
      io.out(verdict.ok ? `ok: ${url}` : `problem: ${verdict.problem}`);
      return verdict.ok ? 0 : 1;
    }
    io.out(`watching ${url} every ${everyMs / 1000} s`);
    while (!signal?.aborted) {
      await watchdog.check(Date.now());
      await new Promise<void>((done) => {
        const t = setTimeout(done, everyMs);
        signal?.addEventListener('abort', () => (clearTimeout(t), done()), { once: true });
      });
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      if (err.showUsage) io.err(WATCHDOG_USAGE);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }
}
