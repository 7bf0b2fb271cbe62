// CLI: publish the sites of CONFIG_DIR (or --config) to an MQTT broker, like real gateways.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '#libs/config/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { startSimulator } from './gateway.simulator.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    config: { type: 'string', default: './config' },
    period: { type: 'string', default: '1000' },
    excursion: { type: 'string', default: '30000' },
    seed: { type: 'string', default: '42' },
    // JSON {"<enterpriseCode>/<gatewayCode>": "<password>"}: those gateways log in as themselves.
    passwords: { type: 'string' },
  },
});

function readPasswords(file: string): Record<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${file}: expected a JSON object {"<enterpriseCode>/<gatewayCode>": "<password>"}`);
  }
  return parsed as Record<string, string>;
}

try {
  const registry = loadRegistry(values.config);
  const passwords = values.passwords === undefined ? {} : readPasswords(values.passwords);
  const sim = await startSimulator({
    url: values.url,
    points: registry.allPoints(),
    periodMs: Number(values.period),
    excursionEveryMs: Number(values.excursion),
    seed: Number(values.seed),
    password: (g) => passwords[`${g.enterpriseCode}/${g.gatewayCode}`],
  });
  console.log(`simulating ${registry.allPoints().length} points to ${values.url} every ${values.period} ms (Ctrl-C stops)`);
  const stop = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
