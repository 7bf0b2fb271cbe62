import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '#libs/config/index.js';

/** How long a sign-in started at the provider may take to come back. */
const PENDING_TTL_MS = 10 * 60_000;
/** Sign-ins under way at once; past this the oldest is forgotten, so unfinished ones cannot grow memory. */
const MAX_PENDING = 10_000;
const SCOPE = 'openid profile';

interface Pending {
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly expiresAt: number;
}

/** A sign-in that cannot go on: the HTTP status to answer, the message, and a short reason for the audit. */
export class OidcRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 502,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/**
 * The OpenID Connect authorization code flow with PKCE, state and nonce: the provider's metadata discovered once,
 * each sign-in's secrets kept here (keyed by its state) until the provider sends the browser back.
 */
export class OidcSignIn {
  private configuration: Promise<client.Configuration> | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(
    readonly config: OidcConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Where to send the browser, and the state the browser must bring back (bound to it by a cookie). */
  async begin(): Promise<{ url: string; state: string }> {
    const configuration = await this.discovered();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    this.remember(state, { nonce, codeVerifier, expiresAt: this.now() + PENDING_TTL_MS });
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUrl,
      scope: SCOPE,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state };
  }

  /** The ID token's claims for the provider's answer at the callback (`requestUrl`: path and query as received). */
  async finish(requestUrl: string, boundState: string | undefined): Promise<client.IDToken> {
    const params = new URL(requestUrl, 'http://callback').searchParams;
    const state = params.get('state');
    const pending = state === null ? undefined : this.take(state);
    if (state === null || pending === undefined || boundState === undefined || !sameText(state, boundState)) {
      throw new OidcRefusal(400, 'unknown, expired or foreign sign-in state: start again at /api/auth/oidc/login', 'bad_state');
    }
    // The redirect URL as registered, not as this request arrived (a reverse proxy may have rewritten host and scheme).
    const callback = new URL(this.config.redirectUrl);
    callback.search = params.toString();
    const configuration = await this.discovered();
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (claims === undefined) throw new OidcRefusal(401, 'the identity provider sent no ID token', 'no_id_token');
      return claims;
    } catch (err) {
      throw refusalOf(err);
    }
  }

  private discovered(): Promise<client.Configuration> {
    if (this.configuration === null) {
      const { issuer, clientId, clientSecret } = this.config;
      const insecure = new URL(issuer).protocol === 'http:';
      this.configuration = client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), { execute: insecure ? [client.allowInsecureRequests] : [] });
      this.configuration.catch(() => (this.configuration = null));
    }
    return this.configuration.catch((err: unknown) => {
      throw new OidcRefusal(502, `the identity provider ${this.config.issuer} could not be discovered: ${messageOf(err)}`, 'discovery_failed');
    });
  }

  private remember(state: string, entry: Pending): void {
    const now = this.now();
    if (this.pending.size >= MAX_PENDING) {
      for (const [key, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(key);
    }
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(state, entry);
  }

  /** Each state is good for one answer. */
  private take(state: string): Pending | undefined {
    const entry = this.pending.get(state);
    this.pending.delete(state);
    return entry !== undefined && entry.expiresAt > this.now() ? entry : undefined;
  }
}

function refusalOf(err: unknown): OidcRefusal {
  if (err instanceof OidcRefusal) return err;
  if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
    const description = err.error_description === undefined ? '' : ` (${err.error_description})`;
    return new OidcRefusal(401, `the identity provider refused the sign-in: ${err.error}${description}`, err.error);
  }
  if (err instanceof client.ClientError) return new OidcRefusal(401, `the identity provider's answer is not valid: ${err.message}`, err.code ?? 'invalid_answer');
  return new OidcRefusal(502, `the identity provider could not be reached: ${messageOf(err)}`, 'provider_unreachable');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
