import { createHmac, randomBytes } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { type CredentialEntry, CredentialsFileError, fileStamp, readCredentialsFile, writeCredentialsFile } from './credentials-file.js';
import { mosquittoHash } from './mosquitto-hash.js';

export const MIN_PASSWORD_LENGTH = 12;

export type CredentialState = 'active' | 'disabled' | 'missing';
export type CheckOutcome = 'ok' | 'wrong_password' | 'disabled' | 'missing' | 'busy';

/** argon2 checks run at most this many at a time; a burst of guesses waits in line instead of taking every core. */
const CONCURRENT_CHECKS = 2;
/** Checks waiting beyond this are answered `busy` at once: memory stays bounded under a flood of connects. */
const MAX_WAITING_CHECKS = 1000;

export interface CredentialView {
  readonly key: string;
  readonly disabled: boolean;
  readonly updatedAt: string;
}

export interface GatewayCredentialsOptions {
  /** Told when a changed file cannot be read; the entries read before stay in force. */
  readonly onProblem?: (message: string) => void;
  readonly now?: () => Date;
  /** Successful verifications remembered (default 10,000); the oldest go first. */
  readonly cacheSize?: number;
}

export class PasswordTooShort extends Error {
  constructor() {
    super(`a gateway password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

const ARGON2 = { algorithm: Algorithm.Argon2id } as const;

/**
 * Gateway passwords in a JSON file apart from the site YAML: an argon2id hash for the embedded broker and a mosquitto
 * hash for an external one. A change of the file by another process (the CLI) is read at the next verification.
 */
export class GatewayCredentials {
  private entries: ReadonlyMap<string, CredentialEntry> = new Map();
  private stamp = '';
  private badStamp: string | undefined;
  private readonly onProblem: (message: string) => void;
  private readonly now: () => Date;
  private readonly cacheSize: number;
  /** Keyed digest of key + password → the argon2 hash it matched: an entry changed since no longer matches. */
  private readonly verified = new Map<string, string>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly cacheSecret = randomBytes(32);

  private constructor(
    readonly path: string,
    options: GatewayCredentialsOptions,
  ) {
    this.onProblem = options.onProblem ?? (() => undefined);
    this.now = options.now ?? (() => new Date());
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  /** Reads the file (none yet: no entries); throws CredentialsFileError when it is not a valid credentials file. */
  static load(path: string, options: GatewayCredentialsOptions = {}): GatewayCredentials {
    const store = new GatewayCredentials(path, options);
    store.refresh('strict');
    return store;
  }

  async setPassword(key: string, password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH) throw new PasswordTooShort();
    const argon2 = await hash(password, ARGON2);
    this.update(key, () => ({ argon2, mosquitto: mosquittoHash(password), disabled: false, updatedAt: this.now().toISOString() }));
  }

  /** False when there is no entry for `key`. */
  disable(key: string): boolean {
    return this.update(key, (entry) => entry && { ...entry, disabled: true, updatedAt: this.now().toISOString() });
  }

  list(): CredentialView[] {
    this.refresh('lenient');
    return [...this.entries].map(([key, e]) => ({ key, disabled: e.disabled, updatedAt: e.updatedAt })).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  state(key: string): CredentialState {
    this.refresh('lenient');
    const entry = this.entries.get(key);
    return entry ? (entry.disabled ? 'disabled' : 'active') : 'missing';
  }

  /** The hashes of an entry, for writing an external broker's password file. */
  entry(key: string): CredentialEntry | undefined {
    this.refresh('lenient');
    return this.entries.get(key);
  }

  async verify(key: string, password: string): Promise<boolean> {
    return (await this.check(key, password)) === 'ok';
  }

  async check(key: string, password: string): Promise<CheckOutcome> {
    this.refresh('lenient');
    const entry = this.entries.get(key);
    if (!entry) return 'missing';
    if (entry.disabled) return 'disabled';
    const id = createHmac('sha256', this.cacheSecret).update(key).update('\0').update(password).digest('base64');
    if (this.verified.get(id) === entry.argon2) return 'ok';
    const good = await this.queued(() => verify(entry.argon2, password));
    if (good === null) return 'busy';
    if (!good) return 'wrong_password';
    // The entry may have been disabled or changed while argon2 ran.
    const current = this.entries.get(key);
    if (!current || current.disabled || current.argon2 !== entry.argon2) return current?.disabled ? 'disabled' : 'wrong_password';
    this.remember(id, entry.argon2);
    return 'ok';
  }

  /**
   * Runs `work` once fewer than CONCURRENT_CHECKS run; null when too many already wait. A gateway that logged in
   * before (cached above) never waits here: a flood of wrong passwords slows new logins, refuses no right one.
   */
  private async queued<T>(work: () => Promise<T>): Promise<T | null> {
    if (this.running < CONCURRENT_CHECKS) {
      this.running++;
    } else {
      if (this.waiting.length >= MAX_WAITING_CHECKS) return null;
      // The slot is handed over by the check that ends (below), so that no newcomer jumps the line.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private remember(id: string, argon2: string): void {
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(id, argon2);
  }

  private update(key: string, change: (entry: CredentialEntry | undefined) => CredentialEntry | undefined): boolean {
    this.refresh('strict');
    const next = change(this.entries.get(key));
    if (!next) return false;
    const entries = new Map(this.entries).set(key, next);
    writeCredentialsFile(this.path, entries);
    this.replace(entries, fileStamp(this.path));
    return true;
  }

  /** Re-reads the file when it changed on disk; 'strict' throws on a bad file, 'lenient' keeps the entries in force. */
  private refresh(mode: 'strict' | 'lenient'): void {
    let stamp: string | undefined;
    try {
      stamp = fileStamp(this.path);
      if (stamp !== this.stamp) this.replace(readCredentialsFile(this.path), stamp);
    } catch (err) {
      const problem = err instanceof CredentialsFileError ? err : new CredentialsFileError(`${this.path}: ${(err as Error).message}`);
      if (mode === 'strict') throw problem;
      // Told once per version of the file, not at every verification.
      if (stamp !== undefined && stamp === this.badStamp) return;
      this.badStamp = stamp;
      this.onProblem(`${problem.message}; the gateway credentials read before stay in force`);
    }
  }

  private replace(entries: ReadonlyMap<string, CredentialEntry>, stamp: string): void {
    this.entries = entries;
    this.stamp = stamp;
    const active = new Set([...entries.values()].filter((e) => !e.disabled).map((e) => e.argon2));
    for (const [id, argon2] of this.verified) if (!active.has(argon2)) this.verified.delete(id);
  }
}
