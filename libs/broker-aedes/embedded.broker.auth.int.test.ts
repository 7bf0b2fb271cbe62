import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '#libs/contracts/index.js';
import { GatewayAuthority, GatewayCredentials } from '#libs/gateway-auth/index.js';
import { aGateway } from '#libs/testing/builders.js';
import { EmbeddedBroker } from './embedded.broker.js';
import type { RefusalEvent } from './broker-access.js';
import { arrival } from '#libs/testing/mqtt.js';

const E1 = '91320594MA1WKTRP3E';
const E2 = '91370800MA3CD7LN28';
const GATEWAYS: Gateway[] = [
  aGateway({ enterpriseCode: E1, code: 'GW01', credentialsRef: 'suzhou-gw01' }),
  aGateway({ enterpriseCode: E1, code: 'GW02', credentialsRef: null }),
  aGateway({ enterpriseCode: E2, code: 'GW01', credentialsRef: 'jining-gw01' }),
];
const lookup = (e: string, g: string): Gateway | undefined => GATEWAYS.find((x) => x.enterpriseCode === e && x.code === g);
const MONITOR = { username: 'sentinel-monitor', password: 'boot-random-password-1234' };
const PASSWORDS = { 'suzhou-gw01': 'suzhou-gw01-password', [`${E1}/GW02`]: 'suzhou-gw02-password', 'jining-gw01': 'jining-gw01-password' };

/** The return codes of the SUBACK answering a subscription of `filters` (MQTT.js rejects on any failure). */
async function suback(client: MqttClient, filters: string[]): Promise<number[]> {
  const granted = new Promise<number[]>((resolve) => {
    const on = (packet: Packet): void => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', on);
      resolve(packet.granted as number[]);
    };
    client.on('packetreceive', on);
  });
  await client.subscribeAsync(filters, { qos: 1 }).catch((err: Error) => expect(err.message).toMatch(/^Subscribe error/));
  return granted;
}

const uid = (name: string): string => `${name}-${Math.random().toString(36).slice(2)}`;

describe('EmbeddedBroker with gateway authentication', () => {
  let dir: string;
  let credentials: GatewayCredentials;
  let broker: EmbeddedBroker;
  let monitor: MqttClient;
  const seen: string[] = [];
  const refusals: RefusalEvent[] = [];
  let onRefusal = (): void => undefined;
  /** Resolves once `n` refusals were reported since the test began. */
  const refused = (n: number): Promise<void> =>
    new Promise((resolve) => {
      onRefusal = () => void (refusals.length >= n && resolve());
      onRefusal();
    });
  const clients: MqttClient[] = [];

  const connect = async (options: IClientOptions): Promise<MqttClient> => {
    const c = await connectAsync(broker.url, { clientId: uid('c'), reconnectPeriod: 0, ...options });
    clients.push(c);
    return c;
  };
  const gateway = (username: string, password: string, options: IClientOptions = {}): Promise<MqttClient> => connect({ username, password, ...options });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-broker-auth-'));
    credentials = GatewayCredentials.load(join(dir, 'gateway-credentials.json'));
    for (const [key, password] of Object.entries(PASSWORDS)) await credentials.setPassword(key, password);
    broker = await EmbeddedBroker.start(0, '127.0.0.1', {
      auth: new GatewayAuthority(lookup, credentials),
      internalClient: MONITOR,
      onRefused: (event) => {
        refusals.push(event);
        onRefusal();
      },
    });
    monitor = await connect({ ...MONITOR, clientId: uid('monitor') });
    monitor.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    const granted = await monitor.subscribeAsync(['sites/+/+/telemetry', 'sites/+/+/status'], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    refusals.length = 0;
    seen.length = 0;
  });

  it('refuses anonymous clients as not authorized', async () => {
    await expect(connect({})).rejects.toThrow(/Not authorized/);
    expect(refusals).toMatchObject([{ kind: 'connect', address: '127.0.0.1' }]);
    expect(refusals[0]!.reason).toMatch(/anonymous/);
  });

  it('refuses a wrong password, an unregistered gateway and a username that is no gateway', async () => {
    await expect(gateway(`${E1}/GW01`, 'not-the-password')).rejects.toThrow(/Bad username or password/);
    await expect(gateway(`${E1}/GW99`, PASSWORDS['suzhou-gw01'])).rejects.toThrow(/Bad username or password/);
    await expect(gateway('admin', PASSWORDS['suzhou-gw01'])).rejects.toThrow(/Bad username or password/);
    await expect(gateway(MONITOR.username, 'not-the-password')).rejects.toThrow(/Bad username or password/);
    expect(refusals.map((r) => [r.kind, r.username, r.reason])).toEqual([
      ['connect', `${E1}/GW01`, `${E1}/GW01 (credential suzhou-gw01): wrong password`],
      ['connect', `${E1}/GW99`, `${E1}/GW99 is not a registered gateway`],
      ['connect', 'admin', 'username "admin" is not <enterpriseCode>/<gatewayCode>'],
      ['connect', MONITOR.username, `wrong password for ${MONITOR.username}`],
    ]);
  });

  it("drops a gateway's messages to another enterprise's or another gateway's topics, acknowledges them and keeps it connected", async () => {
    const gw = await gateway(`${E1}/GW01`, PASSWORDS['suzhou-gw01'], { clientId: uid('gw') });
    await gw.publishAsync(`sites/${E2}/GW01/telemetry`, 'foreign enterprise', { qos: 1 });
    await gw.publishAsync(`sites/${E1}/GW02/telemetry`, 'sibling gateway', { qos: 1 });
    await gw.publishAsync(`sites/${E2}/GW01/status`, 'offline', { qos: 1, retain: true });
    gw.publish(`sites/${E1}/GW02/status`, 'offline', { qos: 0 });
    const own = arrival(monitor, `sites/${E1}/GW01/telemetry`, 'own');
    await gw.publishAsync(`sites/${E1}/GW01/telemetry`, 'own', { qos: 1 });
    await own;
    expect(seen).toEqual([`sites/${E1}/GW01/telemetry own`]);
    expect(gw.connected).toBe(true);
    expect(refusals.map((r) => [r.kind, r.username, r.topic])).toEqual([
      ['publish', `${E1}/GW01`, `sites/${E2}/GW01/telemetry`],
      ['publish', `${E1}/GW01`, `sites/${E1}/GW02/telemetry`],
      ['publish', `${E1}/GW01`, `sites/${E2}/GW01/status`],
      ['publish', `${E1}/GW01`, `sites/${E1}/GW02/status`],
    ]);
    expect(refusals[0]!.reason).toBe(`${E1}/GW01 may publish only sites/${E1}/GW01/telemetry and sites/${E1}/GW01/status`);

    // The refused retained status was not kept either: a new subscription gets none.
    const late = await connect({ ...MONITOR, clientId: uid('monitor-late') });
    const retained: string[] = [];
    late.on('message', (topic) => retained.push(topic));
    await late.subscribeAsync('sites/#', { qos: 1 });
    const ownStatus = arrival(late, `sites/${E1}/GW01/status`, 'online');
    await gw.publishAsync(`sites/${E1}/GW01/status`, 'online', { qos: 1 });
    await ownStatus;
    expect(retained).toEqual([`sites/${E1}/GW01/status`]);
  });

  it("publishes a gateway's last will on its own status topic", async () => {
    const status = `sites/${E1}/GW02/status`;
    const gw = await gateway(`${E1}/GW02`, PASSWORDS[`${E1}/GW02`], { will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: false } });
    const will = arrival(monitor, status, 'offline');
    gw.stream.destroy();
    await will;
    expect(refusals).toEqual([]);
  });

  it('refuses every subscription of a gateway, and the monitor any outside sites/', async () => {
    const gw = await gateway(`${E2}/GW01`, PASSWORDS['jining-gw01']);
    expect(await suback(gw, ['sites/#', `sites/${E2}/GW01/telemetry`])).toEqual([128, 128]);
    expect(await suback(monitor, ['#', 'sites/#'])).toEqual([128, 1]);
    await monitor.unsubscribeAsync('sites/#');
    expect(refusals.map((r) => [r.kind, r.username, r.topic])).toEqual([
      ['subscribe', `${E2}/GW01`, 'sites/#'],
      ['subscribe', `${E2}/GW01`, `sites/${E2}/GW01/telemetry`],
      ['subscribe', MONITOR.username, '#'],
    ]);
    expect(gw.connected).toBe(true);
  });

  it('refuses an MQTT 5 gateway whatever its password: aedes 1.2 speaks MQTT 3.1.1 only', async () => {
    await expect(gateway(`${E2}/GW01`, PASSWORDS['jining-gw01'], { protocolVersion: 5 })).rejects.toThrow(/Unacceptable protocol version/);
    await refused(1);
    expect(refusals).toMatchObject([{ kind: 'connect', address: '127.0.0.1' }]);
    expect(refusals[0]!.reason).toMatch(/use mosquitto for MQTT 5/);
    const v311 = await gateway(`${E2}/GW01`, PASSWORDS['jining-gw01'], { protocolVersion: 4 });
    expect(v311.connected).toBe(true);
  });

  it("refuses a gateway taking the monitor's client id", async () => {
    await expect(gateway(`${E2}/GW01`, PASSWORDS['jining-gw01'], { clientId: monitor.options.clientId! })).rejects.toThrow(/Not authorized/);
    expect(monitor.connected).toBe(true);
  });

  it('refuses a disabled credential at once, even one verified before', async () => {
    const first = await gateway(`${E1}/GW02`, PASSWORDS[`${E1}/GW02`]);
    await first.endAsync();
    credentials.disable(`${E1}/GW02`);
    await expect(gateway(`${E1}/GW02`, PASSWORDS[`${E1}/GW02`])).rejects.toThrow(/Bad username or password/);
    expect(refusals.at(-1)?.reason).toBe(`${E1}/GW02 (credential ${E1}/GW02): its credential is disabled`);
  });

  it('takes a password changed in the file by another process at the next connection, without a restart', async () => {
    const before = await gateway(`${E2}/GW01`, PASSWORDS['jining-gw01']);
    await before.endAsync();
    // A second store on the same file plays the CLI.
    await GatewayCredentials.load(credentials.path).setPassword('jining-gw01', 'jining-gw01-new-password');
    await expect(gateway(`${E2}/GW01`, PASSWORDS['jining-gw01'])).rejects.toThrow(/Bad username or password/);
    const after = await gateway(`${E2}/GW01`, 'jining-gw01-new-password');
    expect(after.connected).toBe(true);
  });
});

describe('EmbeddedBroker with allowAnonymous', () => {
  it('lets anyone connect, publish anywhere and subscribe, auth or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-broker-open-'));
    const refusals: RefusalEvent[] = [];
    const broker = await EmbeddedBroker.start(0, '127.0.0.1', {
      auth: new GatewayAuthority(lookup, GatewayCredentials.load(join(dir, 'none.json'))),
      internalClient: MONITOR,
      allowAnonymous: true,
      onRefused: (e) => refusals.push(e),
    });
    try {
      const sub = await connectAsync(broker.url, { clientId: uid('anon-sub'), reconnectPeriod: 0 });
      expect((await sub.subscribeAsync('#', { qos: 1 })).map((g) => g.qos)).toEqual([1]);
      const pub = await connectAsync(broker.url, { clientId: uid('anon-pub'), username: 'whoever', password: 'whatever', reconnectPeriod: 0 });
      const got = arrival(sub, 'anything/at/all', 'hello');
      await pub.publishAsync('anything/at/all', 'hello', { qos: 1 });
      await got;
      expect(refusals).toEqual([]);
      await pub.endAsync();
      await sub.endAsync();
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('needs the internal client when it checks gateways', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-broker-open-'));
    try {
      await expect(EmbeddedBroker.start(0, '127.0.0.1', { auth: new GatewayAuthority(lookup, GatewayCredentials.load(join(dir, 'none.json'))) })).rejects.toThrow(/internalClient/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
