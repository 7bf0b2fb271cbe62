import { resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { Subject, filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '#libs/broker-aedes/index.js';
import type { ConditionChange, ReadingBatch } from '#libs/contracts/index.js';
import { decodeMessage, type Rejection } from '#libs/decode/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { evaluateRules, RuleEngine, type RuleInput } from '#libs/rules/index.js';
import { startSimulator, type RunningSimulator } from './gateway.simulator.js';

describe('gateway simulator', () => {
  let broker: EmbeddedBroker;
  let sim: RunningSimulator | null = null;
  const registry = loadRegistry(resolve('config'));

  beforeAll(async () => {
    broker = await EmbeddedBroker.start(0, '127.0.0.1');
  });
  afterAll(async () => {
    await sim?.stop();
    await broker.close();
  });

  it('publishes the demo sites as valid telemetry and status, and drives a point past its limit', async () => {
    const readings$ = new Subject<RuleInput>();
    const rejections: Rejection[] = [];
    const statuses = new Set<string>();
    const seenPoints = new Set<string>();
    const engine = new RuleEngine(registry.ruleContext(), Date.now());
    const isLimitRaise = (c: ConditionChange): boolean => c.from === null && (c.condition === 'limit_high' || c.condition === 'limit_low');
    const firstRaise = firstValueFrom(readings$.pipe(evaluateRules(engine), filter(isLimitRaise)));
    const sub = await connectAsync(broker.url, { clientId: 'sim-test-sub' });
    sub.on('message', (topic, payload) => {
      const d = decodeMessage(topic, payload, Date.now(), registry);
      if (d.kind === 'rejected') rejections.push(d.rejection);
      else if (d.kind === 'status') statuses.add(`${d.enterpriseCode}/${d.gatewayCode}=${d.state}`);
      else {
        rejections.push(...d.rejections);
        for (const r of d.readings) seenPoints.add(`${r.point.enterpriseCode}/${r.point.code}`);
        const batch: ReadingBatch = d.readings;
        readings$.next({ kind: 'readings', batch });
      }
    });
    await sub.subscribeAsync('sites/#', { qos: 1 });

    sim = await startSimulator({ url: broker.url, points: registry.allPoints(), periodMs: 20, excursionEveryMs: 200, excursionHoldMs: 100, seed: 7 });
    const raise = await firstRaise;
    if (raise.condition === 'limit_high') expect(raise.value).toBeGreaterThanOrEqual(raise.threshold!);
    else expect(raise.value).toBeLessThanOrEqual(raise.threshold!);
    expect(rejections).toEqual([]);
    expect(seenPoints.size).toBe(registry.allPoints().length);
    expect([...statuses].sort()).toEqual(registry.allGateways().map((g) => `${g.enterpriseCode}/${g.code}=online`).sort());
    await sub.endAsync();
  });

  it('publishes each gateway at its own reporting period when given one', async () => {
    await sim?.stop();
    sim = null;
    const sub = await connectAsync(broker.url, { clientId: 'sim-test-periods' });
    const count = new Map<string, number>();
    let fastDone: () => void = () => undefined;
    const fastReached = new Promise<void>((r) => (fastDone = r));
    sub.on('message', (topic) => {
      const gateway = topic.split('/').slice(1, 3).join('/');
      count.set(gateway, (count.get(gateway) ?? 0) + 1);
      if ((count.get(gateway) ?? 0) === 40 && gateway.startsWith('91320594')) fastDone();
    });
    await sub.subscribeAsync('sites/+/+/telemetry', { qos: 1 });
    // The Suzhou gateway on every 20 ms tick, the Jining one every 100 ms: five times fewer messages.
    const periods = await startSimulator({ url: broker.url, points: registry.allPoints(), periodMs: 20, excursionEveryMs: 0, seed: 5, clientIdPrefix: 'sim-periods', gatewayPeriodMs: (g) => (g.enterpriseCode.startsWith('91320594') ? 20 : 100) });
    await fastReached;
    await periods.stop();
    await sub.endAsync();
    const slow = [...count].find(([g]) => g.startsWith('91370800'))![1];
    expect(slow).toBeGreaterThanOrEqual(6);
    expect(slow).toBeLessThanOrEqual(11);
  });

  it('with realistic signals, a healthy plant raises nothing through the rule core and every message is counted', async () => {
    // The first test's simulator drives excursions: stopped, so that only this one publishes.
    await sim?.stop();
    sim = null;
    const changes: ConditionChange[] = [];
    const engine = new RuleEngine(registry.ruleContext(), Date.now());
    const inputs = new Subject<RuleInput>();
    const done = inputs.pipe(evaluateRules(engine)).subscribe((c) => changes.push(c));
    const sub = await connectAsync(broker.url, { clientId: 'sim-test-realistic' });
    let messages = 0;
    sub.on('message', (topic, payload) => {
      const d = decodeMessage(topic, payload, Date.now(), registry);
      if (d.kind === 'telemetry') {
        messages++;
        inputs.next({ kind: 'readings', batch: d.readings, clockAheadMs: 0 });
      }
    });
    await sub.subscribeAsync('sites/+/+/telemetry', { qos: 1 });
    const realistic = await startSimulator({ url: broker.url, points: registry.allPoints(), periodMs: 100, excursionEveryMs: 0, seed: 3, signals: 'realistic', clientIdPrefix: 'sim-realistic' });
    await new Promise((r) => setTimeout(r, 1500));
    await realistic.stop();
    await sub.endAsync();
    done.unsubscribe();
    expect(messages).toBeGreaterThanOrEqual(20);
    expect(realistic.messages().refused).toBe(0);
    expect(realistic.messages().sent).toBe(messages);
    expect(changes.filter((c) => c.to !== null).map((c) => `${c.originator.code} ${c.condition}`)).toEqual([]);
  });
});
