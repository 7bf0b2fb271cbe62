import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, Delete, ForbiddenException, Get, HttpCode, HttpException, HttpStatus, Inject, NotFoundException, Param, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { z } from 'zod';
import { ROLES, type ApiTokenView, type Jurisdiction, type Subject, type UserView } from '#libs/contracts/index.js';
import { jurisdictionSchema, jurisdictionWithin } from '#libs/identity/index.js';
import { parseBody } from '../http/body.js';
import { RUNTIME, type MonitorRuntime } from '../runtime.js';
import { presentedToken, SESSION_COOKIE } from './auth.service.js';
import { type Caller, CallerOf, Permit, Public } from './decorators.js';
import { type Permission, PERMISSION_TABLE } from './permissions.js';

const LOGIN = z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) });
const NEW_TOKEN = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: z.enum(ROLES as [string, ...string[]]).transform((r) => r as Subject['role']),
  jurisdiction: jurisdictionSchema,
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export interface LoginAnswer {
  readonly token: string;
  readonly expiresAt: string | null;
  readonly user: UserView;
}

/** Tracks login attempts by the client address the auth guard worked out (trusted proxies honoured). */
export class LoginThrottle extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(typeof req.clientAddress === 'string' ? req.clientAddress : 'unknown');
  }
}

function secure(req: IncomingMessage): boolean {
  return 'encrypted' in req.socket || req.headers['x-forwarded-proto'] === 'https';
}

/** Sign-in and sign-out for people, and API tokens for machines (admin). */
@Controller('api/auth')
export class AuthController {
  constructor(@Inject(RUNTIME) private readonly rt: MonitorRuntime) {}

  /** Pinned: `{"username","password"}` → 200 `{token, expiresAt, user}`; also sets the page's session cookie. */
  @Post('login')
  @Public()
  @UseGuards(LoginThrottle)
  @HttpCode(200)
  async login(@Body() body: unknown, @Req() req: IncomingMessage & { clientAddress?: string }, @Res({ passthrough: true }) res: ServerResponse): Promise<LoginAnswer> {
    const { username, password } = parseBody(LOGIN, body);
    const auth = this.rt.auth;
    const address = req.clientAddress ?? auth.clientAddress(req);
    const outcome = await auth.identity.login(username, password);
    if (!outcome.ok) {
      auth.audit('login_failed', null, address, { username, reason: outcome.reason });
      if (outcome.reason === 'locked') throw new HttpException(`account locked after repeated failures until ${outcome.lockedUntil ?? '?'}`, HttpStatus.LOCKED);
      throw new UnauthorizedException('wrong username or password');
    }
    const { token, subject } = outcome;
    auth.audit('login', subject, address, { method: 'password' });
    setSessionCookie(res, token, subject.expiresAt, secure(req));
    return { token, expiresAt: subject.expiresAt, user: { username: subject.username, role: subject.role, jurisdiction: subject.jurisdiction } };
  }

  /** Ends the session (or API token) the request presents and clears the page's cookie. */
  @Post('logout')
  @Permit('read')
  @HttpCode(200)
  logout(@Req() req: IncomingMessage, @CallerOf() caller: Caller, @Res({ passthrough: true }) res: ServerResponse): { loggedOut: true } {
    const token = presentedToken(req, false);
    if (token !== undefined) this.rt.auth.identity.revokeToken(token);
    this.rt.auth.audit('logout', caller.subject, caller.address, {});
    // Open WebSockets of the ended session close now, not at the next periodic check.
    this.rt.hub.revalidate();
    res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { loggedOut: true };
  }

  /** Who the caller is, with the OpenID Connect sign-in offered when configured. */
  @Get('me')
  @Permit('read')
  me(@CallerOf() caller: Caller): UserView & { kind: Subject['kind']; expiresAt: string | null; permissions: Permission[]; oidc: boolean } {
    const { username, role, jurisdiction, kind, expiresAt } = caller.subject;
    const permissions = (Object.keys(PERMISSION_TABLE) as Permission[]).filter((p) => PERMISSION_TABLE[p].includes(role));
    return { username, role, jurisdiction, kind, expiresAt, permissions, oidc: (this.rt.config.auth?.oidc ?? null) !== null };
  }

  /** The tokens within the caller's jurisdiction. */
  @Get('tokens')
  @Permit('users.manage')
  tokens(@CallerOf() caller: Caller): ApiTokenView[] {
    return this.rt.auth.identity.apiTokens().filter((t) => this.within(t.jurisdiction, caller));
  }

  /** A scoped API token for a machine client; the token itself is shown only in this answer. */
  @Post('tokens')
  @Permit('users.manage')
  createToken(@Body() body: unknown, @CallerOf() caller: Caller): ApiTokenView & { token: string } {
    const spec = parseBody(NEW_TOKEN, body);
    // A token cannot mint another (which could outlive it): tokens are made by a signed-in person.
    if (caller.subject.kind !== 'session') throw new ForbiddenException('API tokens are created by a signed-in person, not by another token');
    if (!this.within(spec.jurisdiction, caller)) throw new ForbiddenException('a token cannot reach beyond the jurisdiction of whoever creates it');
    const expiresAt = spec.expiresInDays === undefined ? null : Date.now() + spec.expiresInDays * 86_400_000;
    const { token, view } = this.rt.auth.identity.createApiToken({ name: spec.name, role: spec.role, jurisdiction: spec.jurisdiction, createdBy: caller.subject.username, expiresAt });
    this.rt.auth.audit('token_created', caller.subject, caller.address, { id: view.id, name: view.name, role: view.role, jurisdiction: view.jurisdiction });
    return { ...view, token };
  }

  @Delete('tokens/:tokenId')
  @Permit('users.manage')
  revokeToken(@Param('tokenId') id: string, @CallerOf() caller: Caller): { revoked: true } {
    const token = this.rt.auth.identity.apiTokens().find((t) => t.id === id && t.revokedAt === null);
    if (!token) throw new NotFoundException(`no active API token ${id}`);
    if (!this.within(token.jurisdiction, caller)) throw new ForbiddenException('the token reaches beyond your jurisdiction');
    this.rt.auth.identity.revokeApiToken(id);
    this.rt.auth.audit('token_revoked', caller.subject, caller.address, { id });
    this.rt.hub.revalidate();
    return { revoked: true };
  }

  private within(jurisdiction: Jurisdiction, caller: Caller): boolean {
    return jurisdictionWithin(jurisdiction, caller.subject.jurisdiction, (code) => this.rt.registry.registry.findEnterprise(code)?.region.code);
  }
}

export function setSessionCookie(res: ServerResponse, token: string, expiresAt: string | null, secureCookie: boolean): void {
  const maxAge = expiresAt === null ? '' : `; Max-Age=${Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000))}`;
  res.setHeader('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${secureCookie ? '; Secure' : ''}${maxAge}`);
}
