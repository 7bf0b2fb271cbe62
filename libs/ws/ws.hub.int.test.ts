import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Alarm, GatewayStatus } from '#libs/contracts/index.js';
import { anAlarm, aPoint, aReading } from '#libs/testing/builders.js';
import { valueViewOf, WsHub, type WsGate, type WsHubOptions } from './ws.hub.js';

interface Frame {
  readonly type: string;
  readonly seq?: number;
  readonly pos?: number;
  readonly stream?: string;
  readonly resync?: boolean;
  readonly alarm?: Alarm;
  readonly alarms?: Alarm[];
  readonly gateways?: GatewayStatus[];
  readonly values?: { enterpriseCode: string; point: string; value: number }[];
  readonly readings?: { enterpriseCode: string; point: string; value: number }[];
  readonly reason?: string;
  readonly from?: number;
}

/** A real WebSocket client that records frames; `autoPong: false` plays a client that stopped answering. */
class Client {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<number>;
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(url: string, autoPong = true): Promise<Client> {
    const ws = new WebSocket(url, { autoPong });
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    return c;
  }
  async until(n: number): Promise<Frame[]> {
    while (this.frames.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.frames;
  }
  async waitFor(type: string, nth = 1): Promise<Frame> {
    for (;;) {
      const f = this.frames.filter((x) => x.type === type)[nth - 1];
      if (f) return f;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';
const raise = (enterpriseCode: string, n: number) => ({ kind: 'raise' as const, alarm: anAlarm({ id: `a${n}`, enterpriseCode }) });

describe('WsHub: resuming after a dropped connection, heartbeats', () => {
  let server: Server;
  let hub: WsHub;
  const clients: Client[] = [];
  let url = '';

  async function start(opts: WsHubOptions = {}, gate?: WsGate): Promise<void> {
    hub = new WsHub(
      {
        activeAlarms: () => [],
        gateways: () => [{ enterpriseCode: SUZHOU, gatewayCode: 'GW01', state: 'online', since: '2026-11-30T00:00:00.000Z' }],
        regionOf: (e) => (e === SUZHOU ? { code: '320594', province: '320000', city: '320500', county: '320594' } : e === JINING ? { code: '370811', province: '370000', city: '370800', county: '370811' } : undefined),
      },
      opts,
    );
    server = createServer();
    hub.attach(server, gate);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  }
  const open = async (query = '', autoPong = true): Promise<Client> => {
    const c = await Client.open(`${url}${query}`, autoPong);
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await hub.close();
    await new Promise((r) => server.close(r));
  });

  it('a client reconnecting with its last position gets the alarm changes it missed, in order, instead of a snapshot', async () => {
    await start();
    const first = await open();
    const snapshot = await first.waitFor('snapshot');
    expect(snapshot).toMatchObject({ seq: 0, pos: 0 });
    expect(snapshot.stream).toMatch(/^[0-9a-f]{16}$/);
    hub.publishAlarms([raise(SUZHOU, 1), raise(SUZHOU, 2)]);
    const [, a1, a2] = await first.until(3);
    expect([a1, a2].map((f) => [f?.seq, f?.pos, f?.alarm?.id])).toEqual([[1, 1, 'a1'], [2, 2, 'a2']]);
    first.ws.terminate();
    await first.closed;

    hub.publishAlarms([raise(SUZHOU, 3)]);
    hub.publishAlarms([raise(SUZHOU, 4)]);
    const again = await open(`?resume=${snapshot.stream}.2`);
    const [resume, r3, r4] = await again.until(3);
    expect(resume).toMatchObject({ type: 'resume', seq: 0, from: 2, stream: snapshot.stream, gateways: [expect.objectContaining({ gatewayCode: 'GW01' })] });
    expect([r3, r4].map((f) => [f?.type, f?.seq, f?.pos, f?.alarm?.id])).toEqual([['alarm', 1, 3, 'a3'], ['alarm', 2, 4, 'a4']]);
    hub.publishAlarms([raise(SUZHOU, 5)]);
    const [, , , live] = await again.until(4);
    expect([live?.seq, live?.pos]).toEqual([3, 5]);
  });

  it('resumes only with what the client may see', async () => {
    const gate: WsGate = (req) => ({ viewer: { key: req.url?.includes('county') ? 'county' : '*', sees: (e) => !req.url?.includes('county') || e === JINING, stillValid: () => true } });
    await start({}, gate);
    const county = await open('?as=county');
    const { stream } = await county.waitFor('snapshot');
    county.ws.terminate();
    await county.closed;
    hub.publishAlarms([raise(SUZHOU, 1), raise(JINING, 2), raise(SUZHOU, 3)]);
    const back = await open(`?as=county&resume=${stream}.0`);
    const [resume, only] = await back.until(2);
    expect(resume?.type).toBe('resume');
    expect([only?.seq, only?.pos, only?.alarm?.enterpriseCode]).toEqual([1, 2, JINING]);
    hub.publishAlarms([raise(JINING, 4)]);
    const frames = await back.until(3);
    expect(frames.filter((f) => f.type === 'alarm').map((f) => f.alarm?.id)).toEqual(['a2', 'a4']);
  });

  it('a position older than the changes held, another stream, or one ahead of the stream gets a fresh snapshot marked resync', async () => {
    await start({ replayEvents: 2 });
    const { stream } = await (await open()).waitFor('snapshot');
    hub.publishAlarms(Array.from({ length: 300 }, (_, i) => raise(SUZHOU, i + 1)));
    for (const query of [`?resume=${stream}.1`, '?resume=0123456789abcdef.299', `?resume=${stream}.301`]) {
      const c = await open(query);
      expect(await c.waitFor('snapshot'), query).toMatchObject({ seq: 0, pos: 300, resync: true });
    }
    const near = await open(`?resume=${stream}.298`);
    const [resume, r299, r300] = await near.until(3);
    expect([resume?.type, r299?.pos, r300?.pos]).toEqual(['resume', 299, 300]);
    // A malformed resume is no resume at all: a plain snapshot.
    const plain = await (await open('?resume=nonsense')).waitFor('snapshot');
    expect(plain.resync).toBeUndefined();
  });

  it('never resumes across a change of jurisdiction or of the registry: those get a fresh snapshot', async () => {
    let widened = false;
    const gate: WsGate = () => ({ viewer: { key: widened ? 'both' : 'jining', sees: (e) => widened || e === JINING, stillValid: () => true } });
    await start({}, gate);
    const first = await open();
    const { stream } = await first.waitFor('snapshot');
    first.ws.terminate();
    await first.closed;
    hub.publishAlarms([raise(SUZHOU, 1)]);
    widened = true;
    expect(await (await open(`?resume=${stream}.0`)).waitFor('snapshot')).toMatchObject({ resync: true });
    const again = await (await open()).waitFor('snapshot');
    hub.registryReloaded((p) => p, 0);
    expect(await (await open(`?resume=${again.stream}.${again.pos}`)).waitFor('snapshot')).toMatchObject({ resync: true });
  });

  it('holds at most 8 MB of alarm changes for resuming, however large each is', async () => {
    await start();
    const { stream } = await (await open()).waitFor('snapshot');
    const big = 'x'.repeat(1 << 20);
    for (let i = 1; i <= 20; i++) hub.publishAlarms([{ kind: 'comment', alarm: anAlarm({ id: `big${i}`, enterpriseCode: SUZHOU, message: big }) }]);
    const held = (hub as unknown as { replayBytes: number }).replayBytes;
    expect(held).toBeLessThanOrEqual(8 * 2 ** 20);
    expect(await (await open(`?resume=${stream}.0`)).waitFor('snapshot')).toMatchObject({ resync: true });
    const [resume, ...replayed] = await (await open(`?resume=${stream}.18`)).until(3);
    expect([resume?.type, ...replayed.map((f) => f.pos)]).toEqual(['resume', 19, 20]);
  });

  it('closes a client that sends more than 5 frames a second (1008)', async () => {
    await start();
    const c = await open();
    await c.waitFor('snapshot');
    for (let i = 0; i < 10; i++) c.ws.send(JSON.stringify({ type: 'subscribe', values: 'all' }));
    expect(await c.closed).toBe(1008);
  });

  it('sends heartbeats with the stream position, and drops a client that stops answering pings', async () => {
    await start({ heartbeatMs: 50 });
    const alive = await open();
    const silent = await open('', false);
    hub.publishAlarms([raise(SUZHOU, 1)]);
    const beat = await alive.waitFor('heartbeat');
    // seq: the last alarm frame this client was sent, so that it can tell a lost frame before trusting pos.
    expect(beat).toMatchObject({ pos: 1, seq: 1 });
    expect(beat.stream).toMatch(/^[0-9a-f]{16}$/);

    expect(await silent.closed).toBe(1006);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a client narrows its live values to an enterprise, a hazard source or a list of points, never past its jurisdiction', async () => {
    const gate: WsGate = (req) => ({ viewer: { key: req.url?.includes('county') ? 'county' : '*', sees: (e) => !req.url?.includes('county') || e === JINING, stillValid: () => true } });
    await start({ readingIntervalMs: 20 }, gate);
    const t101 = aPoint({ enterpriseCode: SUZHOU, code: 'T101-TE', hazardSourceCode: 'TF-1' });
    const r201 = aPoint({ enterpriseCode: SUZHOU, code: 'R201-TE', hazardSourceCode: 'RX-1' });
    const dc1 = aPoint({ enterpriseCode: JINING, code: 'DC1-TE', hazardSourceCode: 'DC-1' });
    hub.publishReadings([aReading(t101, 20), aReading(r201, 90), aReading(dc1, 40)]);
    // Once a client has had them, the first values are out: the clients below get them only in answers.
    await (await open()).waitFor('reading');
    const send = (c: Client, frame: unknown) => c.ws.send(JSON.stringify(frame));
    /** The points of the client's n-th `values` answer. */
    const valuesAfter = async (c: Client, n: number): Promise<string[]> => ((await c.waitFor('values', n)).values ?? []).map((v) => v.point).sort();

    const source = await open();
    await source.waitFor('snapshot');
    send(source, { type: 'subscribe', values: { enterprise: SUZHOU, hazardSource: 'TF-1' } });
    const county = await open('?as=county');
    await county.waitFor('snapshot');
    send(county, { type: 'subscribe', values: { enterprise: SUZHOU } });
    const points = await open();
    await points.waitFor('snapshot');
    send(points, { type: 'subscribe', values: { points: [{ enterprise: SUZHOU, point: 'R201-TE' }, { enterprise: JINING, point: 'DC1-TE' }] } });
    const quiet = await open();
    await quiet.waitFor('snapshot');
    send(quiet, { type: 'subscribe', values: 'none' });
    const province = await open();
    await province.waitFor('snapshot');
    send(province, { type: 'subscribe', values: { region: '370000' } });

    expect(await valuesAfter(source, 1)).toEqual(['T101-TE']);
    expect(await valuesAfter(county, 1)).toEqual([]); // Suzhou is outside the county's jurisdiction
    expect(await valuesAfter(points, 1)).toEqual(['DC1-TE', 'R201-TE']);
    expect(await valuesAfter(quiet, 1)).toEqual([]);
    expect(await valuesAfter(province, 1)).toEqual(['DC1-TE']); // Shandong: Jining's point only

    const readingsBefore = (c: Client): number => c.frames.filter((f) => f.type === 'reading').length;
    const [sourceBefore, pointsBefore, countyBefore, quietBefore, provinceBefore] = [source, points, county, quiet, province].map(readingsBefore);
    hub.publishReadings([aReading(t101, 21, 1_700_000_001_000), aReading(r201, 91, 1_700_000_001_000), aReading(dc1, 41, 1_700_000_001_000)]);
    expect(await source.waitFor('reading', sourceBefore! + 1)).toMatchObject({ readings: [{ point: 'T101-TE', value: 21 }] });
    expect((await points.waitFor('reading', pointsBefore! + 1)).readings?.map((r) => r.point).sort()).toEqual(['DC1-TE', 'R201-TE']);
    expect((await province.waitFor('reading', provinceBefore! + 1)).readings?.map((r) => r.point)).toEqual(['DC1-TE']);
    // Back to everything it may see.
    send(source, { type: 'subscribe', values: 'all' });
    expect(await valuesAfter(source, 2)).toEqual(['DC1-TE', 'R201-TE', 'T101-TE']);
    hub.publishReadings([aReading(dc1, 42, 1_700_000_002_000)]);
    await points.waitFor('reading', pointsBefore! + 2);
    // The county asked for Suzhou, which it may not see; the quiet client for nothing.
    expect(readingsBefore(county)).toBe(countyBefore);
    expect(readingsBefore(quiet)).toBe(quietBefore);
  });

  it('answers a malformed subscription with an error in words and keeps the connection and the view as they were', async () => {
    await start({ readingIntervalMs: 20 });
    const c = await open();
    await c.waitFor('snapshot');
    for (const bad of ['not json', JSON.stringify({ type: 'subscribe', values: { points: 'T101-TE' } }), JSON.stringify({ type: 'subscribe', values: { points: Array.from({ length: 1001 }, (_, i) => ({ enterprise: SUZHOU, point: `P${i}` })) } }), JSON.stringify({ type: 'hello' })]) c.ws.send(bad);
    const frames = await c.until(5);
    expect(frames.slice(1).map((f) => f.type)).toEqual(['error', 'error', 'error', 'error']);
    expect(frames[3]?.reason).toContain('at most 1000 points');
    expect(valueViewOf({ type: 'subscribe', values: { region: '3205' } })).toBe('values.region must be a 6-digit division code (province, city or county), alone');
    expect(valueViewOf({ type: 'subscribe', values: { region: '320500', enterprise: SUZHOU } })).toContain('alone');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    hub.publishReadings([aReading(aPoint({ enterpriseCode: JINING, code: 'DC1-TE' }), 40)]);
    expect((await c.waitFor('reading')).readings?.map((r) => r.point)).toEqual(['DC1-TE']);
  });

  it('a heartbeat tells a client its own position, not how many alarm changes happened outside its jurisdiction', async () => {
    const gate: WsGate = (req) => ({ viewer: { key: req.url?.includes('county') ? 'county' : '*', sees: (e) => !req.url?.includes('county') || e === JINING, stillValid: () => true } });
    await start({ heartbeatMs: 50 }, gate);
    const county = await open('?as=county');
    await county.waitFor('snapshot');
    hub.publishAlarms([raise(SUZHOU, 1), raise(SUZHOU, 2), raise(JINING, 3), raise(SUZHOU, 4)]);
    const alarm = await county.waitFor('alarm');
    const beats = await county.waitFor('heartbeat', county.frames.filter((f) => f.type === 'heartbeat').length + 1);
    expect(county.frames.indexOf(beats)).toBeGreaterThan(county.frames.indexOf(alarm));
    expect(beats.pos).toBe(3);
    expect(beats.seq).toBe(1);
  });

  it('?values=none keeps the snapshot and the feed free of live values until the client subscribes to some', async () => {
    await start({ readingIntervalMs: 20 });
    const t101 = aPoint({ enterpriseCode: SUZHOU, code: 'T101-TE', hazardSourceCode: 'TF-1' });
    hub.publishReadings([aReading(t101, 20)]);
    const everything = await open();
    expect((await everything.waitFor('snapshot')).values).toHaveLength(1);
    const lean = await open('?values=none');
    expect((await lean.waitFor('snapshot')).values).toEqual([]);
    hub.publishReadings([aReading(t101, 21, 1_700_000_001_000)]);
    await everything.waitFor('reading');
    expect(lean.frames.filter((f) => f.type === 'reading')).toEqual([]);
    lean.ws.send(JSON.stringify({ type: 'subscribe', values: { enterprise: SUZHOU } }));
    expect((await lean.waitFor('values')).values).toMatchObject([{ point: 'T101-TE', value: 21 }]);
  });
});
