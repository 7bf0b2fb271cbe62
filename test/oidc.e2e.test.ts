import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#libs/contracts/index.js';
import type { OidcConfig } from '#libs/config/index.js';
import { freePort } from '#libs/testing/services.js';
import { startMonitor, type RunningMonitor } from '#apps/monitor/monitor.js';
import { login, signedIn, TEST_ADMIN_PASSWORD } from './support/auth.js';
import { testConfig } from './support/monitor-config.js';
import { authorizeAt, CookieBrowser, redirectOf, startOidcProvider, type TestAccount, type TestOidcProvider } from './support/oidc-provider.js';

const ACCOUNTS: readonly TestAccount[] = [
  { id: 'acc-zhang', claims: { preferred_username: 'zhang.wei', sentinel_role: 'supervisor', sentinel_jurisdiction: '370800' } },
  { id: 'acc-li', claims: { preferred_username: 'li.na' } },
  { id: 'acc-admin', claims: { preferred_username: 'admin', sentinel_role: 'admin', sentinel_jurisdiction: '*' } },
];

/** Sign-in at a real OpenID Connect provider (oidc-provider, in-process) through to the page's session cookie. */
describe('OpenID Connect sign-in', () => {
  let provider: TestOidcProvider;
  let monitor: RunningMonitor;
  let oidc: OidcConfig;
  let admin: typeof globalThis.fetch;

  const audit = async (): Promise<AuditEntry[]> => (await (await admin(`${monitor.url}/api/audit?limit=5000`)).json()) as AuditEntry[];
  const sessionOf = (browser: CookieBrowser): string => browser.cookie(monitor.url, 'sentinel_session') ?? '';
  const asBrowser = (browser: CookieBrowser, path: string): Promise<Response> => browser.request(`${monitor.url}${path}`);
  /** A fresh browser through the provider and back: the monitor's answer at the callback. */
  const signIn = async (accountId: string): Promise<{ browser: CookieBrowser; res: Response }> => {
    const browser = new CookieBrowser();
    const callback = await authorizeAt(browser, monitor.url, accountId);
    return { browser, res: await browser.request(callback) };
  };

  beforeAll(async () => {
    const port = await freePort();
    const redirectUrl = `http://127.0.0.1:${port}/api/auth/oidc/callback`;
    provider = await startOidcProvider(redirectUrl, ACCOUNTS);
    oidc = { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectUrl, roleClaim: 'sentinel_role', jurisdictionClaim: 'sentinel_jurisdiction' };
    monitor = await startMonitor(testConfig({ port, auth: { adminPassword: TEST_ADMIN_PASSWORD, oidc } }));
    admin = await signedIn(monitor.url);
  });

  afterAll(async () => {
    await monitor?.close();
    await provider?.stop();
  });

  it('tells a signed-out page that OpenID Connect sign-in is offered', async () => {
    const res = await fetch(`${monitor.url}/api/auth/me`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ signIn: { password: true, oidc: true } });
  });

  it('signs a supervisor in from the ID token claims: session cookie, user row, and a login in the audit', async () => {
    const { browser, res } = await signIn('acc-zhang');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.getSetCookie().find((c) => c.startsWith('sentinel_session='))).toMatch(/HttpOnly; SameSite=Strict/);
    expect(browser.cookie(monitor.url, 'sentinel_oidc_state')).toBeUndefined();

    const me = await asBrowser(browser, '/api/auth/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username: 'zhang.wei', role: 'supervisor', jurisdiction: { regionCode: '370800' }, kind: 'session', oidc: true });
    expect((await asBrowser(browser, '/api/alarms')).status).toBe(200);
    expect(monitor.runtime.auth.identity.findUser('zhang.wei')).toMatchObject({ source: 'oidc', role: 'supervisor', jurisdiction: { regionCode: '370800' } });

    const logins = (await audit()).filter((e) => e.action === 'login' && e.actor === 'zhang.wei');
    expect(logins).toHaveLength(1);
    expect(logins[0]!.detail).toEqual({ method: 'oidc', issuer: provider.issuer });
    expect(logins[0]!.origin).toContain('session:');
  });

  it('refuses a tampered state, and a genuine callback brought by another browser (no state cookie)', async () => {
    const browser = new CookieBrowser();
    const callback = await authorizeAt(browser, monitor.url, 'acc-zhang');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')!.slice(0, -2)}xx`);
    const refused = await browser.request(tampered);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/state/);
    expect(sessionOf(browser)).toBe('');

    const elsewhere = await new CookieBrowser().request(callback);
    expect(elsewhere.status).toBe(400);
    const failures = (await audit()).filter((e) => e.action === 'login_failed' && e.detail.reason === 'bad_state');
    expect(failures).toHaveLength(2);
    expect(failures[0]!.detail).toMatchObject({ method: 'oidc', issuer: provider.issuer });
  });

  it('answers 401 when the user aborts at the provider', async () => {
    const browser = new CookieBrowser();
    const callback = await authorizeAt(browser, monitor.url, 'acc-zhang', 'abort');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const res = await browser.request(callback);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/refused the sign-in: access_denied/);
    expect((await audit()).some((e) => e.action === 'login_failed' && e.detail.reason === 'access_denied')).toBe(true);
  });

  it('refuses an account without a role claim and no Sentinel user (403), then takes role and jurisdiction from the Sentinel user an admin adds', async () => {
    const { browser, res } = await signIn('acc-li');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/no role or jurisdiction for li\.na/);
    expect(sessionOf(browser)).toBe('');
    expect(monitor.runtime.auth.identity.findUser('li.na')).toBeUndefined();
    expect((await audit()).some((e) => e.action === 'login_failed' && e.detail.username === 'li.na')).toBe(true);

    await monitor.runtime.auth.identity.addUser({ username: 'li.na', role: 'viewer', jurisdiction: { enterpriseCodes: ['91370800MA3CD7LN28'] }, source: 'oidc' });
    const again = await signIn('acc-li');
    expect(again.res.status).toBe(302);
    expect(await (await asBrowser(again.browser, '/api/auth/me')).json()).toMatchObject({ username: 'li.na', role: 'viewer', jurisdiction: { enterpriseCodes: ['91370800MA3CD7LN28'] } });
  });

  it('does not let the provider take over a local password user of the same name', async () => {
    const { browser, res } = await signIn('acc-admin');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/local account/);
    expect(sessionOf(browser)).toBe('');
    expect(monitor.runtime.auth.identity.findUser('admin')).toMatchObject({ source: 'local', role: 'admin' });
    expect((await audit()).some((e) => e.action === 'login_failed' && e.detail.username === 'admin' && e.detail.method === 'oidc')).toBe(true);
    expect((await login(monitor.url)).user.username).toBe('admin');
  });

  it('answers 404 when OpenID Connect is not configured', async () => {
    const plain = await startMonitor(testConfig());
    try {
      const res = await new CookieBrowser().request(`${plain.url}/api/auth/oidc/login`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { message: string }).message).toBe('OpenID Connect is not configured');
    } finally {
      await plain.close();
    }
  });

  it('sends the browser to the provider with PKCE, state and nonce', async () => {
    const res = await new CookieBrowser().request(`${monitor.url}/api/auth/oidc/login`);
    const to = redirectOf(res, monitor.url);
    expect(to.origin).toBe(provider.issuer);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({ client_id: oidc.clientId, redirect_uri: oidc.redirectUrl, response_type: 'code', code_challenge_method: 'S256' });
    for (const p of ['state', 'nonce', 'code_challenge']) expect(to.searchParams.get(p)).toMatch(/^[\w-]{20,}$/);
    expect(res.headers.getSetCookie()[0]).toMatch(/^sentinel_oidc_state=[\w-]+; Path=\/api\/auth\/oidc\/callback; HttpOnly; SameSite=Lax; Max-Age=600$/);
  });
});
