import type { GatewayCredentials } from './credentials.store.js';
import { credentialKey, type GatewayIdentity, type GatewayLookup, identityOf, parseGatewayUsername } from './gateway-identity.js';
import { publishRefusal } from './topic-access.js';

export type Authentication = { readonly ok: true; readonly gateway: GatewayIdentity } | { readonly ok: false; readonly reason: string };

const REASONS = {
  wrong_password: 'wrong password',
  disabled: 'its credential is disabled',
  missing: 'no credential set (npm run gateways -- passwd)',
  busy: 'too many logins being checked at once; try again',
} as const;

/** Only a registered gateway with its own password (or certificate) speaks, and only for itself. */
export class GatewayAuthority {
  constructor(
    private readonly lookup: GatewayLookup,
    private readonly credentials: GatewayCredentials,
  ) {}

  async authenticate(username: string, password: string): Promise<Authentication> {
    const identity = parseGatewayUsername(username);
    if (!identity) return { ok: false, reason: `username ${JSON.stringify(username)} is not <enterpriseCode>/<gatewayCode>` };
    const gateway = this.lookup(identity.enterpriseCode, identity.gatewayCode);
    if (!gateway) return { ok: false, reason: `${username} is not a registered gateway` };
    const key = credentialKey(gateway);
    const outcome = await this.credentials.check(key, password);
    return outcome === 'ok' ? { ok: true, gateway: identityOf(gateway) } : { ok: false, reason: `${username} (credential ${key}): ${REASONS[outcome]}` };
  }

  /** A client certificate the broker verified against its CA names the gateway in its subject CN. */
  authenticateCertificate(commonName: string): Authentication {
    const identity = parseGatewayUsername(commonName);
    const gateway = identity && this.lookup(identity.enterpriseCode, identity.gatewayCode);
    if (!gateway) return { ok: false, reason: `certificate CN ${JSON.stringify(commonName)} is not a registered gateway` };
    const key = credentialKey(gateway);
    if (this.credentials.state(key) === 'disabled') return { ok: false, reason: `${commonName} (credential ${key}): ${REASONS.disabled}` };
    return { ok: true, gateway: identityOf(gateway) };
  }

  /** Why `gateway` may not publish to `topic` now, or null when it may. */
  publishRefusal(gateway: GatewayIdentity, topic: string): string | null {
    if (!this.lookup(gateway.enterpriseCode, gateway.gatewayCode)) return `${gateway.enterpriseCode}/${gateway.gatewayCode} is no longer registered`;
    return publishRefusal(gateway, topic);
  }
}
