import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GatewayCredentials, type MosquittoFiles, mosquittoFiles, mosquittoHash, writeFileAtomically } from '#libs/gateway-auth/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { type CliIo, configDir, credentialsPath, exitCodeOf, UsageError } from './cli-io.js';

export const MOSQUITTO_CONFIG_USAGE = `usage: npm run mosquitto-config -- --out <dir> [--owner <uid>[:<gid>]]
  writes <dir>/passwd (mode 0600) and <dir>/acl for mosquitto 2: every registered gateway with an active credential
  may write sites/<enterpriseCode>/<gatewayCode>/telemetry and /status; the monitor user reads sites/#
  --owner  give both files to the broker's user (mosquitto reads them after dropping root: 1883 in the
           eclipse-mosquitto image, \`id -u mosquitto\` on Debian)
environment: MQTT_USERNAME (default sentinel-monitor) and MQTT_PASSWORD (required) of the monitor,
  GATEWAY_CREDENTIALS (default <DATA_DIR or ./data>/gateway-credentials.json), CONFIG_DIR (default ./config)`;

/** `npm run mosquitto-config -- --out <dir>`: passwd and acl for an external mosquitto, from registry + credentials. */
export function mosquittoConfigCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return exitCodeOf(io, MOSQUITTO_CONFIG_USAGE, () => {
    const { values } = parseArgs({ args: [...argv], options: { out: { type: 'string' }, owner: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      io.out(MOSQUITTO_CONFIG_USAGE);
      return 0;
    }
    if (!values.out) throw new UsageError('--out <dir> is required', true);
    const owner = values.owner === undefined ? null : parseOwner(values.owner);
    const password = io.env.MQTT_PASSWORD;
    if (!password) throw new UsageError("MQTT_PASSWORD is not set: it is the monitor's password on mosquitto");
    const username = io.env.MQTT_USERNAME || 'sentinel-monitor';
    const path = credentialsPath(io.env);
    const credentials = GatewayCredentials.load(path);
    const gateways = loadRegistry(configDir(io.env)).allGateways();
    const files = generate(() => mosquittoFiles({ gateways, credential: (key) => credentials.entry(key), monitor: { username, passwordHash: mosquittoHash(password) } }));
    const written = [
      { file: join(values.out, 'passwd'), content: files.passwd, mode: 0o600 },
      { file: join(values.out, 'acl'), content: files.acl, mode: 0o644 },
    ];
    for (const { file, content, mode } of written) {
      writeFileAtomically(file, content, mode);
      if (owner) chownSync(file, owner.uid, owner.gid);
    }
    const n = files.included.length;
    io.out(`wrote ${written.map((w) => w.file).join(' and ')}: ${username} reads sites/#, ${n === 1 ? '1 gateway writes its' : `${n} gateways write their`} own topics`);
    for (const s of files.skipped) io.out(`  left out ${s.username} (credential ${s.key}): ${s.reason === 'disabled' ? 'disabled' : `no credential in ${path}`}`);
    if (!owner) io.out("passwd is readable by its owner only: mosquitto must be able to read it (--owner, or chown to the broker's user)");
    io.out('then reload mosquitto (SIGHUP) to apply');
    return 0;
  });
}

function generate(make: () => MosquittoFiles): MosquittoFiles {
  try {
    return make();
  } catch (err) {
    throw new UsageError(`MQTT_USERNAME: ${(err as Error).message}`);
  }
}

/** `<uid>[:<gid>]`; without a gid the group stays (-1). */
function parseOwner(text: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new UsageError(`--owner ${text}: expected a numeric <uid> or <uid>:<gid>`);
  return { uid: Number(m[1]), gid: m[2] === undefined ? -1 : Number(m[2]) };
}
