import { createHash, randomBytes } from 'node:crypto';

/** Opaque bearer tokens: 256 random bits, kept only as a SHA-256 digest, so a copy of the database logs no one in. */
export function newToken(prefix: 'sts' | 'sta'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newId(): string {
  return randomBytes(6).toString('hex');
}
