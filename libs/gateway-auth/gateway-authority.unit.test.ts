import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '#libs/contracts/index.js';
import { aGateway } from '#libs/testing/builders.js';
import { GatewayCredentials } from './credentials.store.js';
import { GatewayAuthority } from './gateway-authority.js';

const E1 = '91320594MA1WKTRP3E';

describe('GatewayAuthority', () => {
  let dir: string;
  let credentials: GatewayCredentials;
  let registered: Gateway[] = [aGateway({ code: 'GW01', credentialsRef: 'suzhou-gw01' }), aGateway({ code: 'GW02' })];
  const authority = (): GatewayAuthority => new GatewayAuthority((e, g) => registered.find((x) => x.enterpriseCode === e && x.code === g), credentials);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-authority-'));
    credentials = GatewayCredentials.load(join(dir, 'c.json'));
    await credentials.setPassword('suzhou-gw01', 'gw01-password-1');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('authenticates a registered gateway with the password of its credential key', async () => {
    expect(await authority().authenticate(`${E1}/GW01`, 'gw01-password-1')).toEqual({ ok: true, gateway: { enterpriseCode: E1, gatewayCode: 'GW01' } });
    expect(await authority().authenticate(`${E1}/GW01`, 'gw01-password-2')).toEqual({ ok: false, reason: `${E1}/GW01 (credential suzhou-gw01): wrong password` });
    expect(await authority().authenticate(`${E1}/GW02`, 'gw01-password-1')).toEqual({
      ok: false,
      reason: `${E1}/GW02 (credential ${E1}/GW02): no credential set (npm run gateways -- passwd)`,
    });
    expect(await authority().authenticate('suzhou-gw01', 'gw01-password-1')).toMatchObject({ ok: false });
  });

  it('authenticates a certificate CN that names a registered gateway', () => {
    expect(authority().authenticateCertificate(`${E1}/GW02`)).toEqual({ ok: true, gateway: { enterpriseCode: E1, gatewayCode: 'GW02' } });
    expect(authority().authenticateCertificate(`${E1}/GW03`)).toMatchObject({ ok: false });
  });

  it('stops a gateway removed from the registry from publishing, even connected', () => {
    const gw = { enterpriseCode: E1, gatewayCode: 'GW02' };
    const a = authority();
    expect(a.publishRefusal(gw, `sites/${E1}/GW02/telemetry`)).toBeNull();
    registered = registered.filter((g) => g.code !== 'GW02');
    expect(a.publishRefusal(gw, `sites/${E1}/GW02/telemetry`)).toBe(`${E1}/GW02 is no longer registered`);
  });
});
