import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayCredentials, verifyMosquittoHash } from '#libs/gateway-auth/index.js';
import type { CliIo } from './cli-io.js';
import { gatewaysCommand } from './gateways.command.js';
import { mosquittoConfigCommand } from './mosquitto-config.command.js';

const SUZHOU = '91320594MA1WKTRP3E/GW01';
const JINING = '91370800MA3CD7LN28/GW01';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

describe('gateway CLIs', () => {
  let dir: string;
  let env: Record<string, string | undefined>;
  const run = async (command: typeof gatewaysCommand, argv: string[], stdin = '', extraEnv: Record<string, string> = {}): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { env: { ...env, ...extraEnv }, readStdin: () => Promise.resolve(stdin), out: (l) => out.push(l), err: (l) => err.push(l) };
    const code = await command(argv, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const gateways = (argv: string[], stdin?: string, extraEnv?: Record<string, string>): Promise<Run> => run(gatewaysCommand, argv, stdin, extraEnv);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
    env = { CONFIG_DIR: resolve('config'), DATA_DIR: join(dir, 'data') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sets a registered gateway password from stdin or GATEWAY_PASSWORD under its credential key', async () => {
    const viaStdin = await gateways(['passwd', SUZHOU, '--password-stdin'], 'suzhou-password-1\n');
    expect(viaStdin).toMatchObject({ code: 0, err: '' });
    expect(viaStdin.out).toContain(`password set for ${SUZHOU} (credential suzhou-demo-gw01) in ${join(dir, 'data', 'gateway-credentials.json')}`);
    expect((await gateways(['passwd', JINING], '', { GATEWAY_PASSWORD: 'jining-password-1' })).code).toBe(0);

    const store = GatewayCredentials.load(join(dir, 'data', 'gateway-credentials.json'));
    expect(await store.verify('suzhou-demo-gw01', 'suzhou-password-1')).toBe(true);
    expect(await store.verify('jining-demo-gw01', 'jining-password-1')).toBe(true);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);

    const listed = await gateways(['list']);
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n').map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['gateway', 'credential', 'state'],
      [SUZHOU, 'suzhou-demo-gw01', 'active'],
      [JINING, 'jining-demo-gw01', 'active'],
      [`${store.path}:`, '2', 'credentials'],
    ]);
    expect(listed.out).not.toContain('$argon2id$');
    expect(listed.out).not.toContain('$7$');
  });

  it('disables by credential key or gateway, and lists it so', async () => {
    await gateways(['passwd', SUZHOU], '', { GATEWAY_PASSWORD: 'suzhou-password-1' });
    expect((await gateways(['disable', SUZHOU])).code).toBe(0);
    expect((await gateways(['list'])).out).toMatch(new RegExp(`${SUZHOU}\\s+suzhou-demo-gw01\\s+disabled`));
    expect((await gateways(['disable', 'suzhou-demo-gw01'])).code).toBe(0);
    const unknown = await gateways(['disable', 'jining-demo-gw01']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toContain('no credential jining-demo-gw01');
  });

  it('refuses bad input with exit code 2 and says what is expected', async () => {
    const cases: [string[], string, Record<string, string>, RegExp][] = [
      [['passwd', `${SUZHOU.slice(0, -1)}9`], '', { GATEWAY_PASSWORD: 'long-enough-password' }, /91320594MA1WKTRP3E\/GW09 is not a registered gateway/],
      [['passwd', 'GW01'], '', { GATEWAY_PASSWORD: 'long-enough-password' }, /expected <enterpriseCode>\/<gatewayCode>/],
      [['passwd', SUZHOU, '--password-stdin'], 'short\n', {}, /5 characters; a gateway password needs at least 12/],
      [['passwd', SUZHOU], '', {}, /no password: pipe it in with --password-stdin or set GATEWAY_PASSWORD/],
      [['rotate', SUZHOU], '', {}, /unknown command rotate/],
      [['list', '--force'], '', {}, /Unknown option '--force'/],
      [[], '', {}, /no command given/],
    ];
    for (const [argv, stdin, extra, message] of cases) {
      const result = await gateways(argv, stdin, extra);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).toMatch(message);
    }
    const badConfig = await gateways(['list'], '', { CONFIG_DIR: join(dir, 'no-such-config') });
    expect(badConfig.code).toBe(2);
  });

  it('writes passwd and acl for mosquitto from the registry and the credentials, leaving out gateways without one', async () => {
    await gateways(['passwd', SUZHOU], '', { GATEWAY_PASSWORD: 'suzhou-password-1' });
    const out = join(dir, 'mosquitto');
    expect((await run(mosquittoConfigCommand, ['--out', out])).err).toMatch(/MQTT_PASSWORD is not set/);
    const result = await run(mosquittoConfigCommand, ['--out', out], '', { MQTT_PASSWORD: 'monitor-password-1' });
    expect(result.code).toBe(0);
    expect(result.out).toContain(`left out ${JINING} (credential jining-demo-gw01): no credential in`);
    const passwd = readFileSync(join(out, 'passwd'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(passwd.map((l) => l.split(/:(.*)/s)[0])).toEqual(['sentinel-monitor', SUZHOU]);
    expect(verifyMosquittoHash(passwd[0]!.split(/:(.*)/s)[1]!, 'monitor-password-1')).toBe(true);
    expect(verifyMosquittoHash(passwd[1]!.split(/:(.*)/s)[1]!, 'suzhou-password-1')).toBe(true);
    expect(statSync(join(out, 'passwd')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'acl'), 'utf8')).toContain(`user ${SUZHOU}\ntopic write sites/${SUZHOU}/telemetry\ntopic write sites/${SUZHOU}/status\n`);
    expect((await run(mosquittoConfigCommand, [], '', { MQTT_PASSWORD: 'x' })).code).toBe(2);
    expect((await run(mosquittoConfigCommand, ['--out', out, '--owner', 'mosquitto'], '', { MQTT_PASSWORD: 'x' })).err).toMatch(/expected a numeric <uid>/);
  });
});
