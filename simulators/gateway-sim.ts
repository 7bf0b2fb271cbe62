// CLI: publish the sites of CONFIG_DIR (or --config) to an MQTT broker, like real gateways.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '#libs/config/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { startSimulator } from './gateway.simulator.js';
import { writeNationalRegistry } from './national-registry.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    config: { type: 'string', default: './config' },
    // registry (default): each gateway every reportingPeriodS of the registry; a number of ms: every gateway that often.
    period: { type: 'string', default: 'registry' },
    excursion: { type: 'string', default: '30000' },
    seed: { type: 'string', default: '42' },
    // JSON {"<enterpriseCode>/<gatewayCode>": "<password>"}: those gateways log in as themselves.
    passwords: { type: 'string' },
    // realistic (default): per point type (signals.ts); walk: a random walk around the middle of the band.
    signals: { type: 'string', default: 'realistic' },
    // A generated registry instead of --config: N enterprises of P points over S hazard sources each.
    enterprises: { type: 'string' },
    sources: { type: 'string', default: '4' },
    points: { type: 'string', default: '20' },
    speed: { type: 'string', default: '1' },
  },
});

/** Bad command-line input: said in one line, exit 2. */
class BadOption extends Error {}

function readPasswords(file: string): Record<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${file}: expected a JSON object {"<enterpriseCode>/<gatewayCode>": "<password>"}`);
  }
  return parsed as Record<string, string>;
}

function registryDir(): string {
  if (values.enterprises === undefined) return values.config;
  const enterprises = Number(values.enterprises);
  const perEnterprise = Number(values.points);
  const sources = Number(values.sources);
  if (![enterprises, perEnterprise, sources].every((n) => Number.isInteger(n) && n > 0)) throw new BadOption('--enterprises, --points and --sources: integers above 0');
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-sim-registry-'));
  writeNationalRegistry(dir, { points: enterprises * perEnterprise, pointsPerEnterprise: perEnterprise, sourcesPerEnterprise: sources });
  cpSync(resolve(values.config, 'profiles'), join(dir, 'profiles'), { recursive: true });
  console.log(`generated ${enterprises} enterprises × ${perEnterprise} points over ${sources} hazard sources in ${dir} (use it as the monitor's CONFIG_DIR)`);
  return dir;
}

try {
  if (values.signals !== 'realistic' && values.signals !== 'walk') throw new BadOption(`--signals ${values.signals}: expected realistic or walk`);
  if (values.speed !== '1') {
    throw new BadOption(
      '--speed: a running monitor takes each reading at its arrival (a reading stamped ahead of it is a gateway clock running fast), so readings cannot be sent faster than time passes. ' +
        'For an accelerated day run `npm run standard-day` (the monitor on a virtual clock); to replay buffered readings quickly, write a scenario with clockOffsetS (docs/scenarios.md).',
    );
  }
  if (values.period !== 'registry' && !(Number(values.period) >= 50)) throw new BadOption(`--period ${values.period}: expected registry, or a number of milliseconds of 50 or more`);
  const registry = loadRegistry(registryDir());
  const passwords = values.passwords === undefined ? {} : readPasswords(values.passwords);
  const sim = await startSimulator({
    url: values.url,
    points: registry.allPoints(),
    periodMs: values.period === 'registry' ? 1000 : Number(values.period),
    ...(values.period === 'registry' && { gatewayPeriodMs: (g: { enterpriseCode: string; gatewayCode: string }) => (registry.findGateway(g.enterpriseCode, g.gatewayCode)?.reportingPeriodS ?? 1) * 1000 }),
    excursionEveryMs: Number(values.excursion),
    seed: Number(values.seed),
    password: (g) => passwords[`${g.enterpriseCode}/${g.gatewayCode}`],
    signals: values.signals,
  });
  const started = Date.now();
  console.log(`simulating ${registry.allPoints().length} points (${values.signals} signals, seed ${values.seed}) to ${values.url} ${values.period === 'registry' ? 'at each gateway\'s reporting period' : `every ${values.period} ms`} (Ctrl-C stops)`);
  const line = (): string => {
    const { sent, refused } = sim.messages();
    const s = (Date.now() - started) / 1000;
    return `${Math.round(s)} s: ${sent} messages, ${sim.published()} readings (${Math.round(sim.published() / Math.max(s, 1))} readings/s), ${refused} refused by the broker`;
  };
  const progress = setInterval(() => console.log(line()), 10_000);
  progress.unref();
  const stop = (): void => {
    clearInterval(progress);
    const summary = line();
    void sim.stop().then(() => {
      console.log(`summary: ${summary}`);
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof BadOption ? err.message : err);
  process.exit(err instanceof BadOption ? 2 : 1);
}
