import type { Socket } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import type { Alarm } from '#libs/contracts/index.js';
import { durationS, judge, resetMessage, stepMessages, type Scenario, type ScenarioStep, type Seen, type Verdict } from './scenario.js';

export interface RunnerOptions {
  /** The broker the gateways publish to. */
  readonly mqttUrl: string;
  /** The monitor's base URL, and an API token that reads (for the WebSocket of alarms). */
  readonly apiUrl: string;
  readonly token: string;
  /** A gateway's password (it then logs in as `<enterprise>/<gateway>`); undefined: anonymous. */
  readonly password?: (enterprise: string, gateway: string) => string | undefined;
  readonly log?: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The alarm changes the monitor pushes from now on, each with the seconds since `t0`. */
async function watchAlarms(o: RunnerOptions, t0: () => number): Promise<{ seen: Seen[]; close(): void }> {
  const ws = new WebSocket(`${o.apiUrl.replace(/^http/, 'ws')}/ws?values=none`, { headers: { authorization: `Bearer ${o.token}` } });
  const seen: Seen[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { type: string; event?: string; alarm?: Alarm };
      if (frame.type === 'snapshot') resolve();
      if (frame.type === 'alarm' && frame.alarm) seen.push({ event: frame.event ?? '', alarm: frame.alarm, atS: (Date.now() - t0()) / 1000 });
    });
  });
  return { seen, close: () => ws.close() };
}

/** One MQTT client per gateway, as a real one: retained `online`, `offline` as its will. */
async function gatewayClient(o: RunnerOptions, enterprise: string, gateway: string): Promise<MqttClient> {
  const key = `${enterprise}/${gateway}`;
  const password = o.password?.(enterprise, gateway);
  const client = await connectAsync(o.mqttUrl, {
    clientId: `scenario-${key.replace('/', '-')}-${Date.now()}`,
    will: { topic: `sites/${key}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
    reconnectPeriod: 0,
    ...(password !== undefined && { username: key, password }),
  });
  await client.publishAsync(`sites/${key}/status`, 'online', { qos: 1, retain: true });
  return client;
}

async function play(step: ScenarioStep, enterprise: string, client: MqttClient): Promise<void> {
  const topic = `sites/${enterprise}/${step.gateway}`;
  if (step.status === 'drop') {
    // Cut without DISCONNECT: the broker publishes the gateway's will.
    (client.stream as Socket).destroy();
    return;
  }
  if (step.status !== undefined) await client.publishAsync(`${topic}/status`, step.status, { qos: 1, retain: true });
  for (const message of stepMessages(step, Date.now())) await client.publishAsync(`${topic}/telemetry`, JSON.stringify(message), { qos: 1 });
}

/** Plays one scenario against the monitor and judges what it raised. */
export async function runScenario(s: Scenario, o: RunnerOptions): Promise<Verdict[]> {
  let t0 = Date.now();
  const watch = await watchAlarms(o, () => t0);
  const clients = new Map<string, MqttClient>();
  const clientOf = async (gateway: string): Promise<MqttClient> => {
    let c = clients.get(gateway);
    if (c === undefined || !c.connected) {
      c = await gatewayClient(o, s.enterprise, gateway);
      clients.set(gateway, c);
    }
    return c;
  };
  try {
    for (const g of new Set(s.steps.map((x) => x.gateway))) await clientOf(g);
    t0 = Date.now();
    for (const step of [...s.steps].sort((a, b) => a.at - b.at)) {
      const wait = t0 + step.at * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      await play(step, s.enterprise, await clientOf(step.gateway));
    }
    const end = t0 + durationS(s) * 1000;
    // Done early once every must is met and the mustNots have had a second to show.
    while (Date.now() < end && !judge(s, watch.seen).every((v) => v.ok)) await sleep(200);
    await sleep(1000);
    const verdicts = judge(s, watch.seen);
    for (const [gateway, readings] of Object.entries(s.reset)) {
      const c = await clientOf(gateway);
      await c.publishAsync(`sites/${s.enterprise}/${gateway}/telemetry`, JSON.stringify(resetMessage(readings, Date.now())), { qos: 1 });
    }
    return verdicts;
  } finally {
    for (const [gateway, c] of clients) {
      if (c.connected) await c.publishAsync(`sites/${s.enterprise}/${gateway}/status`, 'online', { qos: 1, retain: true }).catch(() => undefined);
      await c.endAsync().catch(() => undefined);
    }
    watch.close();
  }
}

/** Every scenario in turn (but those only the standard day plays); the verdicts of all. */
export async function runScenarios(scenarios: readonly Scenario[], o: RunnerOptions): Promise<Verdict[]> {
  const all: Verdict[] = [];
  for (const s of scenarios) {
    if (s.dayOnly) {
      o.log?.(`scenario ${s.name}: skipped, played by npm run standard-day only`);
      continue;
    }
    o.log?.(`scenario ${s.name}: ${s.description}`);
    all.push(...(await runScenario(s, o)));
  }
  return all;
}

/** The verdicts as a plain table. */
export function verdictTable(verdicts: readonly Verdict[]): string {
  const rows = verdicts.map((v) => [v.ok ? 'ok  ' : 'MISS', v.scenario, v.expectation, v.detail]);
  const widths = [4, ...[1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 8))];
  return rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n');
}
