import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, AuditEntry, DeadLetter } from '#libs/contracts/index.js';
import type { SqliteAlarmStore } from '#libs/store-embedded/index.js';
import type { RuleEngine } from '#libs/rules/index.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { signedIn } from './support/auth.js';
import { alarmWhere, RecordingWsClient } from './support/ws-client.js';

/** Signed in as the seeded admin once a monitor runs. */
let fetch: typeof globalThis.fetch = globalThis.fetch;

const SUZHOU = '91320594MA1WKTRP3E';


/**
 * Fault injection against the running monitor (embedded broker, SQLite stores): a failing alarm store and a rule
 * that throws must not silence an alarm, and must show.
 */
describe('safety of the alarm path under faults', () => {
  let monitor: RunningMonitor;
  let gateway: MqttClient;
  let ws: RecordingWsClient;
  const publish = (readings: { point: string; value: number }[]) =>
    gateway.publishAsync(`sites/${SUZHOU}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings }), { qos: 1 });
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${monitor.url}${path}`)).json()) as T;
  const post = (path: string, body: unknown) => fetch(`${monitor.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    monitor = await startMonitor(testConfig({ rules: { chatterMaxTransitions: 5, floodMaxAlarms: 10, gatewaySilencePeriods: 1000, lateWindowS: 300, tickMs: 200 } }));
    fetch = await signedIn(monitor.url);
    gateway = await connectAsync(monitor.mqttUrl, { clientId: `safety-e2e-${Date.now()}` });
    ws = await RecordingWsClient.ofMonitor(monitor.url);
  });

  afterAll(async () => {
    ws?.close();
    await gateway?.endAsync();
    await monitor?.close();
  });

  it('with the alarm database read-only, alarms still reach operators, health degrades, actions get 503, and every change is stored in order once it is writable again', async () => {
    const db = (monitor.runtime.alarmStore as SqliteAlarmStore).db;
    db.pragma('query_only = 1');
    try {
      await publish([{ point: 'T101-TE', value: 46 }]);
      const raised = (await ws.waitFor(alarmWhere({ pointCode: 'T101-TE', condition: 'limit_high', status: 'ACTIVE_UNACK' }))).alarm as Alarm;
      const down = await ws.waitFor(alarmWhere({ condition: 'storage_unavailable', originatorCode: 'alarm-store', status: 'ACTIVE_UNACK' }));
      expect(down.alarm).toMatchObject({ originatorKind: 'system', enterpriseCode: 'system', severity: 'major' });
      const health = await get<{ status: string; stores: { alarms: { ok: boolean; detail: string } } }>('/health');
      expect(health.status).toBe('degraded');
      expect(health.stores.alarms).toMatchObject({ ok: false });
      expect(health.stores.alarms.detail).toMatch(/readonly|read-only/i);

      const ack = await post(`/api/alarms/${raised.id}/ack`, {});
      expect(ack.status).toBe(503);
      expect(((await ack.json()) as { message: string }).message).toMatch(/nothing was changed/);
      expect(await get<Alarm>(`/api/alarms/${raised.id}`)).toMatchObject({ acknowledged: null, status: 'ACTIVE_UNACK' });

      await publish([{ point: 'T101-TE', value: 56 }, { point: 'T102-TE', value: 45 }]);
      await ws.waitFor(alarmWhere({ pointCode: 'T102-TE', level: 'H' }));
      await ws.waitFor(alarmWhere({ id: raised.id, level: 'HH', severity: 'critical' }));
      await publish([{ point: 'T101-TE', value: 20 }]);
      await ws.waitFor(alarmWhere({ id: raised.id, status: 'CLEARED_UNACK' }));
    } finally {
      db.pragma('query_only = 0');
    }
    await ws.waitFor(alarmWhere({ condition: 'storage_unavailable', originatorCode: 'alarm-store', status: 'CLEARED_UNACK' }));
    const health = await get<{ status: string }>('/health');
    expect(health.status).toBe('ok');

    const stored = await get<Alarm[]>('/api/alarms?state=all&limit=100');
    const t101 = stored.find((a) => a.pointCode === 'T101-TE')!;
    expect(t101).toMatchObject({ status: 'CLEARED_UNACK', level: 'HH', peakValue: 56 });
    expect(stored.some((a) => a.pointCode === 'T102-TE' && a.level === 'H')).toBe(true);
    expect(stored.some((a) => a.condition === 'storage_unavailable' && a.status === 'CLEARED_UNACK')).toBe(true);
    const trail = await get<AuditEntry[]>(`/api/alarms/${t101.id}/audit`);
    expect(trail.map((e) => e.action)).toEqual(['raise', 'update', 'clear']);
    expect(await get<{ ok: boolean }>('/api/audit/verify')).toMatchObject({ ok: true });
    // Writable again: a person's action is taken and stored.
    expect((await post(`/api/alarms/${t101.id}/ack`, {})).status).toBe(200);
  });

  it('a rule that throws on one point dead-letters the message as internal_error, flags that point, and leaves every other point alarming', async () => {
    const engine = monitor.runtime.pipeline.engine as unknown as { evaluate: (st: { point: { code: string } }, ...rest: unknown[]) => void };
    const original = engine.evaluate;
    engine.evaluate = function (this: RuleEngine, st, ...rest) {
      if (st.point.code === 'T101-PT') throw new Error('injected rule fault');
      return original.call(this, st, ...rest);
    };
    try {
      await publish([{ point: 'T101-PT', value: 30 }, { point: 'T101-LT', value: 95 }]);
      await ws.waitFor(alarmWhere({ pointCode: 'T101-LT', condition: 'limit_high', level: 'HH' }));
      const flagged = await ws.waitFor(alarmWhere({ pointCode: 'T101-PT', condition: 'evaluation_error' }));
      expect((flagged.alarm as Alarm).message).toMatch(/injected rule fault/);
      const letters = await get<DeadLetter[]>('/api/dead-letters?limit=10');
      const letter = letters.find((l) => l.reason === 'internal_error')!;
      expect(letter.detail).toMatch(/injected rule fault.*T101-PT/);
      expect(JSON.parse(letter.payloadExcerpt)).toMatchObject({ readings: [{ point: 'T101-PT', value: 30 }, { point: 'T101-LT', value: 95 }] });
      const metrics = await (await fetch(`${monitor.url}/metrics`)).text();
      expect(metrics).toMatch(/sentinel_dead_letters_total\{reason="internal_error"/);
    } finally {
      engine.evaluate = original;
    }
    // The stream went on: the next message evaluates, and the point's evaluation_error clears.
    await publish([{ point: 'T101-PT', value: 5 }, { point: 'T101-LT', value: 50 }]);
    await ws.waitFor(alarmWhere({ pointCode: 'T101-PT', condition: 'evaluation_error', status: 'CLEARED_UNACK' }));
    await ws.waitFor(alarmWhere({ pointCode: 'T101-LT', condition: 'limit_high', status: 'CLEARED_UNACK' }));
  });

  it('keeps a status only for registered gateways: another is dead-lettered as unknown_gateway', async () => {
    await gateway.publishAsync(`sites/${SUZHOU}/GW-NOT-REGISTERED/status`, 'online', { qos: 1 });
    await gateway.publishAsync(`sites/${SUZHOU}/GW01/status`, 'online', { qos: 1 });
    await ws.waitFor((f) => f.type === 'gateway' && (f.gateway as { gatewayCode: string }).gatewayCode === 'GW01');
    const letters = await get<DeadLetter[]>('/api/dead-letters?limit=10');
    expect(letters.find((l) => l.reason === 'unknown_gateway')).toMatchObject({ topic: `sites/${SUZHOU}/GW-NOT-REGISTERED/status` });
    const gateways = await get<{ gatewayCode: string }[]>('/api/gateways');
    expect(gateways.map((g) => g.gatewayCode)).not.toContain('GW-NOT-REGISTERED');
  });

  it('a fault in the risk assessment costs the colours, never the alarm: it is still pushed and stored', async () => {
    const risk = monitor.runtime.pipeline.risk;
    const original = risk.assess.bind(risk);
    let faults = 0;
    risk.assess = () => {
      faults++;
      throw new Error('injected risk fault');
    };
    try {
      await publish([{ point: 'T102-LT', value: 95 }]);
      const raised = (await ws.waitFor(alarmWhere({ pointCode: 'T102-LT', level: 'HH' }))).alarm as Alarm;
      expect(faults).toBeGreaterThan(0);
      // From the store (the list is read from it, not from memory).
      const stored = await get<Alarm[]>('/api/alarms?state=active');
      expect(stored.find((a) => a.id === raised.id)).toMatchObject({ level: 'HH', status: 'ACTIVE_UNACK' });
    } finally {
      risk.assess = original;
    }
    await publish([{ point: 'T102-LT', value: 50 }]);
    await ws.waitFor(alarmWhere({ pointCode: 'T102-LT', status: 'CLEARED_UNACK' }));
  });

  it('a message of thousands of bad readings costs one dead letter per reason, counted in full, and its good reading still alarms', async () => {
    const bad = Array.from({ length: 3000 }, (_, i) => ({ point: `NOPE-${i}`, value: 1 }));
    await publish([...bad, { point: 'T102-TE', value: 57 }]);
    await ws.waitFor(alarmWhere({ pointCode: 'T102-TE', level: 'HH' }));
    const letters = (await get<DeadLetter[]>('/api/dead-letters?limit=50')).filter((l) => l.reason === 'unknown_point');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.detail).toBe(`3000 readings, the first: point NOPE-0 is not registered for enterprise ${SUZHOU}`);
    const gateways = await get<{ enterpriseCode: string; gatewayCode: string; refused: Record<string, number> }[]>('/api/gateways');
    expect(gateways.find((g) => g.enterpriseCode === SUZHOU && g.gatewayCode === 'GW01')?.refused.unknown_point).toBe(3000);
    await publish([{ point: 'T102-TE', value: 20 }]);
  });
});
