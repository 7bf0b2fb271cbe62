import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialsFileError } from './credentials-file.js';
import { GatewayCredentials, PasswordTooShort } from './credentials.store.js';
import { verifyMosquittoHash } from './mosquitto-hash.js';

const argon2Verifications = vi.hoisted(() => ({ count: 0, running: 0, peak: 0 }));
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof import('@node-rs/argon2')>();
  return {
    ...real,
    verify: async (...args: Parameters<typeof real.verify>) => {
      argon2Verifications.count++;
      argon2Verifications.peak = Math.max(argon2Verifications.peak, ++argon2Verifications.running);
      try {
        return await real.verify(...args);
      } finally {
        argon2Verifications.running--;
      }
    },
  };
});

describe('GatewayCredentials', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-credentials-'));
    path = join(dir, 'data', 'gateway-credentials.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty without a file, and writes one readable by its owner only, holding hashes, never the password', async () => {
    const store = GatewayCredentials.load(path, { now: () => new Date('2026-01-02T03:04:05.000Z') });
    expect(store.list()).toEqual([]);
    await store.setPassword('suzhou-gw01', 'correct horse battery');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('correct horse battery');
    const file = JSON.parse(text) as { version: number; credentials: Record<string, { argon2: string; mosquitto: string; disabled: boolean; updatedAt: string }> };
    expect(file.version).toBe(1);
    const entry = file.credentials['suzhou-gw01']!;
    expect(entry.argon2).toMatch(/^\$argon2id\$v=19\$/);
    expect(entry.mosquitto).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(verifyMosquittoHash(entry.mosquitto, 'correct horse battery')).toBe(true);
    expect(store.list()).toEqual([{ key: 'suzhou-gw01', disabled: false, updatedAt: '2026-01-02T03:04:05.000Z' }]);
  });

  it('verifies passwords, and refuses short ones when set', async () => {
    const store = GatewayCredentials.load(path);
    await expect(store.setPassword('k', 'eleven-char')).rejects.toThrow(PasswordTooShort);
    await store.setPassword('k', 'twelve-chars');
    expect(await store.check('k', 'twelve-chars')).toBe('ok');
    expect(await store.check('k', 'twelve-charz')).toBe('wrong_password');
    expect(await store.check('other', 'twelve-chars')).toBe('missing');
  });

  it('checks at most two passwords at a time: a burst of guesses waits in line and the right password still gets in', async () => {
    const store = GatewayCredentials.load(path);
    await store.setPassword('k', 'the right password');
    argon2Verifications.peak = 0;
    const guesses = Array.from({ length: 12 }, (_, i) => store.check('k', `wrong password ${i}`));
    const right = store.check('k', 'the right password');
    expect(await Promise.all(guesses)).toEqual(Array.from({ length: 12 }, () => 'wrong_password'));
    expect(await right).toBe('ok');
    expect(argon2Verifications.peak).toBe(2);
  });

  it('remembers a verified password until its entry changes or is disabled', async () => {
    const store = GatewayCredentials.load(path);
    await store.setPassword('k', 'first-password');
    argon2Verifications.count = 0;
    for (let i = 0; i < 100; i++) expect(await store.verify('k', 'first-password')).toBe(true);
    expect(await store.verify('k', 'wrong-password')).toBe(false);
    expect(await store.verify('k', 'wrong-password')).toBe(false);
    expect(argon2Verifications.count).toBe(3);

    await store.setPassword('k', 'second-password');
    expect(await store.verify('k', 'first-password')).toBe(false);
    expect(await store.verify('k', 'second-password')).toBe(true);
    expect(await store.verify('k', 'second-password')).toBe(true);
    expect(argon2Verifications.count).toBe(5);
    expect(store.disable('k')).toBe(true);
    expect(await store.check('k', 'second-password')).toBe('disabled');
    expect(store.disable('unknown')).toBe(false);
  });

  it("reads another process's change of the file at the next check, and keeps the old entries when the file turns bad", async () => {
    const problems: string[] = [];
    const app = GatewayCredentials.load(path, { onProblem: (p) => problems.push(p) });
    const cli = GatewayCredentials.load(path);
    await cli.setPassword('k', 'first-password');
    expect(await app.verify('k', 'first-password')).toBe(true);
    await cli.setPassword('k', 'second-password');
    expect(await app.verify('k', 'first-password')).toBe(false);
    expect(await app.verify('k', 'second-password')).toBe(true);
    cli.disable('k');
    expect(await app.verify('k', 'second-password')).toBe(false);

    writeFileSync(path, '{"version":1,"credentials":{"k":{"argon2":"x"}}}');
    expect(app.state('k')).toBe('disabled');
    expect(app.state('k')).toBe('disabled');
    expect(problems).toEqual([expect.stringContaining('the gateway credentials read before stay in force')]);
    expect(problems[0]).toContain('credentials.k.argon2');
    expect(() => GatewayCredentials.load(path)).toThrow(CredentialsFileError);
    writeFileSync(path, 'not json');
    expect(() => GatewayCredentials.load(path)).toThrow(/not JSON/);
    await expect(app.setPassword('k', 'third-password')).rejects.toThrow(CredentialsFileError);
  });
});
