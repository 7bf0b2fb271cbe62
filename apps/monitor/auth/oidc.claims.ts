import type { IDToken, JsonValue } from 'openid-client';
import { ROLES, type Jurisdiction, type Role, type UserRecord, type UserView } from '#libs/contracts/index.js';
import type { OidcConfig } from '#libs/config/index.js';
import { foldUsername, parseJurisdiction, usernameProblem } from '#libs/identity/index.js';

export type OidcIdentity =
  | {
      readonly ok: true;
      readonly user: UserView;
      readonly change: 'created' | 'updated' | null;
      /** `<issuer> <sub>`: the provider's account this user is (bound at the first sign-in). */
      readonly subject: string;
      /** Whether role and jurisdiction came from the claims of this token. */
      readonly fromClaims: boolean;
    }
  | { readonly ok: false; readonly username: string; readonly reason: string };

/**
 * Who an ID token makes the caller in Sentinel: the user named by `preferred_username` (else `sub`), bound at its
 * first sign-in to the provider's account (`iss` + `sub`), with the role and jurisdiction its claims carry, or
 * else those an admin set on the Sentinel user of that name.
 */
export function identityOf(claims: IDToken, config: OidcConfig, users: { find(username: string): UserRecord | undefined; all(): readonly UserRecord[] }): OidcIdentity {
  const preferred = present(claims.preferred_username);
  const username = typeof preferred === 'string' ? preferred : claims.sub;
  const subject = `${claims.iss} ${claims.sub}`;
  const refuse = (reason: string): OidcIdentity => ({ ok: false, username: username.slice(0, 100), reason });
  const problem = usernameProblem(username);
  if (problem !== null) return refuse(problem);
  const existing = users.find(username);
  const folded = foldUsername(username);
  const lookalike = users.all().find((u) => u.username !== username && foldUsername(u.username) === folded);
  if (lookalike) return refuse(`the user name ${username} differs from the existing ${lookalike.username} only in case or form`);
  // A password account belongs to Sentinel alone: if the provider could sign in as it, whoever can choose their
  // preferred_username there (or take over the provider) would become `admin` or any other local user here.
  if (existing?.source === 'local') return refuse(`${username} is a local account of Sentinel: sign in with its password`);
  if (existing?.disabled === true) return refuse(`the account ${username} is disabled`);
  // preferred_username is neither unique nor stable at every provider: once bound, the name stays with its account.
  if (existing?.oidcSubject != null && existing.oidcSubject !== subject) return refuse(`${username} belongs to another account at the identity provider`);

  const roleClaim = present(claims[config.roleClaim]);
  const jurisdictionClaim = present(claims[config.jurisdictionClaim]);
  const fromClaims = roleClaim !== undefined || jurisdictionClaim !== undefined;
  // Values the claims once gave are not a fallback: a role taken away at the provider must not live on here.
  const fallback = existing !== undefined && !existing.fromClaims ? existing : undefined;
  let role: Role | undefined = fallback?.role;
  if (roleClaim !== undefined) {
    if (typeof roleClaim !== 'string' || !(ROLES as readonly string[]).includes(roleClaim)) return refuse(`claim ${config.roleClaim} is not one of the roles ${ROLES.join(', ')}`);
    role = roleClaim as Role;
  }
  let jurisdiction: Jurisdiction | undefined = fallback?.jurisdiction;
  if (jurisdictionClaim !== undefined) {
    const parsed = jurisdictionText(jurisdictionClaim);
    if (parsed === null) return refuse(`claim ${config.jurisdictionClaim} is not a jurisdiction (*, a 6-digit division code, or enterprise codes separated by commas)`);
    jurisdiction = parsed;
  }
  if (role === undefined || jurisdiction === undefined) {
    return refuse(`no role or jurisdiction for ${username}: the ID token lacks ${role === undefined ? config.roleClaim : config.jurisdictionClaim} and no admin set it on a Sentinel user of that name`);
  }

  const user: UserView = { username, role, jurisdiction };
  if (existing === undefined) return { ok: true, user, change: 'created', subject, fromClaims };
  const same = existing.role === role && JSON.stringify(existing.jurisdiction) === JSON.stringify(jurisdiction) && existing.fromClaims === fromClaims;
  return { ok: true, user, change: same ? null : 'updated', subject, fromClaims };
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
