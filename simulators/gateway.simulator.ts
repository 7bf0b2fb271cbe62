import { connectAsync, type MqttClient } from 'mqtt';
import type { Point } from '#libs/contracts/index.js';
import { normalBand, seededRandom, signalOf, type Signal } from './signals.js';

export interface SimulatorOptions {
  readonly url: string;
  readonly points: readonly Point[];
  readonly periodMs: number;
  /** How often one point, chosen at random, is driven past its HH (or LL) limit and back. 0 turns it off. */
  readonly excursionEveryMs?: number;
  /** How long an excursion stays past the limit before the value returns to normal. */
  readonly excursionHoldMs?: number;
  readonly seed?: number;
  readonly clientIdPrefix?: string;
  /**
   * The password of each gateway: its client then logs in as `<enterpriseCode>/<gatewayCode>`. Without it, or
   * when it gives undefined, the client connects as `url` says (anonymous, or the credentials in the URL).
   */
  readonly password?: (gateway: { readonly enterpriseCode: string; readonly gatewayCode: string }) => string | undefined;
  /** `walk` (default): a random walk around the middle of the band; `realistic`: the per-type models of signals.ts. */
  readonly signals?: 'walk' | 'realistic';
  /**
   * Each gateway's own reporting period (e.g. its `reportingPeriodS` from the registry); `periodMs` is then the
   * clock's tick, and a gateway publishes on the first tick at or after its period. Without it every gateway
   * publishes every `periodMs`.
   */
  readonly gatewayPeriodMs?: (gateway: { readonly enterpriseCode: string; readonly gatewayCode: string }) => number;
}

export interface RunningSimulator {
  readonly published: () => number;
  /** Messages published, and those the broker refused (a publish that failed). */
  readonly messages: () => { readonly sent: number; readonly refused: number };
  stop(): Promise<void>;
}

interface Excursion {
  readonly target: number;
  step: number;
}

function excursionTarget(p: Point): number | null {
  const { h, hh, l, ll } = p.limits;
  if (hh !== null) return hh + Math.max(Math.abs(hh - (h ?? hh * 0.9)) * 0.3, 1);
  if (h !== null) return h * 1.1 + 1;
  if (ll !== null) return ll - Math.max(Math.abs((l ?? ll) - ll) * 0.3, 1);
  if (l !== null) return l - 1;
  return null;
}

const RAMP = 4;

/**
 * Publishes like real gateways: one MQTT client per gateway with a retained `online` status and an `offline`
 * last will, and one telemetry message per period carrying every point of that gateway.
 */
export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const random = seededRandom(opts.seed ?? 42);
  const hold = Math.max(1, Math.ceil((opts.excursionHoldMs ?? 20_000) / opts.periodMs));
  const byGateway = new Map<string, Point[]>();
  for (const p of opts.points) {
    const key = `${p.enterpriseCode}/${p.gatewayCode}`;
    const list = byGateway.get(key) ?? [];
    list.push(p);
    byGateway.set(key, list);
  }
  const values = new Map<Point, number>(opts.points.map((p) => [p, normalBand(p).center]));
  const excursions = new Map<Point, Excursion>();
  const clients: { client: MqttClient; topic: string; points: Point[]; periodMs: number; nextAt: number }[] = [];
  try {
    for (const [key, points] of byGateway) {
      const status = `sites/${key}/status`;
      const password = opts.password?.({ enterpriseCode: points[0]!.enterpriseCode, gatewayCode: points[0]!.gatewayCode });
      const client = await connectAsync(opts.url, {
        clientId: `${opts.clientIdPrefix ?? 'sim'}-${key.replace('/', '-')}`,
        will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
        reconnectPeriod: 1000,
        ...(password !== undefined && { username: key, password }),
      });
      const periodMs = opts.gatewayPeriodMs?.({ enterpriseCode: points[0]!.enterpriseCode, gatewayCode: points[0]!.gatewayCode }) ?? opts.periodMs;
      clients.push({ client, topic: `sites/${key}/telemetry`, points, periodMs, nextAt: 0 });
      await client.publishAsync(status, 'online', { qos: 1, retain: true });
    }
  } catch (err) {
    // A gateway refused (e.g. a wrong password) leaves no other gateway connected.
    await Promise.all(clients.map(({ client }) => client.endAsync(true)));
    throw err;
  }

  let published = 0;
  let sent = 0;
  let refused = 0;
  const signals = new Map<Point, Signal>();
  const signal = (p: Point): Signal => {
    let s = signals.get(p);
    if (s === undefined) {
      s = signalOf(p, opts.seed ?? 42);
      signals.set(p, s);
    }
    return s;
  };
  // First excursion after three periods, so a demo shows an alarm within seconds.
  let sinceExcursion = Math.max(0, (opts.excursionEveryMs ?? 30_000) - 3 * opts.periodMs);
  const tick = (): void => {
    sinceExcursion += opts.periodMs;
    const every = opts.excursionEveryMs ?? 30_000;
    if (every > 0 && sinceExcursion >= every && opts.points.length > 0) {
      sinceExcursion = 0;
      const p = opts.points[Math.floor(random() * opts.points.length)]!;
      const target = excursionTarget(p);
      if (target !== null && !excursions.has(p)) excursions.set(p, { target, step: 0 });
    }
    const ts = Date.now();
    for (const c of clients) {
      const { client, topic, points } = c;
      if (ts < c.nextAt) continue;
      // Due again a period after it was due (not after this tick), so the tick's jitter does not slow it down; after
      // a stall longer than a period it starts afresh instead of catching up in a burst.
      c.nextAt = (c.nextAt === 0 ? ts : c.nextAt) + c.periodMs;
      if (c.nextAt <= ts) c.nextAt = ts + c.periodMs;
      const readings = points.map((p) => ({ point: p.code, value: round(nextValue(p, ts)) }));
      client.publish(topic, JSON.stringify({ ts, readings }), { qos: 1 }, (err) => {
        if (err) refused++;
        else {
          sent++;
          published += readings.length;
        }
      });
    }
  };
  const nextValue = (p: Point, ts: number): number => {
    const { center, noise } = normalBand(p);
    const current = values.get(p) ?? center;
    const ex = excursions.get(p);
    let next: number;
    if (!ex && opts.signals === 'realistic') next = signal(p)(ts);
    else if (ex) {
      ex.step++;
      if (ex.step <= RAMP) next = current + (ex.target - current) / (RAMP - ex.step + 1);
      else if (ex.step <= RAMP + hold) next = ex.target + (random() - 0.5) * noise;
      else {
        next = center;
        excursions.delete(p);
      }
    } else {
      next = current + (center - current) * 0.2 + (random() - 0.5) * 2 * noise;
    }
    values.set(p, next);
    return next;
  };
  const timer = setInterval(tick, opts.periodMs);
  tick();
  return {
    published: () => published,
    messages: () => ({ sent, refused }),
    async stop() {
      clearInterval(timer);
      await Promise.all(clients.map(({ client }) => client.endAsync()));
    },
  };
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
