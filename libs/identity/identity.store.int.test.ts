import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IdentityStore, PasswordTooShort } from './identity.store.js';

const PASSWORD = 'a long enough password';

describe('IdentityStore (SQLite, argon2id)', () => {
  let now = Date.parse('2026-11-30T08:00:00Z');
  const stores: IdentityStore[] = [];
  const open = (file = join(mkdtempSync(join(tmpdir(), 'sentinel-identity-')), 'identity.db')) => {
    const store = new IdentityStore(file, { sessionTtlMs: 3_600_000, maxFailures: 3, lockoutMs: 600_000, now: () => now });
    stores.push(store);
    return store;
  };
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });

  it('keeps passwords as argon2id hashes and tokens as digests only', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sentinel-identity-')), 'identity.db');
    const store = open(file);
    await store.addUser({ username: 'zhao', role: 'viewer', jurisdiction: { all: true }, password: PASSWORD });
    const login = await store.login('zhao', PASSWORD);
    expect(login.ok).toBe(true);
    if (!login.ok) return;
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file, { readonly: true });
    const dump = JSON.stringify([raw.prepare('SELECT * FROM users').all(), raw.prepare('SELECT * FROM tokens').all()]);
    raw.close();
    expect(dump).toContain('$argon2id$');
    expect(dump).not.toContain(PASSWORD);
    expect(dump).not.toContain(login.token);
  });

  it('refuses short passwords', async () => {
    await expect(open().addUser({ username: 'x', role: 'viewer', jurisdiction: { all: true }, password: 'short' })).rejects.toBeInstanceOf(PasswordTooShort);
  });

  it('expires sessions after their lifetime and API tokens at their date', async () => {
    const store = open();
    await store.addUser({ username: 'zhao', role: 'viewer', jurisdiction: { all: true }, password: PASSWORD });
    const login = await store.login('zhao', PASSWORD);
    if (!login.ok) throw new Error('login failed');
    const { token: apiToken } = store.createApiToken({ name: 'screen', role: 'viewer', jurisdiction: { regionCode: '370800' }, createdBy: 'admin', expiresAt: now + 7_200_000 });
    now += 3_599_000;
    expect(store.authenticate(login.token)?.username).toBe('zhao');
    now += 2_000;
    expect(store.authenticate(login.token)).toBeNull();
    expect(store.authenticate(apiToken)?.jurisdiction).toEqual({ regionCode: '370800' });
    now += 3_600_000;
    expect(store.authenticate(apiToken)).toBeNull();
  });

  it('locks after repeated failures until the lock-out ends, then counts afresh; a success resets the count', async () => {
    const store = open();
    await store.addUser({ username: 'li', role: 'supervisor', jurisdiction: { regionCode: '320594' }, password: PASSWORD });
    expect(await store.login('li', 'wrong-password-1')).toMatchObject({ ok: false, reason: 'invalid' });
    expect((await store.login('li', PASSWORD)).ok).toBe(true);
    expect(await store.login('li', 'wrong-password-1')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await store.login('li', 'wrong-password-2')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await store.login('li', 'wrong-password-3')).toMatchObject({ ok: false, reason: 'locked' });
    expect(await store.login('li', PASSWORD)).toMatchObject({ ok: false, reason: 'locked' });
    now += 600_001;
    expect((await store.login('li', PASSWORD)).ok).toBe(true);
  });

  it('takes role and jurisdiction from the user at every request; disabling or a new password ends the sessions', async () => {
    const store = open();
    await store.addUser({ username: 'wang', role: 'viewer', jurisdiction: { all: true }, password: PASSWORD });
    const first = await store.login('wang', PASSWORD);
    if (!first.ok) throw new Error('login failed');
    store.updateUser('wang', { role: 'commander', jurisdiction: { regionCode: '370000' } });
    expect(store.authenticate(first.token)).toMatchObject({ role: 'commander', jurisdiction: { regionCode: '370000' } });
    await store.setPassword('wang', 'another long password');
    expect(store.authenticate(first.token)).toBeNull();
    const second = await store.login('wang', 'another long password');
    if (!second.ok) throw new Error('login failed');
    store.setDisabled('wang', true);
    expect(store.authenticate(second.token)).toBeNull();
    expect(await store.login('wang', 'another long password')).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('gives an unknown user the same answer as a wrong password', async () => {
    expect(await open().login('nobody', PASSWORD)).toEqual({ ok: false, reason: 'invalid' });
  });
});
