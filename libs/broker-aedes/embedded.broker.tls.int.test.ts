import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '#libs/contracts/index.js';
import { GatewayAuthority, GatewayCredentials } from '#libs/gateway-auth/index.js';
import { aGateway } from '#libs/testing/builders.js';
import { TestPki } from '#libs/testing/pki.js';
import type { RefusalEvent } from './broker-access.js';
import { EmbeddedBroker } from './embedded.broker.js';
import { arrival } from '#libs/testing/mqtt.js';

const E1 = '91320594MA1WKTRP3E';
const GATEWAYS: Gateway[] = [aGateway({ enterpriseCode: E1, code: 'GW01', credentialsRef: 'suzhou-gw01' }), aGateway({ enterpriseCode: E1, code: 'GW02' })];
const lookup = (e: string, g: string): Gateway | undefined => GATEWAYS.find((x) => x.enterpriseCode === e && x.code === g);
const MONITOR = { username: 'sentinel-monitor', password: 'boot-random-password-1234' };


describe('EmbeddedBroker over TLS with client certificates', () => {
  const pki = new TestPki();
  const gw01 = pki.issued('gw01', `${E1}/GW01`);
  const unregistered = pki.issued('gw99', `${E1}/GW99`);
  const forged = pki.selfSigned('forged', `${E1}/GW01`);
  const serverPem = pki.issued('server', 'sentinel-broker', 'IP:127.0.0.1');
  let credentials: GatewayCredentials;
  let broker: EmbeddedBroker;
  let monitor: MqttClient;
  const refusals: RefusalEvent[] = [];
  const clients: MqttClient[] = [];

  const overTls = async (options: IClientOptions): Promise<MqttClient> => {
    const c = await connectAsync(broker.tlsUrl!, { ca: pki.ca.cert, rejectUnauthorized: true, reconnectPeriod: 0, clientId: `tls-${Math.random().toString(36).slice(2)}`, ...options });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    credentials = GatewayCredentials.load(join(pki.dir, 'gateway-credentials.json'));
    await credentials.setPassword(`${E1}/GW02`, 'suzhou-gw02-password');
    broker = await EmbeddedBroker.start(0, '127.0.0.1', {
      auth: new GatewayAuthority(lookup, credentials),
      internalClient: MONITOR,
      onRefused: (e) => refusals.push(e),
      tls: { port: 0, cert: serverPem.cert, key: serverPem.key, ca: pki.ca.cert, requestClientCert: true },
    });
    monitor = await connectAsync(broker.url, { ...MONITOR, clientId: 'tls-test-monitor', reconnectPeriod: 0 });
    clients.push(monitor);
    await monitor.subscribeAsync('sites/#', { qos: 1 });
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker?.close();
    pki.remove();
  });
  beforeEach(() => {
    refusals.length = 0;
  });

  it('logs a gateway in by its certificate alone, and it still publishes only its own topics', async () => {
    const gw = await overTls({ cert: gw01.cert, key: gw01.key });
    const own = arrival(monitor, `sites/${E1}/GW01/telemetry`, 'by certificate');
    await gw.publishAsync(`sites/${E1}/GW02/telemetry`, 'not mine', { qos: 1 });
    await gw.publishAsync(`sites/${E1}/GW01/telemetry`, 'by certificate', { qos: 1 });
    await own;
    expect(refusals.map((r) => [r.kind, r.username, r.topic])).toEqual([['publish', `${E1}/GW01`, `sites/${E1}/GW02/telemetry`]]);
  });

  it("refuses a certificate that does not chain to the broker's CA, a CN that is no registered gateway, and a username other than the CN", async () => {
    await expect(overTls({ cert: forged.cert, key: forged.key })).rejects.toThrow(/Not authorized/);
    await expect(overTls({ cert: unregistered.cert, key: unregistered.key })).rejects.toThrow(/Not authorized/);
    await expect(overTls({ cert: gw01.cert, key: gw01.key, username: `${E1}/GW02`, password: 'suzhou-gw02-password' })).rejects.toThrow(/Not authorized/);
    expect(refusals.map((r) => r.reason)).toEqual([
      'no username (anonymous clients are not allowed)',
      `certificate CN "${E1}/GW99" is not a registered gateway`,
      `username ${E1}/GW02 differs from its certificate's CN ${E1}/GW01`,
    ]);
  });

  it('takes a password over TLS from a gateway without a certificate', async () => {
    const gw = await overTls({ username: `${E1}/GW02`, password: 'suzhou-gw02-password' });
    expect(gw.connected).toBe(true);
  });

  it('refuses the certificate of a gateway whose credential is disabled', async () => {
    await credentials.setPassword('suzhou-gw01', 'suzhou-gw01-password');
    credentials.disable('suzhou-gw01');
    await expect(overTls({ cert: gw01.cert, key: gw01.key })).rejects.toThrow(/Not authorized/);
    expect(refusals.at(-1)?.reason).toBe(`${E1}/GW01 (credential suzhou-gw01): its credential is disabled`);
  });

  it('will not ask for client certificates without a CA to check them against', async () => {
    await expect(
      EmbeddedBroker.start(0, '127.0.0.1', { auth: new GatewayAuthority(lookup, credentials), internalClient: MONITOR, tls: { port: 0, cert: serverPem.cert, key: serverPem.key, requestClientCert: true } }),
    ).rejects.toThrow(/needs tls.ca/);
  });
});
