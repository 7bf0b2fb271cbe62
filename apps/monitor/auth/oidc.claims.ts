import type { IDToken, JsonValue } from 'openid-client';
import { ROLES, type Jurisdiction, type Role, type UserRecord, type UserView } from '#libs/contracts/index.js';
import type { OidcConfig } from '#libs/config/index.js';
import { parseJurisdiction } from '#libs/identity/index.js';

const MAX_USERNAME = 100;

export type OidcIdentity =
  | { readonly ok: true; readonly user: UserView; readonly change: 'created' | 'updated' | null }
  | { readonly ok: false; readonly username: string; readonly reason: string };

/**
 * Who an ID token makes the caller in Sentinel: the user named by `preferred_username` (else `sub`), with the role
 * and jurisdiction its claims carry, each falling back to what an admin set on the Sentinel user of that name.
 */
export function identityOf(claims: IDToken, config: OidcConfig, findUser: (username: string) => UserRecord | undefined): OidcIdentity {
  const preferred = present(claims.preferred_username);
  const username = typeof preferred === 'string' ? preferred : claims.sub;
  const refuse = (reason: string): OidcIdentity => ({ ok: false, username, reason });
  if (username.length > MAX_USERNAME) return refuse(`the user name has more than ${MAX_USERNAME} characters`);
  const existing = findUser(username);
  // A password account belongs to Sentinel alone: if the provider could sign in as it, whoever can choose their
  // preferred_username there (or take over the provider) would become `admin` or any other local user here.
  if (existing?.source === 'local') return refuse(`${username} is a local account of Sentinel: sign in with its password`);
  if (existing?.disabled === true) return refuse(`the account ${username} is disabled`);

  const roleClaim = present(claims[config.roleClaim]);
  let role: Role | undefined = existing?.role;
  if (roleClaim !== undefined) {
    if (typeof roleClaim !== 'string' || !(ROLES as readonly string[]).includes(roleClaim)) return refuse(`claim ${config.roleClaim} is not one of the roles ${ROLES.join(', ')}`);
    role = roleClaim as Role;
  }
  const jurisdictionClaim = present(claims[config.jurisdictionClaim]);
  let jurisdiction: Jurisdiction | undefined = existing?.jurisdiction;
  if (jurisdictionClaim !== undefined) {
    const parsed = jurisdictionText(jurisdictionClaim);
    if (parsed === null) return refuse(`claim ${config.jurisdictionClaim} is not a jurisdiction (*, a 6-digit division code, or enterprise codes separated by commas)`);
    jurisdiction = parsed;
  }
  if (role === undefined || jurisdiction === undefined) {
    return refuse(`no role or jurisdiction for ${username}: the ID token lacks ${role === undefined ? config.roleClaim : config.jurisdictionClaim} and no Sentinel user of that name gives it`);
  }

  const user: UserView = { username, role, jurisdiction };
  if (existing === undefined) return { ok: true, user, change: 'created' };
  const same = existing.role === role && JSON.stringify(existing.jurisdiction) === JSON.stringify(jurisdiction);
  return { ok: true, user, change: same ? null : 'updated' };
}

/** Providers that cannot leave a claim out often send it empty. */
function present(value: JsonValue | undefined): JsonValue | undefined {
  return value === null || value === '' ? undefined : value;
}

/** A jurisdiction claim as text, or as a list of enterprise codes (multi-valued attributes arrive as arrays). */
function jurisdictionText(value: JsonValue): Jurisdiction | null {
  if (typeof value === 'string') return parseJurisdiction(value);
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return parseJurisdiction(value.join(','));
  return null;
}
