import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { ConfigError } from '#libs/config/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { judgeGateway, observedOf } from '../../simulators/gateway-check.js';
import { EXIT_BAD_INPUT, UsageError, type CliIo } from './cli-io.js';

export const GATEWAY_CHECK_USAGE = `usage: npm run gateway-check -- --broker mqtt://… --enterprise <code> --gateway <code> [--for 60]
  Listens to one gateway for a while (subscribing to sites/<enterprise>/#; MQTT_USERNAME and MQTT_PASSWORD for a
  broker that needs a login that may read) and reports every departure from the MQTT contract in words: topics,
  JSON shape, QoS, timestamps against this host's clock and against each other, points unknown to or missing from
  the registry (CONFIG_DIR), reporting periods against the registry, the retained status. Exit 0: none; 1: some.`;

/** \`npm run gateway-check\`: the conformance check of one gateway, for integrators (docs/scenarios.md). */
export async function gatewayCheckCommand(args: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({ args: [...args], options: { broker: { type: 'string' }, enterprise: { type: 'string' }, gateway: { type: 'string' }, for: { type: 'string' }, 'skew-tolerance': { type: 'string' } } });
    if (!values.broker || !values.enterprise || !values.gateway) throw new UsageError('--broker, --enterprise and --gateway are needed');
    const seconds = Number(values.for ?? 60);
    if (!(seconds > 0)) throw new UsageError(`--for ${values.for}: expected seconds above 0`);
    const registry = loadRegistry(io.env.CONFIG_DIR ?? './config');
    const enterpriseCode = values.enterprise;
    const gatewayCode = values.gateway;
    if (!registry.findGateway(enterpriseCode, gatewayCode)) throw new UsageError(`gateway ${gatewayCode} of enterprise ${enterpriseCode} is not in the registry under ${io.env.CONFIG_DIR ?? './config'}`);
    const points = registry.queryPoints({ enterpriseCode }, 0, 100_000).items.filter((p) => p.gatewayCode === gatewayCode);
    const client = await connectAsync(values.broker, {
      clientId: `gateway-check-${Date.now()}`,
      reconnectPeriod: 0,
      ...(io.env.MQTT_USERNAME && { username: io.env.MQTT_USERNAME, password: io.env.MQTT_PASSWORD ?? '' }),
    });
    const observed: ReturnType<typeof observedOf>[] = [];
    client.on('message', (topic, payload, packet) => {
      if (topic.startsWith(`sites/${enterpriseCode}/`) && (topic.startsWith(`sites/${enterpriseCode}/${gatewayCode}/`) || !/^sites\/[^/]+\/[^/]+\/(telemetry|status)$/.test(topic))) observed.push(observedOf(topic, payload, packet));
    });
    await client.subscribeAsync(`sites/${enterpriseCode}/#`, { qos: 1 });
    io.out(`listening to ${enterpriseCode}/${gatewayCode} on ${values.broker} for ${seconds} s (${points.length} registered points)`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await client.endAsync();
    const report = judgeGateway({ enterpriseCode, gatewayCode, points, skewToleranceMs: Number(values['skew-tolerance'] ?? 5) * 1000 }, observed, registry);
    for (const p of report.problems) io.out(`PROBLEM  ${p}`);
    for (const n of report.notes) io.out(`note     ${n}`);
    io.out(`${report.messages} messages, ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
    return report.problems.length === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      io.err(GATEWAY_CHECK_USAGE);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }
}
