import { parseArgs } from 'node:util';
import type { Gateway } from '#libs/contracts/index.js';
import { credentialKey, GatewayCredentials, gatewayUsername, identityOf, MIN_PASSWORD_LENGTH, parseGatewayUsername } from '#libs/gateway-auth/index.js';
import { loadRegistry } from '#libs/registry/index.js';
import { type CliIo, configDir, credentialsPath, exitCodeOf, UsageError } from './cli-io.js';

export const GATEWAYS_USAGE = `usage: npm run gateways -- <command>
  passwd <enterpriseCode>/<gatewayCode> [--password-stdin]
      set the gateway's MQTT password: read from stdin with --password-stdin, else from GATEWAY_PASSWORD
      (at least ${MIN_PASSWORD_LENGTH} characters); the gateway must be registered under CONFIG_DIR
  list
      every registered gateway and credential: key, state, last change (never a hash)
  disable <key | enterpriseCode/gatewayCode>
      refuse the gateway's logins from its next connection on; passwd enables it again
environment: GATEWAY_CREDENTIALS (default <DATA_DIR or ./data>/gateway-credentials.json), CONFIG_DIR (default ./config)`;

const COMMANDS = ['passwd', 'list', 'disable'];

interface Registered {
  readonly dir: string;
  readonly gateways: readonly Gateway[];
}

/** `npm run gateways -- passwd|list|disable`: the gateway credentials file, checked against the registry. */
export function gatewaysCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return exitCodeOf(io, GATEWAYS_USAGE, async () => {
    const { values, positionals } = parseArgs({ args: [...argv], options: { 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
    if (values.help) {
      io.out(GATEWAYS_USAGE);
      return 0;
    }
    const [command, target, ...extra] = positionals;
    if (command === undefined || !COMMANDS.includes(command)) throw new UsageError(command === undefined ? 'no command given' : `unknown command ${command}`, true);
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`, true);
    const path = credentialsPath(io.env);
    const registry = { dir: configDir(io.env), gateways: loadRegistry(configDir(io.env)).allGateways() };
    if (command === 'passwd') return passwd(io, path, registry, target, values['password-stdin'] ?? false);
    if (command === 'disable') return disable(io, path, registry.gateways, target);
    if (target !== undefined) throw new UsageError(`list takes no argument (got ${target})`, true);
    return list(io, path, registry.gateways);
  });
}

async function passwd(io: CliIo, path: string, registry: Registered, username: string | undefined, fromStdin: boolean): Promise<number> {
  const { gateways } = registry;
  const gateway = registeredGateway(registry, username);
  const password = fromStdin ? withoutFinalNewline(await io.readStdin()) : io.env.GATEWAY_PASSWORD;
  if (password === undefined || password === '') throw new UsageError('no password: pipe it in with --password-stdin or set GATEWAY_PASSWORD');
  if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password has ${password.length} characters; a gateway password needs at least ${MIN_PASSWORD_LENGTH}`);
  const key = credentialKey(gateway);
  await GatewayCredentials.load(path).setPassword(key, password);
  const sharing = gateways.filter((g) => g !== gateway && credentialKey(g) === key).map((g) => gatewayUsername(identityOf(g)));
  io.out(`password set for ${gatewayUsername(identityOf(gateway))} (credential ${key}) in ${path}`);
  if (sharing.length > 0) io.out(`the same credential also logs in ${sharing.join(', ')}`);
  io.out('the embedded broker checks it from the next connection on; for mosquitto run npm run mosquitto-config -- --out <dir>');
  return 0;
}

function list(io: CliIo, path: string, gateways: readonly Gateway[]): number {
  const entries = new Map(GatewayCredentials.load(path).list().map((e) => [e.key, e]));
  const rows = gateways
    .map((g) => {
      const key = credentialKey(g);
      const entry = entries.get(key);
      return [gatewayUsername(identityOf(g)), key, entry ? (entry.disabled ? 'disabled' : 'active') : 'none', entry?.updatedAt ?? '-'];
    })
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const used = new Set(gateways.map(credentialKey));
  for (const e of entries.values()) if (!used.has(e.key)) rows.push(['(no registered gateway)', e.key, e.disabled ? 'disabled' : 'active', e.updatedAt]);
  io.out(table([['gateway', 'credential', 'state', 'updated'], ...rows]));
  io.out(`${path}: ${entries.size} credential${entries.size === 1 ? '' : 's'}`);
  return 0;
}

function disable(io: CliIo, path: string, gateways: readonly Gateway[], target: string | undefined): number {
  if (target === undefined) throw new UsageError('disable needs a credential key or <enterpriseCode>/<gatewayCode>', true);
  const byUsername = gateways.find((g) => gatewayUsername(identityOf(g)) === target);
  const key = byUsername ? credentialKey(byUsername) : target;
  if (!GatewayCredentials.load(path).disable(key)) throw new UsageError(`no credential ${key} in ${path} (npm run gateways -- list)`);
  io.out(`credential ${key} disabled in ${path}: refused from the next connection on (set a new password with passwd to enable it)`);
  return 0;
}

function registeredGateway({ dir, gateways }: Registered, username: string | undefined): Gateway {
  if (username === undefined) throw new UsageError('passwd needs <enterpriseCode>/<gatewayCode>', true);
  const id = parseGatewayUsername(username);
  if (!id) throw new UsageError(`${username}: expected <enterpriseCode>/<gatewayCode>, e.g. 91320594MA1WKTRP3E/GW01`);
  const gateway = gateways.find((g) => g.enterpriseCode === id.enterpriseCode && g.code === id.gatewayCode);
  if (!gateway) throw new UsageError(`${username} is not a registered gateway in ${dir}; registered: ${gateways.map((g) => gatewayUsername(identityOf(g))).slice(0, 10).join(', ') || 'none'}`);
  return gateway;
}

function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
