import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, HttpException, Inject, NotFoundException, Redirect, Req, Res, UseGuards } from '@nestjs/common';
import { RUNTIME, type MonitorRuntime } from '../runtime.js';
import { LoginThrottle, setSessionCookie } from './auth.controller.js';
import { Public } from './decorators.js';
import { identityOf } from './oidc.claims.js';
import { OidcRefusal, OidcSignIn } from './oidc.service.js';

/** Binds a sign-in's state to the browser that started it: a callback URL handed to someone else is refused. */
const STATE_COOKIE = 'sentinel_oidc_state';
const CALLBACK_PATH = '/api/auth/oidc/callback';

type Request = IncomingMessage & { clientAddress?: string };

/** Sign-in at an OpenID Connect provider (authorization code flow with PKCE), ending in the page's session cookie. */
@Controller('api/auth/oidc')
export class OidcController {
  private readonly signIn: OidcSignIn | null;

  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {
    const oidc = rt.config.auth?.oidc ?? null;
    this.signIn = oidc === null ? null : new OidcSignIn(oidc);
  }

  /** Sends the browser to the provider. */
  @Get('login')
  @Public()
  @UseGuards(LoginThrottle)
  @Redirect()
  async login(@Res({ passthrough: true }) res: ServerResponse): Promise<{ url: string }> {
    const signIn = this.configured();
    try {
      const { url, state } = await signIn.begin();
      // Lax, not Strict: the provider sends the browser back by a cross-site navigation, which Strict cookies miss.
      res.setHeader('set-cookie', `${STATE_COOKIE}=${state}; Path=${CALLBACK_PATH}; HttpOnly; SameSite=Lax; Max-Age=600${this.secure() ? '; Secure' : ''}`);
      res.setHeader('cache-control', 'no-store');
      return { url };
    } catch (err) {
      if (err instanceof OidcRefusal) throw new HttpException(err.message, err.status);
      throw err;
    }
  }

  /** Where the provider sends the browser back: checks the answer, signs the user in and opens the page. */
  @Get('callback')
  @Public()
  @UseGuards(LoginThrottle)
  @Redirect()
  async callback(@Req() req: Request, @Res({ passthrough: true }) res: ServerResponse): Promise<{ url: string }> {
    const signIn = this.configured();
    const auth = this.rt.auth;
    const address = req.clientAddress ?? auth.clientAddress(req);
    const { issuer } = signIn.config;
    const bound = cookieValue(req.headers.cookie, STATE_COOKIE);
    const clearState = `${STATE_COOKIE}=; Path=${CALLBACK_PATH}; HttpOnly; SameSite=Lax; Max-Age=0${this.secure() ? '; Secure' : ''}`;
    res.setHeader('set-cookie', clearState);
    res.setHeader('cache-control', 'no-store');
    const refuse = (status: number, message: string, detail: Record<string, unknown>): HttpException => {
      auth.audit('login_failed', null, address, { method: 'oidc', issuer, ...detail });
      return new HttpException(message, status);
    };

    const claims = await signIn.finish(req.url ?? '/', bound).catch((err: unknown) => {
      throw err instanceof OidcRefusal ? refuse(err.status, err.message, { reason: err.reason }) : err;
    });
    const identity = identityOf(claims, signIn.config, { find: (username) => auth.identity.findUser(username), all: () => auth.identity.listUsers() });
    if (!identity.ok) throw refuse(403, identity.reason, { username: identity.username, reason: identity.reason });

    const { user, change, fromClaims } = identity;
    if (change === 'created') {
      // Two first sign-ins of one new user at once: the second finds the row the first made.
      await auth.identity.addUser({ ...user, source: 'oidc', fromClaims }).catch((err: unknown) => {
        if (!(err instanceof Error && /UNIQUE/.test(err.message))) throw err;
      });
    }
    if (change === 'updated') auth.identity.updateUser(user.username, { role: user.role, jurisdiction: user.jurisdiction }, fromClaims ? 'claims' : 'admin');
    auth.identity.bindOidcSubject(user.username, identity.subject);
    // Whoever bound the name first keeps it, also when two accounts raced for it.
    const row = auth.identity.findUser(user.username);
    if (row?.source !== 'oidc' || row.oidcSubject !== identity.subject) throw refuse(403, `${user.username} belongs to another account at the identity provider`, { username: user.username, reason: 'subject_mismatch' });
    if (change !== null) auth.audit('user_changed', null, address, { username: user.username, change: `${change} from the ID token of ${issuer}`, role: user.role, jurisdiction: user.jurisdiction });
    const { token, subject } = auth.identity.startSession(user.username);
    auth.audit('login', subject, address, { method: 'oidc', issuer });
    setSessionCookie(res, token, subject.expiresAt, this.secure());
    res.appendHeader('set-cookie', clearState);
    return { url: '/' };
  }

  private configured(): OidcSignIn {
    if (this.signIn === null) throw new NotFoundException('OpenID Connect is not configured');
    return this.signIn;
  }

  /** Cookies go Secure when the provider sends browsers back over HTTPS (TLS usually ends at a reverse proxy). */
  private secure(): boolean {
    return this.signIn !== null && new URL(this.signIn.config.redirectUrl).protocol === 'https:';
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
