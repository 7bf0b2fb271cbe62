import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { ApiTokenView, Jurisdiction, Role, Subject, UserRecord, UserView } from '#libs/contracts/index.js';
import { closeSqlite, openSqlite, type SqliteDb } from '#libs/sqlite/index.js';
import { digest, newId, newToken } from './tokens.js';
import { usernameProblem } from './username.js';

export interface IdentityOptions {
  /** How long a session token lives (default 12 h, one shift and its handover). */
  readonly sessionTtlMs?: number;
  /** Failed passwords in a row before the account is locked (default 5). */
  readonly maxFailures?: number;
  /** How long a locked account stays locked (default 15 min). */
  readonly lockoutMs?: number;
  readonly now?: () => number;
}

export type LoginOutcome =
  | { readonly ok: true; readonly token: string; readonly subject: Subject }
  | { readonly ok: false; readonly reason: 'invalid' | 'locked'; readonly lockedUntil?: string };

export const MIN_PASSWORD_LENGTH = 12;

const ARGON2 = { algorithm: Algorithm.Argon2id } as const;
/** Verified against for unknown users, so that a wrong name takes as long as a wrong password. */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$dUNooEAcEIca5R0rqy0xWw$DdNKvNny/C2LeoE5byesTAoo10WY15toy6DjnbPTN18';
/** last_used_at is written at most this often per token: reads stay reads. */
const TOUCH_EVERY_MS = 60_000;

interface UserRow {
  username: string;
  role: Role;
  jurisdiction: string;
  source: 'local' | 'oidc';
  password_hash: string | null;
  disabled: number;
  failed: number;
  locked_until: number | null;
  created_at: string;
  updated_at: string;
  oidc_subject: string | null;
  from_claims: number;
}

interface TokenRow {
  id: string;
  kind: 'session' | 'api_token';
  username: string;
  name: string;
  role: Role | null;
  jurisdiction: string | null;
  created_at: string;
  expires_at: number | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export class PasswordTooShort extends Error {
  constructor() {
    super(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

/**
 * Users (argon2id password hashes), sessions and API tokens (SHA-256 digests only) in one SQLite file. A session
 * takes its user's role and jurisdiction at every request, so disabling or changing a user takes effect at once.
 */
export class IdentityStore {
  private readonly db: SqliteDb;
  private readonly sessionTtlMs: number;
  private readonly maxFailures: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();
  private readonly unknownFailures = new Map<string, { failed: number; lockedUntil: number | null }>();

  constructor(file: string, options: IdentityOptions = {}) {
    this.db = openSqlite(file, 'full');
    this.sessionTtlMs = options.sessionTtlMs ?? 12 * 3_600_000;
    this.maxFailures = options.maxFailures ?? 5;
    this.lockoutMs = options.lockoutMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        username TEXT PRIMARY KEY, role TEXT NOT NULL, jurisdiction TEXT NOT NULL, source TEXT NOT NULL,
        password_hash TEXT, disabled INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, locked_until INTEGER,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, username TEXT NOT NULL, name TEXT NOT NULL,
        role TEXT, jurisdiction TEXT, created_at TEXT NOT NULL, expires_at INTEGER, revoked_at TEXT, last_used_at TEXT);
    `);
    const columns = new Set((this.db.prepare('PRAGMA table_info(users)').all() as { name: string }[]).map((c) => c.name));
    if (!columns.has('oidc_subject')) this.db.exec('ALTER TABLE users ADD COLUMN oidc_subject TEXT');
    if (!columns.has('from_claims')) this.db.exec('ALTER TABLE users ADD COLUMN from_claims INTEGER NOT NULL DEFAULT 0');
  }

  userCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  async addUser(user: UserView & { readonly password?: string; readonly source?: 'local' | 'oidc'; readonly fromClaims?: boolean }): Promise<UserRecord> {
    const problem = usernameProblem(user.username);
    if (problem !== null) throw new Error(problem);
    const source = user.source ?? 'local';
    const passwordHash = source === 'local' ? await this.hashPassword(user.password ?? '') : null;
    const at = this.iso();
    this.db
      .prepare('INSERT INTO users (username, role, jurisdiction, source, password_hash, from_claims, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(user.username, user.role, JSON.stringify(user.jurisdiction), source, passwordHash, user.fromClaims === true ? 1 : 0, at, at);
    return this.findUser(user.username)!;
  }

  findUser(username: string): UserRecord | undefined {
    const row = this.userRow(username);
    return row && toUser(row);
  }

  listUsers(): UserRecord[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser);
  }

  async setPassword(username: string, password: string): Promise<boolean> {
    const passwordHash = await this.hashPassword(password);
    const changed = this.db.prepare("UPDATE users SET password_hash = ?, source = 'local', failed = 0, locked_until = NULL, updated_at = ? WHERE username = ?").run(passwordHash, this.iso(), username).changes > 0;
    // A new password ends every session the old one opened.
    if (changed) this.revokeSessionsOf(username);
    return changed;
  }

  setDisabled(username: string, disabled: boolean): boolean {
    const changed = this.db.prepare('UPDATE users SET disabled = ?, updated_at = ? WHERE username = ?').run(disabled ? 1 : 0, this.iso(), username).changes > 0;
    if (changed && disabled) this.revokeSessionsOf(username);
    return changed;
  }

  /** Sets role and/or jurisdiction; `by` says whether an admin or the provider's claims decided them. */
  updateUser(username: string, change: { readonly role?: Role; readonly jurisdiction?: Jurisdiction }, by: 'admin' | 'claims' = 'admin'): boolean {
    const row = this.userRow(username);
    if (!row) return false;
    this.db
      .prepare('UPDATE users SET role = ?, jurisdiction = ?, from_claims = ?, updated_at = ? WHERE username = ?')
      .run(change.role ?? row.role, change.jurisdiction ? JSON.stringify(change.jurisdiction) : row.jurisdiction, by === 'claims' ? 1 : 0, this.iso(), username);
    return true;
  }

  /** Binds an OIDC user to its account at the provider, at its first sign-in. */
  bindOidcSubject(username: string, subject: string): void {
    this.db.prepare("UPDATE users SET oidc_subject = ? WHERE username = ? AND source = 'oidc' AND oidc_subject IS NULL").run(subject, username);
  }

  /** Checks a password, counting failures: `maxFailures` in a row lock the account for `lockoutMs`, even for the right one. */
  async login(username: string, password: string): Promise<LoginOutcome> {
    const row = this.userRow(username);
    // Checked before and after the (slow) hash check, and failures counted in one statement: guesses sent in
    // parallel cannot each see an unlocked account with a stale count.
    const good = await verify(row?.password_hash ?? DUMMY_HASH, password).catch(() => false);
    const lockedUntil = row ? this.lockedUntil(username) : this.unknownLockedUntil(username);
    if (lockedUntil !== null) return { ok: false, reason: 'locked', lockedUntil: new Date(lockedUntil).toISOString() };
    if (!row || row.password_hash === null || row.disabled === 1 || !good) return this.failure(username, row !== undefined);
    this.db.prepare('UPDATE users SET failed = 0 WHERE username = ?').run(username);
    return { ok: true, ...this.startSession(username) };
  }

  private lockedUntil(username: string): number | null {
    const r = this.db.prepare('SELECT locked_until FROM users WHERE username = ?').get(username) as { locked_until: number | null } | undefined;
    return r?.locked_until != null && r.locked_until > this.now() ? r.locked_until : null;
  }

  /**
   * Unknown names are counted and locked in memory like real ones, so that neither the answers (401 then 423) nor
   * their timing tell whether a user exists.
   */
  private unknownLockedUntil(username: string): number | null {
    const until = this.unknownFailures.get(username)?.lockedUntil ?? null;
    return until !== null && until > this.now() ? until : null;
  }

  private failure(username: string, known: boolean): LoginOutcome {
    const now = this.now();
    let failed: number;
    if (known) {
      failed = (this.db.prepare('UPDATE users SET failed = failed + 1 WHERE username = ? RETURNING failed').get(username) as { failed: number }).failed;
    } else {
      if (this.unknownFailures.size > 10_000) this.unknownFailures.clear();
      const entry = this.unknownFailures.get(username) ?? { failed: 0, lockedUntil: null };
      failed = ++entry.failed;
      this.unknownFailures.set(username, entry);
    }
    if (failed < this.maxFailures) return { ok: false, reason: 'invalid' };
    const until = now + this.lockoutMs;
    if (known) this.db.prepare('UPDATE users SET failed = 0, locked_until = ? WHERE username = ?').run(until, username);
    else this.unknownFailures.set(username, { failed: 0, lockedUntil: until });
    return { ok: false, reason: 'locked', lockedUntil: new Date(until).toISOString() };
  }

  /** A session for a user already authenticated (a password checked here, or an identity provider's sign-in). */
  startSession(username: string): { token: string; subject: Subject } {
    this.purgeExpired();
    const token = newToken('sts');
    const id = newId();
    const expires = this.now() + this.sessionTtlMs;
    this.db
      .prepare("INSERT INTO tokens (id, digest, kind, username, name, created_at, expires_at) VALUES (?, ?, 'session', ?, 'session', ?, ?)")
      .run(id, digest(token), username, this.iso(), expires);
    const subject = this.authenticate(token);
    if (!subject) throw new Error(`user ${username} cannot start a session`);
    return { token, subject };
  }

  /** The subject a bearer token stands for, or null when it is unknown, expired, revoked, or its user disabled. */
  authenticate(token: string): Subject | null {
    const row = this.db.prepare('SELECT * FROM tokens WHERE digest = ?').get(digest(token)) as TokenRow | undefined;
    const now = this.now();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return null;
    const expiresAt = row.expires_at === null ? null : new Date(row.expires_at).toISOString();
    this.touch(row.id, now);
    if (row.kind === 'api_token') {
      return { username: row.username, role: row.role!, jurisdiction: JSON.parse(row.jurisdiction!) as Jurisdiction, tokenId: `token:${row.id}`, kind: 'api_token', expiresAt };
    }
    const user = this.userRow(row.username);
    if (!user || user.disabled === 1) return null;
    return { username: user.username, role: user.role, jurisdiction: JSON.parse(user.jurisdiction) as Jurisdiction, tokenId: `session:${row.id}`, kind: 'session', expiresAt };
  }

  /** Ends the session or API token that `token` is. */
  revokeToken(token: string): boolean {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL').run(this.iso(), digest(token)).changes > 0;
  }

  createApiToken(spec: { readonly name: string; readonly role: Role; readonly jurisdiction: Jurisdiction; readonly createdBy: string; readonly expiresAt: number | null }): { token: string; view: ApiTokenView } {
    const token = newToken('sta');
    const id = newId();
    this.db
      .prepare("INSERT INTO tokens (id, digest, kind, username, name, role, jurisdiction, created_at, expires_at) VALUES (?, ?, 'api_token', ?, ?, ?, ?, ?, ?)")
      .run(id, digest(token), spec.createdBy, spec.name, spec.role, JSON.stringify(spec.jurisdiction), this.iso(), spec.expiresAt);
    return { token, view: this.apiTokens().find((t) => t.id === id)! };
  }

  apiTokens(): ApiTokenView[] {
    return (this.db.prepare("SELECT * FROM tokens WHERE kind = 'api_token' ORDER BY created_at").all() as TokenRow[]).map((r) => ({
      id: r.id,
      name: r.name,
      createdBy: r.username,
      role: r.role!,
      jurisdiction: JSON.parse(r.jurisdiction!) as Jurisdiction,
      createdAt: r.created_at,
      expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
      revokedAt: r.revoked_at,
      lastUsedAt: r.last_used_at,
    }));
  }

  revokeApiToken(id: string): boolean {
    return this.db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ? AND kind = 'api_token' AND revoked_at IS NULL").run(this.iso(), id).changes > 0;
  }

  close(): void {
    closeSqlite(this.db);
  }

  private async hashPassword(password: string): Promise<string> {
    if (password.length < MIN_PASSWORD_LENGTH) throw new PasswordTooShort();
    return hash(password, ARGON2);
  }

  private revokeSessionsOf(username: string): void {
    this.db.prepare("UPDATE tokens SET revoked_at = ? WHERE username = ? AND kind = 'session' AND revoked_at IS NULL").run(this.iso(), username);
  }

  private purgeExpired(): void {
    this.touched.clear();
    this.db.prepare("DELETE FROM tokens WHERE kind = 'session' AND expires_at < ?").run(this.now() - 86_400_000);
  }

  /** Best effort: a database that cannot take the write (locked, full) must not fail the request or the caller's timer. */
  private touch(id: string, now: number): void {
    if ((this.touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    try {
      this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(new Date(now).toISOString(), id);
    } catch {
      // last_used_at is informative only.
    }
  }

  private userRow(username: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

function toUser(r: UserRow): UserRecord {
  return {
    username: r.username,
    role: r.role,
    jurisdiction: JSON.parse(r.jurisdiction) as Jurisdiction,
    source: r.source,
    disabled: r.disabled === 1,
    oidcSubject: r.oidc_subject,
    fromClaims: r.from_claims === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
