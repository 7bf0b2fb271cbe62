/**
 * OpenID Connect and the accounts behind it, against a real provider in-process (regressions of the second review):
 * a role taken away at the provider is taken away here; a name stays bound to the provider account (iss + sub) that
 * first signed in with it; names the CLI would refuse are refused; two first sign-ins at once both work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcConfig } from '#libs/config/index.js';
import { freePort } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { TEST_ADMIN_PASSWORD } from './support/auth.js';
import { authorizeAt, CookieBrowser, startOidcProvider, type TestOidcProvider } from './support/oidc-provider.js';

const boss: Record<string, string> = { preferred_username: 'boss', sentinel_role: 'commander', sentinel_jurisdiction: '370800' };
const ACCOUNTS = [
  { id: 'acc-boss', claims: boss },
  // Another person at the provider whose preferred_username is (or is set to) "boss": no role claims of their own.
  { id: 'acc-mallory', claims: { preferred_username: 'boss' } },
  { id: 'acc-odd-1', claims: { preferred_username: 'cli:root', sentinel_role: 'viewer', sentinel_jurisdiction: '*' } },
  { id: 'acc-odd-2', claims: { preferred_username: 'Admin', sentinel_role: 'viewer', sentinel_jurisdiction: '*' } },
  { id: 'acc-odd-3', claims: { preferred_username: 'x\u001b[2J\u001b[1;31mroot\tadmin\t*\tlocal\nevil', sentinel_role: 'viewer', sentinel_jurisdiction: '*' } },
  { id: 'acc-new', claims: { preferred_username: 'new.user', sentinel_role: 'viewer', sentinel_jurisdiction: '*' } },
  { id: 'acc-victim', claims: { preferred_username: 'victim', sentinel_role: 'viewer', sentinel_jurisdiction: '*' } },
];

let provider: TestOidcProvider;
let monitor: RunningMonitor;

beforeAll(async () => {
  const port = await freePort();
  const redirectUrl = `http://127.0.0.1:${port}/api/auth/oidc/callback`;
  provider = await startOidcProvider(redirectUrl, ACCOUNTS);
  const oidc: OidcConfig = { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectUrl, roleClaim: 'sentinel_role', jurisdictionClaim: 'sentinel_jurisdiction' };
  monitor = await startMonitor(testConfig({ port, auth: { adminPassword: TEST_ADMIN_PASSWORD, loginPerMinute: 1000, oidc } }));
});
afterAll(async () => {
  await monitor?.close();
  await provider?.stop();
});

describe('OpenID Connect accounts: whose name, whose role', () => {
  const signIn = async (accountId: string): Promise<{ status: number; me: Record<string, unknown> | null; browser: CookieBrowser }> => {
    const browser = new CookieBrowser();
    const res = await browser.request(await authorizeAt(browser, monitor.url, accountId));
    if (res.status !== 302) return { status: res.status, me: null, browser };
    const me = (await (await browser.request(`${monitor.url}/api/auth/me`)).json()) as Record<string, unknown>;
    return { status: res.status, me, browser };
  };

  it('takes a role away when the provider stops sending it', async () => {
    const first = await signIn('acc-boss');
    expect(first.me).toMatchObject({ username: 'boss', role: 'commander' });
    // At the provider, boss leaves the commanders' group: the role and jurisdiction claims are no longer sent.
    delete boss.sentinel_role;
    delete boss.sentinel_jurisdiction;
    const again = await signIn('acc-boss');
    expect(again.status).toBe(403);
    expect(again.me).toBeNull();
  });

  it('does not let another account with the same preferred_username sign in as that user', async () => {
    const m = await signIn('acc-mallory');
    expect(m.status).toBe(403);
  });

  it('refuses user names the CLI would refuse', async () => {
    const taken: string[] = [];
    for (const id of ['acc-odd-1', 'acc-odd-2', 'acc-odd-3']) {
      const r = await signIn(id);
      if (r.status === 302) taken.push(JSON.stringify(r.me!.username));
    }
    expect(taken).toEqual([]);
    expect(monitor.runtime.auth.identity.listUsers().map((u) => u.username)).toEqual(['admin', 'boss']);
  });

  it('answers two simultaneous first sign-ins of the same new user without a 500', async () => {
    const a = new CookieBrowser();
    const b = new CookieBrowser();
    const [ca, cb] = await Promise.all([authorizeAt(a, monitor.url, 'acc-new'), authorizeAt(b, monitor.url, 'acc-new')]);
    const [ra, rb] = await Promise.all([a.request(ca), b.request(cb)]);
    expect([ra.status, rb.status]).toEqual([302, 302]);
  });
});
