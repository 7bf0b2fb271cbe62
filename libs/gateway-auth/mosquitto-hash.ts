import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

// mosquitto 2.0's password file hash (mosquitto_passwd): PBKDF2-SHA512, 101 iterations, 12-byte salt, 64-byte key.
const ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;
const FORMAT = /^\$7\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** `$7$101$<salt base64>$<hash base64>`, the line mosquitto_passwd writes after `username:`. */
export function mosquittoHash(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  const key = pbkdf2Sync(password, salt, ITERATIONS, KEY_BYTES, 'sha512');
  return `$7$${ITERATIONS}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isMosquittoHash(encoded: string): boolean {
  return FORMAT.test(encoded);
}

export function verifyMosquittoHash(encoded: string, password: string): boolean {
  const m = FORMAT.exec(encoded);
  if (!m) return false;
  const expected = Buffer.from(m[3]!, 'base64');
  const actual = pbkdf2Sync(password, Buffer.from(m[2]!, 'base64'), Number(m[1]), expected.length, 'sha512');
  return expected.length > 0 && timingSafeEqual(actual, expected);
}
