import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Account } from 'oidc-provider';

export interface TestAccount {
  readonly id: string;
  /** Claims beside `sub`, e.g. preferred_username, sentinel_role, sentinel_jurisdiction. */
  readonly claims: Readonly<Record<string, string>>;
}

export interface TestOidcProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  stop(): Promise<void>;
}

const CLIENT_ID = 'sentinel-e2e';
const CLIENT_SECRET = 'sentinel-e2e-client-secret';

/**
 * A real OpenID Connect provider (oidc-provider) on a random loopback port, with one confidential client for
 * `redirectUrl` and the given accounts. Its dev interactions sign in whichever account id is posted as `login`
 * (see `signInAt` in the e2e test); every claim of the `profile` scope goes into the ID token.
 */
export async function startOidcProvider(redirectUrl: string, accounts: readonly TestAccount[]): Promise<TestOidcProvider> {
  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = () => Promise.reject(new Error('provider not ready'));
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const profileClaims = [...new Set(accounts.flatMap((a) => Object.keys(a.claims)))];
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUrl], grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: (_ctx, id): Account | undefined => {
      const account = byId.get(id);
      return account && { accountId: id, claims: () => ({ sub: id, ...account.claims }) };
    },
    claims: { openid: ['sub'], profile: profileClaims },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['sentinel-e2e-cookie-key'] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: true } },
  });
  handle = provider.callback();
  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A browser as far as sign-in needs one: cookies kept per origin, redirects handed back to the caller. */
export class CookieBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const { origin } = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(origin);
    if (cookies !== undefined && cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await globalThis.fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) this.store(origin, line);
    return res;
  }

  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(origin)?.get(name);
  }

  private store(origin: string, line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const expired = attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()));
    let cookies = this.jar.get(origin);
    if (!cookies) this.jar.set(origin, (cookies = new Map<string, string>()));
    if (expired || value === '') cookies.delete(name);
    else cookies.set(name, value);
  }
}

/** Where a 3xx answer points, absolute. */
export function redirectOf(res: Response, from: string | URL): URL {
  const location = res.headers.get('location');
  if (res.status < 300 || res.status > 399 || location === null) throw new Error(`expected a redirect from ${String(from)}, got ${res.status}`);
  return new URL(location, from);
}

/**
 * Starts a sign-in at the monitor and goes through the provider's dev interactions as `accountId` would (signing
 * in, then consenting; or aborting), until the provider sends the browser back: returns that callback URL unvisited.
 */
export async function authorizeAt(browser: CookieBrowser, monitorUrl: string, accountId: string, answer: 'consent' | 'abort' = 'consent'): Promise<URL> {
  let url = new URL(`${monitorUrl}/api/auth/oidc/login`);
  for (let hops = 0; hops < 20; hops++) {
    let res: Response;
    if (url.pathname.startsWith('/interaction/') && answer === 'abort') {
      res = await browser.request(new URL(`${url.pathname}/abort`, url));
    } else if (url.pathname.startsWith('/interaction/')) {
      const page = await (await browser.request(url)).text();
      const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
      if (prompt === undefined) throw new Error(`no prompt on the provider's page ${url.href}:\n${page.slice(0, 500)}`);
      const form = new URLSearchParams({ prompt, login: accountId, password: 'any' });
      res = await browser.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    } else {
      res = await browser.request(url);
    }
    const next = redirectOf(res, url);
    if (next.origin === monitorUrl && next.pathname === '/api/auth/oidc/callback') return next;
    url = next;
  }
  throw new Error('too many redirects before the provider sent the browser back');
}
