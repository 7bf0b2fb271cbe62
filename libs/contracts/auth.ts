// Who may act: roles, jurisdictions and the authenticated subject of a request.

/**
 * Operators' roles, least to most: `viewer` reads; `enterprise_operator` (企业值班) handles its enterprise's alarms and
 * disposes them; `supervisor` (县/市监管) acknowledges escalated alarms, comments, assigns and shelves in its region;
 * `commander` (指挥中心) does all of that and takes points out of service; `admin` manages users, tokens and the
 * registry. `metrics` is for machine clients that may only scrape /metrics.
 */
export type Role = 'viewer' | 'enterprise_operator' | 'supervisor' | 'commander' | 'admin' | 'metrics';
export const ROLES: readonly Role[] = ['viewer', 'enterprise_operator', 'supervisor', 'commander', 'admin', 'metrics'];

/** Where a subject may look and act: everything, a division (province, city or county code) or listed enterprises. */
export type Jurisdiction = { readonly all: true } | { readonly regionCode: string } | { readonly enterpriseCodes: readonly string[] };

export interface UserView {
  readonly username: string;
  readonly role: Role;
  readonly jurisdiction: Jurisdiction;
}

export interface UserRecord extends UserView {
  /** `local`: a password kept here (argon2id); `oidc`: signs in at the identity provider. */
  readonly source: 'local' | 'oidc';
  /** An OIDC user's account at the provider (`<issuer> <sub>`), bound at its first sign-in; null before. */
  readonly oidcSubject: string | null;
  /** Whether role and jurisdiction came from ID token claims (then a token without them is refused) or from an admin. */
  readonly fromClaims: boolean;
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** An authenticated caller: a person's session or a machine's API token, with what it may do and where. */
export interface Subject extends UserView {
  /** `session:<id>` or `token:<id>`: what the audit log names next to the user. */
  readonly tokenId: string;
  readonly kind: 'session' | 'api_token';
  readonly expiresAt: string | null;
}

export interface ApiTokenView {
  readonly id: string;
  readonly name: string;
  readonly createdBy: string;
  readonly role: Role;
  readonly jurisdiction: Jurisdiction;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}
