import { resolve } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '#libs/registry/index.js';
import { startMosquitto, type TestService } from '#libs/testing/services.js';
import { gatewayCheckCommand } from '#apps/cli/gateway-check.command.js';
import type { CliIo } from '#apps/cli/cli-io.js';
import { startSimulator, type RunningSimulator } from '../simulators/index.js';

const SUZHOU = '91320594MA1WKTRP3E';
const JINING = '91370800MA3CD7LN28';

/**
 * The gateway conformance check against real mosquitto: the simulator as a well-behaved gateway passes; a broken one
 * (QoS 0, a clock two minutes fast, a wrong shape, a wrong topic, points missing, no retained status) is told
 * exactly those problems.
 */
describe('gateway conformance check', () => {
  let mosquitto: TestService;
  let good: RunningSimulator;
  let broken: MqttClient;
  let stopBroken: NodeJS.Timeout | null = null;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    const points = loadRegistry(resolve('config')).allPoints().filter((p) => p.enterpriseCode === SUZHOU);
    good = await startSimulator({ url: mosquitto.url, points, periodMs: 500, excursionEveryMs: 0, clientIdPrefix: 'check-good' });
    broken = await connectAsync(mosquitto.url, { clientId: 'check-broken' });
    const send = (): void => {
      broken.publish(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ ts: Date.now() + 120_000, readings: [{ point: 'DC1-DP', value: 900 }] }), { qos: 0 });
    };
    stopBroken = setInterval(send, 400);
    broken.publish(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: 'DC1-DP=900' }), { qos: 1 });
    broken.publish(`sites/${JINING}/GW01/data`, '{}', { qos: 1 });
  });
  afterAll(async () => {
    if (stopBroken) clearInterval(stopBroken);
    await broken?.endAsync();
    await good?.stop();
    await mosquitto?.stop();
  });

  const run = async (enterprise: string, extra: string[] = []): Promise<{ code: number; out: string[] }> => {
    const out: string[] = [];
    const io: CliIo = { env: { CONFIG_DIR: resolve('config') }, readStdin: () => Promise.resolve(''), out: (l) => out.push(l), err: (l) => out.push(l) };
    const code = await gatewayCheckCommand(['--broker', mosquitto.url, '--enterprise', enterprise, '--gateway', 'GW01', '--for', '2.5', ...extra], io);
    return { code, out };
  };

  it('passes the simulator, a gateway keeping to the contract', async () => {
    const { code, out } = await run(SUZHOU);
    expect(out.filter((l) => l.startsWith('PROBLEM'))).toEqual([]);
    expect(code).toBe(0);
    expect(out.at(-1)).toMatch(/^\d+ messages, 0 problems$/);
  });

  it('lists exactly what a broken gateway does wrong', async () => {
    // Its messages keep coming during the check; the wrong shape and topic are sent again so that it sees them.
    const late = setTimeout(() => {
      broken.publish(`sites/${JINING}/GW01/telemetry`, JSON.stringify({ ts: Date.now(), readings: 'DC1-DP=900' }), { qos: 1 });
      broken.publish(`sites/${JINING}/GW01/data`, '{}', { qos: 1 });
    }, 500);
    const { code, out } = await run(JINING);
    clearTimeout(late);
    const problems = out.filter((l) => l.startsWith('PROBLEM')).map((l) => l.replace(/^PROBLEM {2}/, '').replace(/ \(\d+ times\)$/, ''));
    expect(problems.sort()).toEqual([
      `published to sites/${JINING}/GW01/data: the contract's topics are sites/${JINING}/GW01/telemetry and sites/${JINING}/GW01/status`,
      'message refused (bad_schema): readings must be a non-empty array',
      'published telemetry with QoS 0: the contract asks QoS 1 (at least once)',
      "clock ahead of the receiver's by about 120 s (NTP?)",
      'registered points never reported: DC1-TE, DC1-SPARK, DC1-FAN, DC1-KW',
      `no retained status on sites/${JINING}/GW01/status when the check subscribed: publish "online" with the retain flag when connecting, and set "offline" (retained) as the last will`,
    ].sort());
    expect(code).toBe(1);
  });

  it('refuses a gateway the registry does not know, naming it', async () => {
    const out: string[] = [];
    const io: CliIo = { env: { CONFIG_DIR: resolve('config') }, readStdin: () => Promise.resolve(''), out: (l) => out.push(l), err: (l) => out.push(l) };
    expect(await gatewayCheckCommand(['--broker', mosquitto.url, '--enterprise', JINING, '--gateway', 'GW09', '--for', '1'], io)).toBe(2);
    expect(out[0]).toContain(`gateway GW09 of enterprise ${JINING} is not in the registry`);
  });
});
