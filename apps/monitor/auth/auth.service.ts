import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog, SecurityEventKind, Subject } from '#libs/contracts/index.js';
import type { AuthConfig } from '#libs/config/index.js';
import { IdentityStore, jurisdictionWithin } from '#libs/identity/index.js';
import type { LiveRegistry } from '#libs/registry/index.js';
import { Access } from './access.js';

export const SESSION_COOKIE = 'sentinel_session';
const REFUSAL_WINDOW_MS = 60_000;

/** The subject of the legacy ADMIN_TOKEN (still accepted for the registry reload of old deployments). */
const LEGACY_ADMIN: Subject = { username: 'admin-token', role: 'admin', jurisdiction: { all: true }, tokenId: 'token:ADMIN_TOKEN', kind: 'api_token', expiresAt: null };

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        // A malformed cookie is no cookie.
        return undefined;
      }
    }
  }
  return undefined;
}

/** How a request proves who it is: `Authorization: Bearer`, else the page's session cookie, else (upgrades only) `?access_token=`. */
export function presentedToken(req: IncomingMessage, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : undefined;
  }
  const fromCookie = cookie(req.headers.cookie, SESSION_COOKIE);
  if (fromCookie !== undefined) return fromCookie;
  if (!allowQuery) return undefined;
  return new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? undefined;
}

/**
 * Authentication and the audit of security events: who a request is (sessions, API tokens, the legacy admin token),
 * the client address (X-Forwarded-For believed only from trusted proxies), and the first admin at boot.
 */
export class AuthService {
  readonly identity: IdentityStore;
  private readonly trustedProxies: ReadonlySet<string>;
  private readonly refusalWindows = new Map<string, { since: number; count: number }>();

  constructor(
    identityFile: string,
    private readonly config: AuthConfig,
    private readonly legacyAdminToken: string | null,
    private readonly registry: LiveRegistry,
    private readonly auditLog: AuditLog,
    private readonly log: Logger,
  ) {
    this.identity = new IdentityStore(identityFile, {
      sessionTtlMs: (config.sessionTtlMin ?? 720) * 60_000,
      maxFailures: config.loginMaxFailures ?? 5,
      lockoutMs: (config.loginLockoutMin ?? 15) * 60_000,
    });
    this.trustedProxies = new Set((config.trustedProxies ?? []).map(normalise));
  }

  /** The first boot creates `admin` (whole jurisdiction) with SENTINEL_ADMIN_PASSWORD, or a random password printed once. */
  async seedAdmin(): Promise<{ username: string; password: string | null } | null> {
    if (this.identity.userCount() > 0) return null;
    const given = this.config.adminPassword ?? null;
    const password = given ?? randomBytes(12).toString('base64url');
    await this.identity.addUser({ username: 'admin', role: 'admin', jurisdiction: { all: true }, password });
    this.audit('user_changed', null, 'system', { username: 'admin', change: 'created at first boot' });
    return { username: 'admin', password: given === null ? password : null };
  }

  authenticate(req: IncomingMessage, allowQuery = false): Subject | null {
    const token = presentedToken(req, allowQuery);
    return token === undefined ? null : this.subjectOf(token);
  }

  /** Who a token stands for now, or null (unknown, expired, revoked, user disabled). */
  subjectOf(token: string): Subject | null {
    if (this.legacyAdminToken !== null && sameSecret(token, this.legacyAdminToken)) return LEGACY_ADMIN;
    const subject = this.identity.authenticate(token);
    return subject === null || subject.kind === 'session' || this.creatorStillCovers(subject) ? subject : null;
  }

  /** An API token holds only while whoever made it is still an enabled admin whose jurisdiction covers it. */
  private creatorStillCovers(token: Subject): boolean {
    if (token.username === LEGACY_ADMIN.username) return this.legacyAdminToken !== null;
    const creator = this.identity.findUser(token.username);
    if (!creator || creator.disabled || creator.role !== 'admin') return false;
    return jurisdictionWithin(token.jurisdiction, creator.jurisdiction, (code) => this.registry.registry.findEnterprise(code)?.region.code);
  }

  accessOf(subject: Subject): Access {
    return new Access(subject, this.registry.registry);
  }


  /** The caller's address: the socket's, or from X-Forwarded-For when the socket is a trusted proxy (right to left). */
  clientAddress(req: IncomingMessage): string {
    const socketAddress = normalise(req.socket.remoteAddress ?? 'unknown');
    if (!this.trustedProxies.has(socketAddress)) return socketAddress;
    const forwarded = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => normalise(s.trim()))
      .filter((s) => s.length > 0);
    for (let i = forwarded.length - 1; i >= 0; i--) {
      if (!this.trustedProxies.has(forwarded[i]!)) return forwarded[i]!;
    }
    return socketAddress;
  }

  /** A security event in the audit chain; a store that cannot take it is logged, never thrown to the caller. */
  audit(action: SecurityEventKind, subject: Pick<Subject, 'username' | 'tokenId'> | null, origin: string, detail: Record<string, unknown>, alarmId = ''): void {
    try {
      this.auditLog.append([{ at: new Date().toISOString(), actor: subject?.username ?? 'anonymous', origin: originOf(origin, subject), action, alarmId, detail }]);
    } catch (err) {
      this.log.error({ err, action, actor: subject?.username, origin, detail }, 'security event not written to the audit log');
    }
  }

  /**
   * A refused request, audited as `access_denied` at a bounded rate so that no caller can flood the audit chain (and
   * the disk under the alarm store): once a minute per address without credentials, 30 a minute per session or
   * token; texts cut at 200 characters. Every refusal is still logged at debug.
   */
  auditRefusal(subject: Pick<Subject, 'username' | 'tokenId'> | null, address: string, detail: Record<string, unknown>, alarmId = ''): void {
    const key = subject === null ? `address ${address}` : subject.tokenId;
    const now = Date.now();
    let window = this.refusalWindows.get(key);
    if (!window || window.since <= now - REFUSAL_WINDOW_MS) {
      if (this.refusalWindows.size > 10_000) this.refusalWindows.clear();
      window = { since: now, count: 0 };
      this.refusalWindows.set(key, window);
    }
    this.log.debug({ refusal: detail, address, actor: subject?.username }, 'request refused');
    if (window.count >= (subject === null ? 1 : 30)) return;
    window.count++;
    const cut = Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v]));
    this.audit('access_denied', subject, address, cut, alarmId.slice(0, 200));
  }

  close(): void {
    this.identity.close();
  }
}

/** The audit's `origin`: the client address and, when authenticated, which session or token acted. */
export function originOf(address: string, subject: Pick<Subject, 'tokenId'> | null): string {
  return subject === null ? address : `${address} (${subject.tokenId})`;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function normalise(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
