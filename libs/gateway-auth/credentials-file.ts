import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { isMosquittoHash } from './mosquitto-hash.js';

export interface CredentialEntry {
  /** argon2id PHC string, checked by the embedded broker. */
  readonly argon2: string;
  /** mosquitto `$7$` hash of the same password, for an external mosquitto (`npm run mosquitto-config`). */
  readonly mosquitto: string;
  readonly disabled: boolean;
  readonly updatedAt: string;
}

const entrySchema = z.strictObject({
  argon2: z.string().startsWith('$argon2id$', 'an argon2id hash ($argon2id$…)'),
  mosquitto: z.string().refine(isMosquittoHash, 'a mosquitto hash ($7$101$<salt>$<hash>)'),
  disabled: z.boolean(),
  updatedAt: z.iso.datetime(),
});
const fileSchema = z.strictObject({ version: z.literal(1), credentials: z.record(z.string().min(1), entrySchema) });

export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';
}

/** Identifies one version of the file on disk: a rename gives a new inode, an edit in place a new time or size. */
export function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/** The entries of the file, none when it does not exist yet; throws CredentialsFileError naming what is wrong. */
export function readCredentialsFile(path: string): Map<string, CredentialEntry> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new CredentialsFileError(`${path}: cannot read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CredentialsFileError(`${path}: not JSON (${(err as Error).message})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new CredentialsFileError(`${path}: ${problems.join('; ')}; expected {"version":1,"credentials":{"<key>":{argon2,mosquitto,disabled,updatedAt}}}`);
  }
  return new Map(Object.entries(parsed.data.credentials));
}

/** Replaces the file at once, readable by its owner only. */
export function writeCredentialsFile(path: string, entries: ReadonlyMap<string, CredentialEntry>): void {
  const credentials = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeFileAtomically(path, `${JSON.stringify({ version: 1, credentials }, null, 2)}\n`, 0o600);
}

/** A reader sees the old content or the new, never a part: temp file in the same directory, fsync, rename. */
export function writeFileAtomically(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  let open = true;
  try {
    fchmodSync(fd, mode);
    writeFileSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(temp, path);
  } catch (err) {
    if (open) closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
}
