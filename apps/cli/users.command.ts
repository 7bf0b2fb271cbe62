import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '#libs/contracts/index.js';
import { describeJurisdiction, foldUsername, IdentityStore, MIN_PASSWORD_LENGTH, parseJurisdiction, PasswordTooShort, usernameProblem } from '#libs/identity/index.js';
import { SqliteAuditLog } from '#libs/store-embedded/index.js';
import { type CliIo, exitCodeOf, UsageError } from './cli-io.js';

export const USERS_USAGE = `usage: npm run users -- <command>
  add <username> --role <role> --jurisdiction <where> [--password-stdin | --oidc]
      a user who signs in with a password (from stdin with --password-stdin, else SENTINEL_USER_PASSWORD; at least
      ${MIN_PASSWORD_LENGTH} characters), or with --oidc one who signs in at the OpenID Connect provider
  list
      every user: role, jurisdiction, how they sign in, disabled or not (never a hash)
  passwd <username> [--password-stdin]
      a new password (also unlocks the account and ends the user's sessions)
  set <username> [--role <role>] [--jurisdiction <where>]
  disable <username> | enable <username>
      disabling ends the user's sessions at once
roles: ${ROLES.join(', ')}
where: * (everything), a division code (370000 province, 370800 city, 370811 county), or enterprise codes separated by commas
environment: DATA_DIR (default ./data): the users are in DATA_DIR/identity.db, changes are audited in DATA_DIR/alarms.db`;

function roleOf(text: string | undefined): Role | undefined {
  if (text === undefined) return undefined;
  if (!(ROLES as readonly string[]).includes(text)) throw new UsageError(`--role ${text}: expected one of ${ROLES.join(', ')}`);
  return text as Role;
}

function jurisdictionOf(text: string | undefined) {
  if (text === undefined) return undefined;
  const j = parseJurisdiction(text);
  if (j === null) throw new UsageError(`--jurisdiction ${text}: expected *, a 6-digit division code, or enterprise codes separated by commas`);
  return j;
}

/** `npm run users -- add|list|passwd|set|disable|enable`: the built-in users of DATA_DIR/identity.db, each change audited. */
export function usersCommand(argv: readonly string[], io: CliIo): Promise<number> {
  return exitCodeOf(io, USERS_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { role: { type: 'string' }, jurisdiction: { type: 'string' }, 'password-stdin': { type: 'boolean' }, oidc: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
    if (values.help) {
      io.out(USERS_USAGE);
      return 0;
    }
    const [command, username, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const dataDir = io.env.DATA_DIR || './data';
    const store = new IdentityStore(join(dataDir, 'identity.db'));
    const password = async (): Promise<string> => {
      const given = values['password-stdin'] ? (await io.readStdin()).replace(/\r?\n$/, '') : io.env.SENTINEL_USER_PASSWORD;
      if (given === undefined || given === '') throw new UsageError('no password: pipe it in with --password-stdin or set SENTINEL_USER_PASSWORD');
      return given;
    };
    const needUser = (): string => {
      if (username === undefined) throw new UsageError(`${command ?? ''}: name the user`);
      if (command !== 'add' && !store.findUser(username)) throw new UsageError(`no user ${username}`);
      return username;
    };
    const audited = (change: string, detail: Record<string, unknown>): number => {
      auditChange(dataDir, needUser(), change, detail);
      io.out(`${needUser()}: ${change}`);
      return 0;
    };
    try {
      switch (command) {
        case 'list':
          for (const u of store.listUsers()) io.out(`${u.username}\t${u.role}\t${describeJurisdiction(u.jurisdiction)}\t${u.source}${u.disabled ? '\tdisabled' : ''}`);
          return 0;
        case 'add': {
          const name = needUser();
          if (store.findUser(name)) throw new UsageError(`user ${name} exists; use set, passwd or enable`);
          const problem = usernameProblem(name);
          if (problem !== null) throw new UsageError(problem);
          const lookalike = store.listUsers().find((u) => foldUsername(u.username) === foldUsername(name));
          if (lookalike) throw new UsageError(`user ${lookalike.username} exists: a name differing only in case or form would confuse the audit log`);
          const role = roleOf(values.role);
          const jurisdiction = jurisdictionOf(values.jurisdiction);
          if (role === undefined || jurisdiction === undefined) throw new UsageError('add needs --role and --jurisdiction');
          await store.addUser(values.oidc ? { username: name, role, jurisdiction, source: 'oidc' } : { username: name, role, jurisdiction, password: await password() });
          return audited('created', { role, jurisdiction, source: values.oidc ? 'oidc' : 'local' });
        }
        case 'passwd':
          await store.setPassword(needUser(), await password());
          return audited('password changed; sessions ended', {});
        case 'set': {
          const role = roleOf(values.role);
          const jurisdiction = jurisdictionOf(values.jurisdiction);
          if (role === undefined && jurisdiction === undefined) throw new UsageError('set needs --role or --jurisdiction');
          store.updateUser(needUser(), { ...(role && { role }), ...(jurisdiction && { jurisdiction }) });
          return audited('changed', { ...(role && { role }), ...(jurisdiction && { jurisdiction }) });
        }
        case 'disable':
          store.setDisabled(needUser(), true);
          return audited('disabled; sessions ended', {});
        case 'enable':
          store.setDisabled(needUser(), false);
          return audited('enabled', {});
        default:
          throw new UsageError(command === undefined ? 'no command given' : `unknown command ${command}`);
      }
    } catch (err) {
      if (err instanceof PasswordTooShort) throw new UsageError(err.message);
      throw err;
    } finally {
      store.close();
    }
  });
}

/** The change in the monitor's audit chain, by the operating-system user who ran the command. */
function auditChange(dataDir: string, username: string, change: string, detail: Record<string, unknown>): void {
  const file = join(dataDir, 'alarms.db');
  if (!existsSync(file)) return;
  const log = new SqliteAuditLog(file);
  try {
    log.append([{ at: new Date().toISOString(), actor: `cli:${userInfo().username}`, origin: 'npm run users', action: 'user_changed', alarmId: '', detail: { username, change, ...detail } }]);
  } finally {
    log.close();
  }
}
