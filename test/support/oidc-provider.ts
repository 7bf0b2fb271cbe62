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
    features: { devInteractions: { enabled: true } },
  });
  handle = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
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
