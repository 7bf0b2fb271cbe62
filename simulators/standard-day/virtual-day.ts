import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { install, type Clock } from '@sinonjs/fake-timers';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { EnterpriseReport, IsaFigures } from '#libs/alarms/index.js';
import type { Alarm, AlarmSeverity, Point } from '#libs/contracts/index.js';
import { loadEnvConfig } from '#libs/config/index.js';
import { startMonitor, type RunningMonitor } from '../../apps/monitor/monitor.js';
import type { DataQuality } from '../../apps/monitor/data-quality.js';
import { judge, loadScenarios, resetMessage, stepMessages, type Seen, type Verdict } from '../scenario.js';
import { signalOf, type Signal } from '../signals.js';
import { planDay, OFFLINE_HOLD_S, type StagedHazard } from './day-plan.js';
import { writeDayRegistry, type DayEnterprise } from './day-registry.js';
import { operatorResponse } from './operator.js';

export interface DayOptions {
  readonly enterprises: number;
  readonly hours: number;
  readonly seed: number;
  /** The demo sites to copy (`<configDir>/sites/demo.yaml`) and the profiles, escalation and risk settings. */
  readonly configDir: string;
  readonly scenariosDir: string;
  /** The standard day's own sites besides the demo ones (simulators/standard-day/sites.yaml), for `dayOnly` scenarios. */
  readonly extraSitesFile?: string;
  /** A fresh folder for the day's registry and stores. */
  readonly workDir: string;
  /** The day's start (epoch ms) on the virtual clock. */
  readonly startAt: number;
  readonly log: (line: string) => void;
}

/** A staged hazard and what became of it. */
export interface HazardOutcome {
  readonly hazard: StagedHazard;
  readonly verdicts: readonly Verdict[];
}

/** The answer of GET /api/reports/alarms. */
export interface AlarmReportAnswer {
  readonly from: string;
  readonly to: string;
  readonly enterprises: readonly EnterpriseReport[];
  readonly isa: IsaFigures;
}

export interface DayResult {
  readonly options: Omit<DayOptions, 'log'>;
  readonly from: number;
  readonly to: number;
  readonly enterprises: readonly DayEnterprise[];
  readonly points: number;
  readonly hazards: readonly HazardOutcome[];
  /** Scenarios the day had no room for (too short, too few copies of their site). */
  readonly unstaged: readonly string[];
  readonly report: AlarmReportAnswer;
  readonly dataQuality: readonly DataQuality[];
  /** Every alarm raised during the day, as GET /api/alarms lists it. */
  readonly alarms: readonly Alarm[];
  readonly operator: { readonly acknowledged: number; readonly disposed: number; readonly refused: number };
  readonly published: { readonly messages: number; readonly readings: number };
  /** Wall-clock seconds the day took to play. */
  readonly playedInS: number;
}

interface Frame {
  readonly event: string;
  readonly alarm: Alarm;
  /** When the console got it (virtual time): what an operator sees, as the scenario runner times it. */
  readonly at: number;
}


const realSetTimeout = globalThis.setTimeout;
const clearRealTimeout = globalThis.clearTimeout;
const BOOT_MS = 5_000;
const realPause = (ms: number): Promise<void> => new Promise((resolve) => realSetTimeout(resolve, ms));

/** Resolves `p` (boot, shutdown) while moving the virtual clock on by a millisecond each time it still waits on a timer. */
async function pump<T>(clock: Clock, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => {
    done = true;
  });
  settled.catch(() => undefined);
  while (!done) {
    await Promise.race([settled.then(() => undefined, () => undefined), realPause(20)]);
    if (!done) await clock.tickAsync(1);
  }
  return settled;
}

/**
 * Resolves `p`, I/O of the day (a publish, an HTTP call), on real time only: the virtual clock stands still, so
 * that every run of the same day sees the same moments. A wait on a virtual timer would never end: after 30 s of
 * real time it fails, naming what waited.
 */
async function io<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof realSetTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = realSetTimeout(() => reject(new Error(`${what}: no answer after 30 s of real time`)), 30_000);
  });
  try {
    return await Promise.race([p, stuck]);
  } finally {
    clearRealTimeout(timer);
  }
}

/** The next turn of the real event loop (I/O), whatever the virtual clock does. */
const realTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Gateway {
  client: MqttClient | null = null;
  nextAt: number;
  /** Virtual time until which a cut gateway stays away. */
  awayUntil = 0;
  /** How far its clock runs ahead while a staged hazard sets it fast (ms). */
  clockAheadMs = 0;

  constructor(
    readonly enterprise: string,
    readonly code: string,
    readonly periodMs: number,
    readonly points: readonly { readonly point: Point; readonly signal: Signal }[],
    firstAt: number,
  ) {
    this.nextAt = firstAt;
  }

  get topic(): string {
    return `sites/${this.enterprise}/${this.code}`;
  }
}

/**
 * Plays a standard day against a monitor started in this process on a virtual clock: every `Date` and timer of the
 * process (the monitor's, the broker's, the gateways') runs on it, and the clock moves to each next event only when
 * the monitor has taken in every message published so far. A day therefore takes minutes, not 24 hours, and the
 * same options give the same day. Gateways publish realistic signals over MQTT (one client each, with its will),
 * the staged hazards are played at their times, and a duty operator acknowledges and disposes of alarms over the
 * REST API. At the end the day's figures are read from the monitor's own report, data-quality and alarm APIs.
 */
export async function playStandardDay(o: DayOptions): Promise<DayResult> {
  const wallStart = performance.now();
  const configDir = join(o.workDir, 'config');
  const enterprises = writeDayRegistry(configDir, o.configDir, o.enterprises, o.extraSitesFile);
  const scenarios = loadScenarios(o.scenariosDir);
  const hazards = planDay(enterprises, scenarios, o.hours, o.seed);
  const unstaged = scenarios.map((s) => s.name).filter((n) => !hazards.some((h) => h.scenario.name === n));
  o.log(`standard day: ${enterprises.length} enterprises, ${o.hours} h, ${hazards.length} staged hazards, seed ${o.seed}`);
  if (unstaged.length > 0) o.log(`not staged (no room in this day, or no copy of their site): ${unstaged.join(', ')}`);
  // Boot, sign-in and connections take the seconds before the day, so that the day itself starts on the dot.
  const clock = install({ now: o.startAt - BOOT_MS, toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  const password = randomBytes(18).toString('base64url');
  let monitor: RunningMonitor | null = null;
  const gateways: Gateway[] = [];
  let ws: WebSocket | null = null;
  try {
    const config = loadEnvConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      MQTT_PORT: '0',
      SIMULATE: '0',
      CONFIG_WATCH: '0',
      CONFIG_DIR: configDir,
      DATA_DIR: join(o.workDir, 'data'),
      DATA_QUALITY_WINDOW_MIN: String(Math.min(1440, Math.max(10, Math.round(o.hours * 60)))),
      SESSION_TTL_MIN: '43200',
      SENTINEL_ADMIN_PASSWORD: password,
      MQTT_ALLOW_ANONYMOUS: '1',
      LOG_LEVEL: 'error',
    });
    const started = await io('starting the monitor', startMonitor(config, { log: pino({ level: 'error' }) }));
    monitor = started;
    const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<{ status: number; json: T }> => {
      const res = await io(
        `${method} ${path}`,
        fetch(`${started.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        }),
      );
      return { status: res.status, json: (await io(`${method} ${path}`, res.json())) as T };
    };
    const login = await api<{ token: string }>('POST', '/api/auth/login', { username: 'admin', password });
    if (login.status !== 200) throw new Error(`the day's monitor refused its admin (HTTP ${login.status})`);
    const token = login.json.token;
    const policy = (await api<{ disposalRequired: AlarmSeverity[] }>('GET', '/api/alarms/policy', undefined, token)).json;

    // The operator's console: every alarm change, as the page gets it.
    const frames: Frame[] = [];
    const socket = new WebSocket(`${started.url.replace(/^http/, 'ws')}/ws?values=none`, { headers: { authorization: `Bearer ${token}` } });
    ws = socket;
    await io(
      'the WebSocket snapshot',
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString('utf8')) as { type: string; event?: string; alarm?: Alarm };
          if (frame.type === 'snapshot') resolve();
          if (frame.type === 'alarm' && frame.alarm) frames.push({ event: frame.event ?? '', alarm: frame.alarm, at: Date.now() });
        });
      }),
    );

    const registry = started.runtime.registry.registry;
    const dayStart = o.startAt;
    const byGateway = new Map<string, Point[]>();
    for (const p of registry.allPoints()) byGateway.set(`${p.enterpriseCode}/${p.gatewayCode}`, [...(byGateway.get(`${p.enterpriseCode}/${p.gatewayCode}`) ?? []), p]);
    for (const g of registry.allGateways()) {
      const points = byGateway.get(`${g.enterpriseCode}/${g.code}`) ?? [];
      const periodMs = (g.reportingPeriodS ?? 10) * 1000;
      // Gateways of different plants are not in step: each starts somewhere in its first period.
      const firstAt = dayStart + Math.floor(((gateways.length * 0.618) % 1) * periodMs);
      const declaredStopped = enterprises.find((e) => e.code === g.enterpriseCode)?.stopped === true;
      gateways.push(new Gateway(g.enterpriseCode, g.code, periodMs, points.map((point) => ({ point, signal: signalOf(point, o.seed, { declaredStopped }) })), firstAt));
    }
    let published = 0;
    let readings = 0;
    const connect = async (g: Gateway): Promise<void> => {
      g.client = await io(
        `connecting ${g.topic}`,
        connectAsync(started.mqttUrl, {
          clientId: `day-${g.enterprise}-${g.code}`,
          will: { topic: `${g.topic}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
          reconnectPeriod: 0,
          keepalive: 60,
        }),
      );
      await publish(g, 'status', 'online', true);
    };
    const publish = async (g: Gateway, kind: 'telemetry' | 'status', payload: string, retain = false): Promise<void> => {
      if (g.client === null) return;
      await io(`publishing to ${g.topic}`, g.client.publishAsync(`${g.topic}/${kind}`, payload, { qos: 1, retain }));
      published++;
    };
    const baseline = (await started.runtime.metrics.messages.get()).values[0]?.value ?? 0;
    for (const g of gateways) await connect(g);
    let wills = 0;
    if (Date.now() > dayStart) throw new Error(`boot took more than ${BOOT_MS / 1000} s of virtual time`);
    await clock.tickAsync(dayStart - Date.now());
    const alarmEvents = async (): Promise<number> => (await started.runtime.metrics.alarmEvents.get()).values.reduce((n, v) => n + v.value, 0);
    const eventsBaseline = (await alarmEvents()) - frames.length;
    // The barrier: the clock moves on only once the monitor has every message published so far, and the console
    // every alarm change it made of them (so the operator acts at the same moments in every run).
    const caughtUp = async (): Promise<void> => {
      for (let spins = 0; ; spins++) {
        const taken = ((await started.runtime.metrics.messages.get()).values[0]?.value ?? 0) - baseline;
        const changes = (await alarmEvents()) - eventsBaseline;
        if (taken >= published + wills && frames.length >= changes) return;
        if (spins > 20_000) throw new Error(`the monitor stopped taking messages (${taken} of ${published + wills}) or pushing alarm changes (${frames.length} of ${changes})`);
        await realTurn();
      }
    };

    const gatewayOf = (enterprise: string, code: string): Gateway => {
      const g = gateways.find((x) => x.enterprise === enterprise && x.code === code);
      if (g === undefined) throw new Error(`no gateway ${enterprise}/${code} in the day's registry`);
      return g;
    };
    /** Points a running hazard drives: left out of their gateway's normal messages until it ends. */
    const heldPoints = new Set<string>();
    /** Values a hazard holds (`holdS`): sent in the gateway's normal messages instead of the signal's. */
    const overrides = new Map<string, number>();
    interface Due {
      readonly at: number;
      readonly run: () => Promise<void>;
    }
    const agenda: Due[] = [];
    const schedule = (at: number, run: () => Promise<void>): void => {
      let i = agenda.length;
      while (i > 0 && agenda[i - 1]!.at > at) i--;
      agenda.splice(i, 0, { at, run });
    };
    for (const h of hazards) {
      const s = h.scenario;
      const startMs = dayStart + h.startS * 1000;
      const touched = new Set(s.steps.filter((x) => x.holdS === undefined).flatMap((x) => Object.keys(x.readings ?? {})));
      // A gateway clock set fast is fast for all its messages, the normal ones too, until the hazard ends.
      const fast = s.steps.filter((x) => x.clockOffsetS > 0);
      schedule(startMs, () => {
        for (const p of touched) heldPoints.add(`${s.enterprise}/${p}`);
        for (const x of fast) gatewayOf(s.enterprise, x.gateway).clockAheadMs = x.clockOffsetS * 1000;
        o.log(`  ${new Date(Date.now() + 8 * 3_600_000).toISOString().slice(11, 19)} ${s.name} at ${s.enterprise}`);
        return Promise.resolve();
      });
      for (const step of s.steps) {
        schedule(startMs + step.at * 1000, async () => {
          const g = gatewayOf(s.enterprise, step.gateway);
          if (step.status === 'drop') {
            if (g.client !== null) (g.client.stream as Socket).destroy();
            g.client = null;
            wills++;
            g.awayUntil = Date.now() + OFFLINE_HOLD_S * 1000;
            schedule(g.awayUntil, () => connect(g));
            return;
          }
          if (step.status !== undefined) await publish(g, 'status', step.status, true);
          if (step.readings === undefined) return;
          if (step.holdS !== undefined) {
            const held = Object.entries(step.readings).map(([point, r]) => [`${s.enterprise}/${point}`, typeof r === 'number' ? r : r.value] as const);
            for (const [key, value] of held) overrides.set(key, value);
            schedule(Date.now() + step.holdS * 1000, () => {
              for (const [key] of held) overrides.delete(key);
              return Promise.resolve();
            });
            return;
          }
          for (const message of stepMessages(step, Date.now())) {
            await publish(g, 'telemetry', JSON.stringify(message));
            readings += message.readings.length;
          }
        });
      }
      schedule(dayStart + h.judgedUntilS * 1000, async () => {
        for (const [code, values] of Object.entries(s.reset)) {
          const g = gatewayOf(s.enterprise, code);
          if (g.client === null) continue;
          await publish(g, 'telemetry', JSON.stringify(resetMessage(values, Date.now())));
        }
        for (const p of touched) heldPoints.delete(`${s.enterprise}/${p}`);
        for (const x of fast) gatewayOf(s.enterprise, x.gateway).clockAheadMs = 0;
      });
    }

    // The duty operator: acknowledges each alarm, and disposes of it once cleared when its severity asks for it.
    const operator = { acknowledged: 0, disposed: 0, refused: 0 };
    const act = async (alarm: Alarm, verb: 'ack' | 'dispose'): Promise<void> => {
      const body = verb === 'ack' ? {} : { cause: 'staged in the standard day', action: 'checked on site, back to normal', handler: '值班员 duty operator' };
      const res = await api<unknown>('POST', `/api/alarms/${alarm.id}/${verb}`, body, token);
      if (res.status === 200) operator[verb === 'ack' ? 'acknowledged' : 'disposed']++;
      else operator.refused++;
    };
    const followed = new Map<string, { acked: boolean; cleared: boolean; disposeAt: number | null; response: { ackAfterS: number; disposeAfterS: number } }>();
    let framesSeen = 0;
    const watchFrames = (): void => {
      for (; framesSeen < frames.length; framesSeen++) {
        const { event, alarm } = frames[framesSeen]!;
        let f = followed.get(alarm.id);
        if (f === undefined) {
          if (event !== 'raise') continue;
          f = { acked: false, cleared: false, disposeAt: null, response: operatorResponse(alarm.key, alarm.detectedAt, o.seed) };
          followed.set(alarm.id, f);
          const entry = f;
          schedule(Date.parse(alarm.detectedAt) + f.response.ackAfterS * 1000, async () => {
            if (!entry.acked) await act(alarm, 'ack');
          });
        }
        if (alarm.acknowledged !== null) f.acked = true;
        if (alarm.clearedAt !== null) f.cleared = true;
        if (f.acked && f.cleared && f.disposeAt === null && alarm.disposal === null && policy.disposalRequired.includes(alarm.severity)) {
          f.disposeAt = Date.now() + f.response.disposeAfterS * 1000;
          schedule(f.disposeAt, () => act(alarm, 'dispose'));
        }
      }
    };

    const dayEnd = dayStart + o.hours * 3_600_000;
    let lastProgress = dayStart;
    for (;;) {
      await caughtUp();
      watchFrames();
      const g = gateways.reduce((a, b) => (b.nextAt < a.nextAt ? b : a));
      const next = Math.min(g.nextAt, agenda[0]?.at ?? Infinity);
      if (next >= dayEnd) break;
      if (next > Date.now()) await clock.tickAsync(next - Date.now());
      if (agenda[0] !== undefined && agenda[0].at <= g.nextAt) {
        await agenda.shift()!.run();
        continue;
      }
      g.nextAt += g.periodMs;
      if (g.client === null || Date.now() < g.awayUntil) continue;
      const now = Date.now();
      const values = g.points.flatMap(({ point, signal }) => {
        const key = `${g.enterprise}/${point.code}`;
        const held = overrides.get(key);
        if (held !== undefined) return [{ point: point.code, value: held }];
        return heldPoints.has(key) ? [] : [{ point: point.code, value: Math.round(signal(now) * 1000) / 1000 }];
      });
      if (values.length === 0) continue;
      await publish(g, 'telemetry', JSON.stringify({ ts: now + g.clockAheadMs, readings: values }));
      readings += values.length;
      if (now - lastProgress >= 3_600_000) {
        lastProgress = now;
        o.log(`  ${Math.round((now - dayStart) / 3_600_000)} h played: ${published} messages, ${frames.length} alarm changes, ${Math.round(performance.now() - wallStart) / 1000} s`);
      }
    }
    // Data quality over the day's minutes exactly (its window ends with the minute that holds `now`), then the rest.
    await clock.tickAsync(dayEnd - 1 - Date.now());
    await caughtUp();
    const dataQuality = (await api<DataQuality[]>('GET', '/api/data-quality', undefined, token)).json;
    await clock.tickAsync(1);
    const iso = (t: number): string => new Date(t).toISOString();
    const report = (await api<AlarmReportAnswer>('GET', `/api/reports/alarms?from=${iso(dayStart)}&to=${iso(dayEnd)}`, undefined, token)).json;
    const alarms: Alarm[] = [];
    for (let offset = 0; ; offset += 5000) {
      const page = (await api<Alarm[]>('GET', `/api/alarms?state=all&from=${iso(dayStart)}&to=${iso(dayEnd)}&limit=5000&offset=${offset}`, undefined, token)).json;
      alarms.push(...page);
      if (page.length < 5000) break;
    }
    // The API lists the newest first; alarms of one moment come in no set order, so they are put in one here.
    alarms.sort((a, b) => a.detectedAt.localeCompare(b.detectedAt) || a.key.localeCompare(b.key) || a.raisedAt.localeCompare(b.raisedAt));
    // Each `must` is judged by its own time limit; the `mustNot`s over the whole of the hazard's effects (a cut
    // gateway's absence and return included), and only alarms raised during the hazard count for it.
    const outcomes = hazards.map((h): HazardOutcome => {
      const startMs = dayStart + h.startS * 1000;
      const untilMs = dayStart + h.settledS * 1000;
      const seen: Seen[] = frames
        .filter((f) => f.at >= startMs && f.at <= untilMs && Date.parse(f.alarm.detectedAt) >= startMs)
        .map((f) => ({ event: f.event, alarm: f.alarm, atS: (f.at - startMs) / 1000 }));
      return { hazard: h, verdicts: judge(h.scenario, seen) };
    });
    return {
      options: { enterprises: o.enterprises, hours: o.hours, seed: o.seed, configDir: o.configDir, scenariosDir: o.scenariosDir, workDir: o.workDir, startAt: o.startAt, ...(o.extraSitesFile !== undefined && { extraSitesFile: o.extraSitesFile }) },
      from: dayStart,
      to: dayEnd,
      enterprises,
      points: registry.pointCount,
      hazards: outcomes,
      unstaged,
      report,
      dataQuality,
      alarms,
      operator,
      published: { messages: published, readings },
      playedInS: Math.round(performance.now() - wallStart) / 1000,
    };
  } finally {
    ws?.close();
    for (const g of gateways) if (g.client !== null) await pump(clock, g.client.endAsync(true)).catch(() => undefined);
    if (monitor !== null) await pump(clock, monitor.close());
    clock.uninstall();
  }
}
