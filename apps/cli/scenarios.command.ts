import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadScenarios } from '../../simulators/scenario.js';
import { runScenarios, verdictTable } from '../../simulators/scenario-runner.js';
import { DEMO_GATEWAY_PASSWORD } from '../monitor/mqtt-access.js';
import { EXIT_BAD_INPUT, UsageError, type CliIo } from './cli-io.js';

export const SCENARIOS_USAGE = `usage: npm run scenarios -- [--url http://localhost:3000] [--mqtt mqtt://localhost:1883] [--only name,name] [--passwords FILE]
  Plays the staged hazards of simulators/scenarios against a running monitor (run it with SIMULATE=0: the demo
  simulator's readings would mix with the scenarios') and checks over its WebSocket that each raises the alarms it
  must, in time, and none it must not. Prints a table; exit 0 when every expectation holds, 1 when one is missed.
  Signs in with SENTINEL_TOKEN, else SENTINEL_USER (admin) and SENTINEL_PASSWORD. Gateways log in with the
  passwords in --passwords (a JSON object "<enterprise>/<gateway>": "password"), else GATEWAY_PASSWORD, else the
  demo gateways' password.`;

/** \`npm run scenarios\`: the scenario suite against a running monitor. */
export async function scenariosCommand(args: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({ args: [...args], options: { url: { type: 'string' }, mqtt: { type: 'string' }, only: { type: 'string' }, passwords: { type: 'string' }, dir: { type: 'string' } } });
    const apiUrl = (values.url ?? io.env.MONITOR_URL ?? 'http://localhost:3000').replace(/\/$/, '');
    const mqttUrl = values.mqtt ?? io.env.MQTT_URL ?? 'mqtt://localhost:1883';
    let scenarios = loadScenarios(resolve(values.dir ?? 'simulators/scenarios'));
    if (values.only) {
      const wanted = values.only.split(',');
      const unknown = wanted.filter((w) => !scenarios.some((s) => s.name === w));
      if (unknown.length > 0) throw new UsageError(`--only: no scenario ${unknown.join(', ')}; there are ${scenarios.map((s) => s.name).join(', ')}`);
      scenarios = scenarios.filter((s) => wanted.includes(s.name));
    }
    const passwords = values.passwords ? (JSON.parse(readFileSync(values.passwords, 'utf8')) as Record<string, string>) : {};
    const token = io.env.SENTINEL_TOKEN || (await signIn(apiUrl, io.env.SENTINEL_USER || 'admin', io.env.SENTINEL_PASSWORD ?? io.env.SENTINEL_ADMIN_PASSWORD ?? ''));
    const verdicts = await runScenarios(scenarios, {
      mqttUrl,
      apiUrl,
      token,
      password: (e, g) => passwords[`${e}/${g}`] ?? io.env.GATEWAY_PASSWORD ?? DEMO_GATEWAY_PASSWORD,
      log: (line) => io.out(line),
    });
    io.out(verdictTable(verdicts));
    const missed = verdicts.filter((v) => !v.ok).length;
    io.out(`${verdicts.length - missed} of ${verdicts.length} expectations met in ${scenarios.length} scenarios${missed > 0 ? `; ${missed} MISSED` : ''}`);
    return missed === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      io.err(SCENARIOS_USAGE);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }
}

async function signIn(apiUrl: string, username: string, password: string): Promise<string> {
  if (password === '') throw new UsageError('set SENTINEL_TOKEN, or SENTINEL_PASSWORD for SENTINEL_USER (default admin)');
  const res = await fetch(`${apiUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new UsageError(`signing in as ${username} at ${apiUrl} answered HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
