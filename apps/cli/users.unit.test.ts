import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityStore } from '#libs/identity/index.js';
import { SqliteAuditLog } from '#libs/store-embedded/index.js';
import type { CliIo } from './cli-io.js';
import { usersCommand } from './users.command.js';

describe('npm run users', () => {
  let dataDir: string;
  const run = async (argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { env: { DATA_DIR: dataDir }, readStdin: () => Promise.resolve(stdin), out: (l) => out.push(l), err: (l) => err.push(l) };
    const code = await usersCommand(argv, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-users-cli-'));
    mkdirSync(dataDir, { recursive: true });
    new SqliteAuditLog(join(dataDir, 'alarms.db')).close();
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('adds, lists, changes, disables and re-enables a user, each change audited', async () => {
    expect(await run(['add', 'zhao', '--role', 'enterprise_operator', '--jurisdiction', '91320594MA1WKTRP3E', '--password-stdin'], 'zhao password 1\n')).toMatchObject({ code: 0, out: 'zhao: created' });
    expect((await run(['list'])).out).toBe('zhao\tenterprise_operator\t91320594MA1WKTRP3E\tlocal');
    expect((await run(['set', 'zhao', '--role', 'supervisor', '--jurisdiction', '370800'])).code).toBe(0);
    expect((await run(['passwd', 'zhao', '--password-stdin'], 'another password 2')).code).toBe(0);
    expect((await run(['disable', 'zhao'])).code).toBe(0);
    expect((await run(['list'])).out).toBe('zhao\tsupervisor\t370800\tlocal\tdisabled');
    expect((await run(['enable', 'zhao'])).code).toBe(0);
    expect((await run(['add', 'sso.li', '--role', 'viewer', '--jurisdiction', '*', '--oidc'])).code).toBe(0);

    const store = new IdentityStore(join(dataDir, 'identity.db'));
    try {
      expect((await store.login('zhao', 'another password 2')).ok).toBe(true);
      expect(store.findUser('sso.li')).toMatchObject({ source: 'oidc', jurisdiction: { all: true } });
    } finally {
      store.close();
    }
    const audit = new SqliteAuditLog(join(dataDir, 'alarms.db'));
    try {
      const entries = audit.list({ offset: 0, limit: 100 }).items;
      expect(entries.map((e) => [e.action, e.detail.username, e.detail.change])).toEqual([
        ['user_changed', 'zhao', 'created'],
        ['user_changed', 'zhao', 'changed'],
        ['user_changed', 'zhao', 'password changed; sessions ended'],
        ['user_changed', 'zhao', 'disabled; sessions ended'],
        ['user_changed', 'zhao', 'enabled'],
        ['user_changed', 'sso.li', 'created'],
      ]);
      expect(entries.every((e) => e.actor.startsWith('cli:') && e.origin === 'npm run users')).toBe(true);
      expect(audit.verify().ok).toBe(true);
    } finally {
      audit.close();
    }
  });

  it('refuses bad input with a reason and exit code 2', async () => {
    const short = await run(['add', 'li', '--role', 'viewer', '--jurisdiction', '*', '--password-stdin'], 'short');
    expect(short.code).toBe(2);
    expect(short.err).toMatch(/at least 12 characters/);
    expect((await run(['add', 'li', '--role', 'boss', '--jurisdiction', '*'])).err).toMatch(/--role boss: expected one of viewer, enterprise_operator/);
    expect((await run(['add', 'li', '--role', 'viewer', '--jurisdiction', 'somewhere!'])).err).toMatch(/--jurisdiction somewhere!: expected \*, a 6-digit division code/);
    expect((await run(['passwd', 'nobody', '--password-stdin'], 'long enough password')).err).toMatch(/no user nobody/);
    expect((await run(['frobnicate'])).code).toBe(2);
  });
});
